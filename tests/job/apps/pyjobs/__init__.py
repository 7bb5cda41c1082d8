# A job executor and a task worker in the harness's Python subset, for the worker
# tests: each run is recorded in `py_run`; payloads may ask for a failure or an exit,
# or for a pause after the record (a kill then finds the run under way).

import sys
import time

from rex.asynctask import AsyncTaskWorker
from rex.core import Error
from rex.db import get_db
from rex.job import JobExecutor


def record(kind, n):
    get_db().produce("/{$kind :as kind, $n :as n} :as py_run/:insert", kind=kind, n=n)


class RecordingExecutor(JobExecutor):
    name = 'py_record'

    def execute(self, code, owner, payload):
        if payload.get('fail'):
            raise Error('failed as asked: %s' % code)
        record('job', code)
        time.sleep(payload.get('pause', 0))
        print('job', code, 'done')


class NoopExecutor(JobExecutor):
    name = 'py_noop'

    def execute(self, code, owner, payload):
        pass


class RecordingWorker(AsyncTaskWorker):
    name = 'py_task'

    def process(self, payload):
        if payload.get('exit'):
            print('task exits')
            sys.exit()
        if payload.get('fail'):
            raise ValueError('task failed as asked')
        record('task', payload['n'])
        time.sleep(payload.get('pause', 0))
        self.logger.info('task %s done', payload['n'])


class SleepingExecutor(JobExecutor):
    name = 'py_sleep'

    def execute(self, code, owner, payload):
        import time
        time.sleep(payload['sleep'])
        record('slept', code)

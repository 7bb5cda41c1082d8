# Task workers of the scheduler test, in the harness's Python subset.

import sys
import time

from rex.asynctask import AsyncTaskWorker, get_transport


class TickWorker(AsyncTaskWorker):
    """Runs on the schedule: says when, and gives `crashy` a task."""

    name = 'tick'

    def process(self, payload):
        now = time.time()
        print('TICK %.3f' % now)
        get_transport().submit_task('work', {'at': now})


processed = [0]


class CrashWorker(AsyncTaskWorker):
    """Ends its own process on every third task it gets."""

    name = 'crashy'

    def process(self, payload):
        processed[0] += 1
        if processed[0] % 3 == 0:
            print('CRASH')
            sys.exit()
        print('WORK')

# Executors of rex.job's demo application, in the harness's Python subset.
# A JobExecutor subclass with a `name` runs the jobs whose `type` is that name.

import time

from rex.core import Error
from rex.job import JobExecutor


class FastExecutor(JobExecutor):
    """Finishes at once."""

    name = 'demo_fast'

    def execute(self, code, owner, payload):
        self.logger.info('FastExecutor executed!')


class SlowExecutor(JobExecutor):
    """Takes its time (`sleep` seconds of the payload, 5 by default), then records
    the payload's `foo` in the job's `slow` facet."""

    name = 'demo_slow'

    def execute(self, code, owner, payload):
        time.sleep(payload.get('sleep', 5))
        self.update_facet('slow', code, my_value=payload['foo'])
        self.logger.info('SlowExecutor executed!')


class FragileExecutor(JobExecutor):
    """Always fails."""

    name = 'demo_fragile'

    def execute(self, code, owner, payload):
        raise Error('I crashed :(')

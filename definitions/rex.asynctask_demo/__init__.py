# Task workers of rex.asynctask's demo application, in the harness's Python subset.
# An AsyncTaskWorker subclass with a `name` processes the queues that
# `asynctask_workers` assigns to that name.

import sys

from rex.asynctask import AsyncTaskWorker


class FooWorker(AsyncTaskWorker):
    name = 'demo_foo_worker'

    def process(self, payload):
        print('FOO processed: %r' % (payload,))


class BarWorker(AsyncTaskWorker):
    name = 'demo_bar_worker'

    def process(self, payload):
        print('BAR processed: %r' % (payload,))


class BazWorker(AsyncTaskWorker):
    name = 'demo_baz_worker'

    def process(self, payload):
        print('BAZ processed: %r' % (payload,))


class LoggingWorker(AsyncTaskWorker):
    """Reports what it gets through its logger only."""

    name = 'demo_logging_worker'

    def process(self, payload):
        self.logger.info('Logging Worker received: %r', payload)


class QuietWorker(AsyncTaskWorker):
    """Does nothing and says nothing."""

    name = 'demo_quiet_worker'

    def process(self, payload):
        return None


class ErrorWorker(AsyncTaskWorker):
    """Raises when the payload asks for an error."""

    name = 'demo_error_worker'

    def process(self, payload):
        if payload['error']:
            raise Exception('Oops!')
        print('ERROR processed: %r' % (payload,))


class FragileWorker(AsyncTaskWorker):
    """Ends its own process (sys.exit) when the payload says so."""

    name = 'demo_fragile_worker'

    def process(self, payload):
        if payload['die']:
            print('FRAGILE DYING!')
            sys.exit()
        print('FRAGILE processed: %r' % (payload,))


class RequeueWorker(AsyncTaskWorker):
    """Puts a follow-up task back into its queue once."""

    name = 'requeue_worker'

    def process(self, payload):
        print('REQUEUE processed: %r' % (payload,))
        if payload['foo'] == 1:
            self.requeue({'foo': 2})
            print('REQUEUE requeued')

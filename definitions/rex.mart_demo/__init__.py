# The demo application's own mart rules, in the harness's Python subset. A subclass
# of rex.mart's MartAccessPermissions or MartQuota here is what `top()` answers for
# this application, and what every mart creation of it consults.

from rex.core import StrVal
from rex.mart import Mart, MartAccessPermissions, MartQuota, Processor


# The definitions every user may see; the owner `test` sees them all.
SHARED_DEFINITIONS = ('some_data', 'some_more_data', 'empty', 'broken_sql', 'some_parameters')


class DemoMartAccessPermissions(MartAccessPermissions):

    @classmethod
    def user_can_access_definition(cls, user, definition_or_id):
        if user == 'test':
            return True
        if isinstance(definition_or_id, str):
            definition_id = definition_or_id
        else:
            definition_id = definition_or_id['id']
        return definition_id in SHARED_DEFINITIONS

    @classmethod
    def user_can_manage_mart(cls, user, mart_or_id):
        mart = mart_or_id
        if not isinstance(mart, Mart):
            mart = cls.get_mart(mart_or_id, user)
            if not mart:
                return False
        return mart.definition_id == 'some_data'


class DemoMartQuota(MartQuota):

    @classmethod
    def can_create_mart(cls, owner, definition):
        # `cmdtest` is the owner the command-line tests are refused with.
        if owner == 'cmdtest' and definition['id'] == 'some_more_data':
            return False
        return MartQuota.can_create_mart(owner, definition)

    @classmethod
    def reap_marts(cls, owner, definition):
        # The marts of `test` stay, however many there are.
        if owner == 'test':
            return []
        return MartQuota.reap_marts(owner, definition)


# Two processors that do nothing: definitions of the demo name them to show how a
# processor's options are declared and checked.

class MyProcessor(Processor):
    name = 'myproc'

    def execute(self, options, interface):
        return None


class OtherProcessor(Processor):
    name = 'otherproc'

    # `foo` must be given; `bar` may be left out (then None).
    options = (
        ('foo', StrVal()),
        ('bar', StrVal(), None),
    )

    def execute(self, options, interface):
        return None

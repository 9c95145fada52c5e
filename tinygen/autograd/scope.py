"""Module scopes: which ``nn.Module`` calls an op ran inside, so a drawing can group its nodes.

``nn.Module.__call__`` runs ``forward`` inside ``module_scope(self)``. While some module call is
open, every node ``Function.apply`` records keeps the open calls as ``node.scope``: a tuple of
``(module, call_number)`` pairs, outermost call first. The tuple is built once per module call
and shared by all nodes made in it, so recording costs one attribute store; outside any module
call it costs one test of a module variable (``function._scope``). ``tinygen.viz`` reads the
scopes to draw each module call as one box.

A module called twice (a discriminator on real and on fake images) leaves two different call
numbers, so the two calls stay two boxes. The stack is one per process, not per thread: a test
of a module variable costs a quarter of a thread-local lookup, and models run in one thread.
"""

import itertools

from tinygen.autograd import function

_call_numbers = itertools.count()


class module_scope:
    """Context manager: ops recorded inside belong to one call of ``module``."""

    __slots__ = ("module", "previous")

    def __init__(self, module):
        self.module = module

    def __enter__(self):
        self.previous = function._scope
        function._scope = self.previous + ((self.module, next(_call_numbers)),)
        return self

    def __exit__(self, *exc):
        function._scope = self.previous


def current_scope():
    """The open module calls, outermost first (empty outside any module call)."""
    return function._scope

"""Grad modes as decorators, as PyTorch has them: without parentheses, on generator functions,
and ``inference_mode``. (The context-manager basics are tested in test_engine.py.)"""

import pytest

import tinygen as tg

MODES = [(lambda: tg.no_grad(), False), (lambda: tg.enable_grad(), True),
         (lambda: tg.set_grad_enabled(False), False), (lambda: tg.set_grad_enabled(True), True),
         (lambda: tg.inference_mode(), False), (lambda: tg.inference_mode(False), True)]
IDS = ["no_grad", "enable_grad", "set_false", "set_true", "inference", "inference_false"]


@pytest.mark.parametrize("decorator, records", [(tg.no_grad, False), (tg.enable_grad, True),
                                                (tg.inference_mode, False)],
                         ids=["no_grad", "enable_grad", "inference_mode"])
def test_decorator_without_parentheses(decorator, records):
    @decorator
    def double(t):
        """Doubles."""
        return t * 2

    x = tg.ones(2, requires_grad=True)
    with tg.set_grad_enabled(not records):
        assert double(x).requires_grad is records
    assert double.__name__ == "double" and double.__doc__ == "Doubles."
    assert tg.is_grad_enabled()


@pytest.mark.parametrize("make, records", MODES, ids=IDS)
def test_generator_body_runs_in_the_mode_and_the_caller_in_its_own(make, records):
    seen = []

    @make()
    def items(t):
        seen.append(tg.is_grad_enabled())
        yield t * 2
        seen.append(tg.is_grad_enabled())          # resumed in the mode again
        yield t * 3

    x = tg.ones(2, requires_grad=True)
    with tg.set_grad_enabled(not records):
        outer = tg.is_grad_enabled()
        for _ in items(x):
            assert tg.is_grad_enabled() is outer   # between items: the caller's mode
        got = [t.requires_grad for t in items(x)]
    assert got == [records, records]
    assert seen == [records] * 4
    assert tg.is_grad_enabled()


def test_generator_send_throw_close_and_return_value():
    @tg.no_grad()
    def echo():
        received = []
        try:
            while True:
                value = yield tg.is_grad_enabled()
                if value == "stop":
                    return received
                received.append(value)
        except KeyError:
            yield "caught in no_grad" if not tg.is_grad_enabled() else "caught with grad"

    gen = echo()
    assert next(gen) is False
    assert gen.send(1) is False
    assert gen.throw(KeyError("k")) == "caught in no_grad"
    gen.close()
    gen = echo()
    next(gen)
    gen.send(7)
    with pytest.raises(StopIteration) as stop:
        gen.send("stop")
    assert stop.value.value == [7]
    assert tg.is_grad_enabled()


def test_inference_mode_is_no_grad_here():
    x = tg.ones(2, requires_grad=True)
    with tg.inference_mode():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.inference_mode(False):             # as in PyTorch: turns recording back on
            assert (x * 2).requires_grad
    assert not y.requires_grad and tg.is_grad_enabled()
    assert tg.inference_mode is tg.autograd.inference_mode


def test_decorated_function_restores_the_mode_after_an_error():
    @tg.no_grad
    def fail():
        raise KeyError("inside")

    with pytest.raises(KeyError):
        fail()
    assert tg.is_grad_enabled()

"""tinygen.autograd.graph: saved-tensor hooks (calls and arguments as PyTorch's, nesting, checks
on what unpack returns, save_on_cpu, disabling, gradients through them) and the Node API of
grad_fn objects (names, next_functions, metadata, hooks, increment_version)."""

import threading

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.autograd.graph import (
    Node, disable_saved_tensors_hooks, increment_version, save_on_cpu, saved_tensors_hooks)


def make_scaled_exp(lib):
    """y = exp(x) * s, saving the input x, the output y and s, in that order."""
    class ScaledExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, s):
            y = x.exp() * s
            ctx.save_for_backward(x, y, s)
            return y

        @staticmethod
        def backward(ctx, grad):
            x, y, s = ctx.saved_tensors
            return grad * y, grad * y / s
    return ScaledExp


def record_hooks(lib, x, s):
    """The hooks' calls while y = ScaledExp(x, s) is made and backpropagated."""
    calls = []

    def pack(t):
        calls.append(("pack", t is x, t is s, t.grad_fn is not None, tuple(t.shape)))
        return ("box", t)

    def unpack(packed):
        calls.append(("unpack", packed[0]))
        return packed[1]

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = make_scaled_exp(lib).apply(x, s)
    calls.append("forward done")
    y.sum().backward()
    return calls, x.grad.numpy(), s.grad.numpy()


def test_pack_and_unpack_calls_and_arguments_match_torch(rng):
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal(3), rng.uniform(1, 2, 3)
    x, s = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    calls, gx, gs = record_hooks(tg, x, s)
    tx, ts = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    want, wx, ws = record_hooks(torch, tx, ts)
    assert calls == want
    assert calls[:3] == [("pack", True, False, False, (3,)), ("pack", False, False, True, (3,)),
                         ("pack", False, True, False, (3,))]
    np.testing.assert_allclose(gx, np.exp(a) * b, rtol=1e-14)
    np.testing.assert_allclose(gx, wx, rtol=1e-14)
    np.testing.assert_allclose(gs, ws, rtol=1e-14)


def test_built_in_ops_save_through_the_hooks_and_no_grad_saves_nothing(rng):
    x = tg.tensor(rng.standard_normal(4), requires_grad=True)
    packed, unpacked = [], []
    with saved_tensors_hooks(lambda t: packed.append(t) or len(packed) - 1,
                             lambda i: unpacked.append(i) or packed[i]):
        y = x.exp()                           # saves its output
        with tg.no_grad():
            x.tanh()                          # records nothing, saves nothing
    assert len(packed) == 1 and packed[0].grad_fn is y.grad_fn
    y.sum().backward()
    assert unpacked == [0]
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()), rtol=1e-14)


def test_hooks_nest_and_the_innermost_pair_applies(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    seen = []

    def tagged(tag):
        return (lambda t: seen.append(("pack", tag)) or t,
                lambda t: seen.append(("unpack", tag)) or t)

    with saved_tensors_hooks(*tagged("outer")):
        a = x.exp()
        with saved_tensors_hooks(*tagged("inner")):
            b = a.exp()
        c = b.exp()
    d = c.exp()                               # no hook: nothing recorded
    d.sum().backward()
    assert seen == [("pack", "outer"), ("pack", "inner"), ("pack", "outer"),
                    ("unpack", "outer"), ("unpack", "inner"), ("unpack", "outer")]


def test_hooks_apply_to_the_thread_that_opened_them(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    packed = []
    with saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        worker = threading.Thread(target=lambda: x.exp())
        worker.start()
        worker.join()
        assert packed == []
        x.exp()
    assert len(packed) == 1


def test_unpack_must_return_a_tensor_of_the_saved_shape_and_dtype(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    for unpack, error, match in [(lambda t: 3, TypeError, "expected to be a Tensor but got "
                                  "result of type int"),
                                 (lambda t: t[:1], RuntimeError, r"shape \(1,\).*shape \(3,\)"),
                                 (lambda t: t.float(), RuntimeError, "dtype")]:
        with saved_tensors_hooks(lambda t: t, unpack):
            y = x.exp().sum()
        with pytest.raises(error, match=match):
            y.backward()


def test_the_packed_object_may_be_anything_and_backward_uses_what_unpack_gives(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    with saved_tensors_hooks(lambda t: {"values": t.detach().numpy().copy()},
                             lambda d: tg.tensor(2 * d["values"])):
        y = x.exp()                           # backward: grad * (its saved output, doubled)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.detach().numpy()), rtol=1e-14)


def copying_hooks():
    """Hooks that hand backward new tensors, so each must be relinked into the graph."""
    return saved_tensors_hooks(lambda t: t.detach().numpy().copy(), lambda a: tg.tensor(a))


def test_gradcheck_and_gradgradcheck_through_hooks(rng):
    x = tg.tensor(rng.uniform(0.5, 1.5, (2, 3)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def fn(a, b):
        return ((a @ b).tanh() * a.sum(1, keepdim=True)).exp()

    for hooks in (lambda: saved_tensors_hooks(lambda t: t, lambda t: t), copying_hooks):
        with hooks():
            assert gradcheck(fn, (x, w))
            assert gradgradcheck(fn, (x, w))


def test_save_on_cpu_gives_the_same_gradients(rng):
    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    with save_on_cpu(pin_memory=True):
        (x @ w).sigmoid().pow(2).sum().backward()
    got = x.grad.numpy().copy(), w.grad.numpy().copy()
    x.grad = w.grad = None
    (x @ w).sigmoid().pow(2).sum().backward()
    np.testing.assert_array_equal(got[0], x.grad.numpy())
    np.testing.assert_array_equal(got[1], w.grad.numpy())
    h = x * 1
    with save_on_cpu():
        y = (h * h).sum()                     # saves h itself
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("no hooks in this block"):
        with pytest.raises(RuntimeError, match="no hooks in this block"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        with pytest.raises(RuntimeError, match="not while hooks"):
            with disable_saved_tensors_hooks("not while hooks"):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):    # usable again
        pass


def node_summary(node, depth=5):
    """(name without PyTorch's trailing digit, [summary of each next function]) to ``depth``."""
    if node is None:
        return None
    name = node.name().rstrip("0123456789")
    if depth == 0 or name.endswith("AccumulateGrad"):
        return name.split("::")[-1]
    return name, [(node_summary(n, depth - 1), i) for n, i in node.next_functions]


def small_graph(lib, a, b):
    x = lib.tensor(a, requires_grad=True)
    w = lib.tensor(b, requires_grad=True)
    c = lib.tensor(b)                         # needs no gradient
    return x, w, ((x * w) + c).sum(1).exp()


def test_node_api_matches_torch(rng):
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    x, w, out = small_graph(tg, a, b)
    tx, tw, tout = small_graph(torch, a, b)
    assert node_summary(out.grad_fn) == node_summary(tout.grad_fn) == (
        "ExpBackward", [(("SumBackward", [(("AddBackward", [(("MulBackward", [
            ("AccumulateGrad", 0), ("AccumulateGrad", 0)]), 0), (None, 0)]), 0)]), 0)])
    mul = out.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert mul.next_functions[0][0].variable is x and mul.next_functions[1][0].variable is w
    assert isinstance(out.grad_fn, Node) and isinstance(mul.next_functions[0][0], Node)
    assert not isinstance(x, Node)
    out.grad_fn.metadata["tag"] = 7
    assert out.grad_fn.metadata == {"tag": 7}

    results = []
    for lib, y in ((tg, out), (torch, tout)):
        calls = []
        node = y.grad_fn
        node.register_prehook(lambda go: calls.append(("pre", len(go))) or (go[0] * 3,))
        handle = node.register_hook(lambda gi, go: calls.append(("post", len(gi), len(go))))
        removed = node.register_hook(lambda gi, go: calls.append("removed"))
        removed.remove()
        node.register_hook(lambda gi, go: (gi[0] + 1,))
        y.sum().backward()
        handle.remove()
        results.append((calls, y.grad_fn.next_functions[0][0].name()))
    assert results[0][0] == results[1][0] == [("pre", 1), ("post", 1, 1)]
    # d/dx of sum(exp(s)): 3 exp(s) w from the prehook, then +1 from the last post hook
    want = (3 * np.exp((a * b + b).sum(1)) + 1)[:, None] * b
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-13)


def test_increment_version_makes_a_saved_tensor_stale(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    h = x * 1
    y = h.exp() * h
    increment_version([h])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    z = tg.ones(2)
    increment_version(z)
    assert z._version == 1


def multi_hook_calls(lib):
    a = lib.tensor(np.arange(3.0), requires_grad=True)
    b = lib.tensor(np.ones(3), requires_grad=True)
    c = lib.tensor(np.ones(3), requires_grad=True)
    calls = []
    handle = lib.autograd.graph.register_multi_grad_hook(
        (a, b, c), lambda gs: calls.append([None if g is None else g.sum().item() for g in gs]))
    (a * 2 + b * 3).sum().backward()
    (a * 5).sum().backward()
    (b * 7).sum().backward(inputs=[b])
    handle.remove()
    (a * 5).sum().backward()
    handle = lib.autograd.graph.register_multi_grad_hook(
        (a, b), lambda g: calls.append(("any", g.sum().item())), mode="any")
    (a * 2 + b * 3).sum().backward()
    (a * 2 + b * 3).sum().backward()
    return calls


def test_register_multi_grad_hook():
    calls = multi_hook_calls(tg)
    assert calls[:3] == [[6.0, 9.0, None], [15.0, None, None], [None, 21.0, None]]
    assert len(calls) == 5 and calls[3] == calls[4] and calls[3] in [("any", 6.0), ("any", 9.0)]
    torch = pytest.importorskip("torch")
    assert multi_hook_calls(torch)[:3] == calls[:3]
    with pytest.raises(ValueError, match="mode"):
        tg.autograd.graph.register_multi_grad_hook([], print, mode="some")

"""nn.Module hooks: forward pre-hooks and hooks (with kwargs, prepend, always_call), full
backward hooks and pre-hooks (values checked by hand on a Linear, replacements reaching earlier
layers), handles, and a comparison with PyTorch of everything the hooks see."""

import copy

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn import module as module_file
from tests.helpers import host, leaf64


class Scale(nn.Module):
    """y = a * x + b: one tensor, one number, one keyword argument."""

    def forward(self, x, a=1.0, *, b=0.0):
        return x * a + b


class Pair(nn.Module):
    """Two tensor inputs and a number; two tensor outputs and a string."""

    def forward(self, x, y, c):
        return x * c, x * y, "done"


def test_forward_pre_hook_changes_args():
    m = Scale()
    m.register_forward_pre_hook(lambda module, args: (args[0], 3.0))
    assert m(tg.ones(2)).tolist() == [3.0, 3.0]
    m.register_forward_pre_hook(lambda module, args: args[0] * 2)   # a single value: (value,)
    assert m(tg.ones(2)).tolist() == [2.0, 2.0]


def test_forward_hook_replaces_output():
    m = Scale()
    seen = []
    m.register_forward_hook(lambda module, args, output: seen.append((module, args, output)))
    m.register_forward_hook(lambda module, args, output: output + 10)
    x = tg.ones(2)
    assert m(x, 2.0).tolist() == [12.0, 12.0]
    (module, args, output), = seen
    assert module is m and args[0] is x and args[1] == 2.0 and output.tolist() == [2.0, 2.0]


def test_with_kwargs_hooks():
    m = Scale()
    seen = {}

    def pre_hook(module, args, kwargs):
        seen["pre"] = dict(kwargs)
        return args, {**kwargs, "b": 5.0}

    m.register_forward_pre_hook(pre_hook, with_kwargs=True)
    m.register_forward_hook(lambda module, args, kwargs, out: seen.update(kwargs=kwargs),
                            with_kwargs=True)
    assert m(tg.ones(1), b=1.0).tolist() == [6.0]
    assert seen == {"pre": {"b": 1.0}, "kwargs": {"b": 5.0}}
    m.register_forward_pre_hook(lambda module, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"tuple of \(new_args, new_kwargs\)"):
        m(tg.ones(1))


def test_hooks_run_in_registration_order_prepend_first():
    m = nn.Linear(2, 2)
    order = []
    for name in ("a", "b"):
        m.register_forward_pre_hook(lambda *_, name=name: order.append("pre " + name))
        m.register_forward_hook(lambda *_, name=name: order.append("fwd " + name))
        m.register_full_backward_pre_hook(lambda *_, name=name: order.append("bpre " + name))
        m.register_full_backward_hook(lambda *_, name=name: order.append("bwd " + name))
    m.register_forward_pre_hook(lambda *_: order.append("pre first"), prepend=True)
    m.register_forward_hook(lambda *_: order.append("fwd first"), prepend=True)
    m.register_full_backward_pre_hook(lambda *_: order.append("bpre first"), prepend=True)
    m.register_full_backward_hook(lambda *_: order.append("bwd first"), prepend=True)
    m(tg.ones(1, 2, requires_grad=True)).sum().backward()
    assert order == ["pre first", "pre a", "pre b", "fwd first", "fwd a", "fwd b",
                     "bpre first", "bpre a", "bpre b", "bwd first", "bwd a", "bwd b"]


def test_handle_remove_and_context_manager(monkeypatch):
    m = Scale()
    handle = m.register_forward_hook(lambda module, args, output: output * 0)
    assert m(tg.ones(1)).item() == 0
    handle.remove()
    handle.remove()                                  # a second remove does nothing
    assert m(tg.ones(1)).item() == 1
    with m.register_forward_pre_hook(lambda module, args: args[0] * 4):
        assert m(tg.ones(1)).item() == 4
    assert m(tg.ones(1)).item() == 1
    monkeypatch.setattr(module_file, "call_with_hooks", None)   # no hooks left: the direct call
    assert m(tg.ones(1)).item() == 1


def test_always_call_forward_hook_runs_when_forward_raises():
    m = nn.Linear(2, 2)
    seen = []
    m.register_forward_hook(lambda module, args, out: seen.append(("plain", out)))
    m.register_forward_hook(lambda module, args, out: seen.append(("always", out)),
                            always_call=True)
    with pytest.raises(RuntimeError, match="does not end in in_features"):
        m(tg.ones(3))
    assert seen == [("always", None)]
    m(tg.ones(2))
    assert [kind for kind, _ in seen] == ["always", "plain", "always"]   # not run twice


def test_full_backward_hook_sees_grads_of_a_linear(device, rng):
    """grad_output is the upstream gradient G; grad_input is dL/dx = G W."""
    m = nn.Linear(3, 2, device=device, dtype=tg.float64)
    seen = []
    m.register_full_backward_pre_hook(lambda module, grad_output: seen.append(grad_output))
    m.register_full_backward_hook(lambda module, gi, go: seen.append((module, gi, go)))
    x = leaf64(rng, 4, 3, device=device)
    g = tg.tensor(rng.standard_normal((4, 2)), dtype=tg.float64, device=device)
    m(x).backward(g)
    (pre_grad_output,), (module, grad_input, grad_output) = seen
    assert module is m and len(grad_input) == 1 and len(grad_output) == 1
    np.testing.assert_allclose(host(pre_grad_output), host(g))
    np.testing.assert_allclose(host(grad_output[0]), host(g))
    np.testing.assert_allclose(host(grad_input[0]), host(g) @ host(m.weight))
    np.testing.assert_allclose(host(x.grad), host(g) @ host(m.weight))
    np.testing.assert_allclose(host(m.weight.grad), host(g).T @ host(x))


def test_backward_hook_replacing_grad_input_reaches_earlier_layers(rng):
    first, second = nn.Linear(3, 4).double(), nn.Linear(4, 2).double()
    model = nn.Sequential(first, second)
    x = leaf64(rng, 5, 3)
    model(x).sum().backward()
    expected = [host(t.grad) for t in (x, first.weight, second.weight)]
    model.zero_grad()
    x.grad = None
    second.register_full_backward_hook(lambda module, gi, go: (gi[0] * 2,))
    model(x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * expected[0])
    np.testing.assert_allclose(host(first.weight.grad), 2 * expected[1])
    np.testing.assert_allclose(host(second.weight.grad), expected[2])   # its own: unchanged


def test_backward_pre_hook_replaces_grad_output(rng):
    m = nn.Linear(3, 2).double()
    x = leaf64(rng, 5, 3)
    m(x).sum().backward()
    expected = host(x.grad), host(m.weight.grad)
    m.zero_grad()
    x.grad = None
    seen = []
    m.register_full_backward_pre_hook(lambda module, grad_output: (grad_output[0] * 3,))
    m.register_full_backward_hook(lambda module, gi, go: seen.append(go[0]))
    m(x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 3 * expected[0])
    np.testing.assert_allclose(host(m.weight.grad), 3 * expected[1])
    np.testing.assert_allclose(host(seen[0]), np.full((5, 2), 3.0))   # the replaced grad_output


def test_grad_input_none_for_numbers_zeros_for_tensors_without_grad(rng):
    """PyTorch 2.13 passes every tensor input through its capture and materialises the
    gradients there: a tensor that does not require grad gets zeros, a number None."""
    m = Pair()
    seen = []
    m.register_full_backward_hook(lambda module, gi, go: seen.append((gi, go)))
    x, y = leaf64(rng, 3), leaf64(rng, 3)
    out_1, _, _ = m(x, y.detach(), 2.0)
    out_1.sum().backward()
    (grad_input, grad_output), = seen
    assert len(grad_input) == 3 and grad_input[2] is None
    np.testing.assert_array_equal(host(grad_input[1]), np.zeros(3))
    np.testing.assert_allclose(host(grad_input[0]), np.full(3, 2.0))
    assert len(grad_output) == 3 and grad_output[2] is None
    np.testing.assert_allclose(host(grad_output[0]), np.ones(3))
    assert grad_output[1] is None           # requires grad but was not used, as PyTorch
    seen.clear()
    out_1, out_2, _ = m(x, y, 2.0)
    (out_1 + out_2).sum().backward()
    (grad_input, _), = seen
    np.testing.assert_allclose(host(grad_input[0]), 2.0 + host(y))
    np.testing.assert_allclose(host(grad_input[1]), host(x))


def _lookup_module(lib):
    """A module of ``lib`` (tinygen or torch) with four tensor inputs, integer ids and one
    input left unused: y = (w * s)[ids]."""
    class Lookup(lib.nn.Module):
        def forward(self, w, s, ids, unused):
            return (w * s)[ids]
    return Lookup()


@pytest.mark.parametrize("needs_grad", [(True, False, False), (False, True, True),
                                        (True, True, True)])
def test_grad_input_of_tensors_without_grad_matches_pytorch(rng, needs_grad):
    torch = pytest.importorskip("torch")
    w, s, unused = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(2)
    seen = {}
    for lib in (tg, torch):
        module = _lookup_module(lib)
        module.register_full_backward_hook(
            lambda m, gi, go, lib=lib: seen.__setitem__(lib, [
                None if g is None else (str(g.dtype).split(".")[-1], g.detach().cpu().numpy())
                for g in gi]))
        w_, s_, unused_ = (lib.tensor(v, requires_grad=r)
                           for v, r in zip((w, s, unused), needs_grad))
        module(w_, s_, lib.tensor([0, 2, 2]), unused_).sum().backward()
    for (ours_dtype, ours), (theirs_dtype, theirs) in zip(seen[tg], seen[torch], strict=True):
        assert ours_dtype == theirs_dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_backward_hook_of_a_module_whose_inputs_need_no_grad():
    m = nn.Linear(2, 2)
    seen = []
    m.register_full_backward_hook(lambda module, gi, go: seen.append((gi, go)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        m(tg.ones(1, 2)).sum().backward()
    (grad_input, grad_output), = seen
    assert grad_input == (None,) and grad_output[0].tolist() == [[1.0, 1.0]]


def test_backward_hook_errors():
    m = nn.Linear(2, 2)
    m.register_full_backward_hook(lambda module, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        m(tg.ones(1, 2, requires_grad=True)).sum().backward()
    relu = nn.ReLU(inplace=True)
    relu.register_full_backward_hook(lambda *_: None)
    with pytest.raises(RuntimeError, match="view"):    # refused, as in PyTorch
        relu(tg.ones(2, requires_grad=True) * 1)


def test_backward_hooks_keep_inplace_checks_and_gradients(rng):
    """The captured inputs share their version counters, so a change after forward is still
    reported; and gradients through a hooked module are right to second order."""
    m = nn.Linear(3, 2).double()
    m.register_full_backward_hook(lambda *_: None)
    x = leaf64(rng, 4, 3)
    h = x * 1
    y = m(h)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    assert tg.autograd.gradcheck(m, (x,))
    assert tg.autograd.gradgradcheck(m, (x,))


def test_backward_hook_runs_on_every_backward_through_a_retained_graph():
    m = nn.Linear(2, 2)
    calls = []
    m.register_full_backward_hook(lambda *_: calls.append(1))
    loss = m(tg.ones(1, 2, requires_grad=True)).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert len(calls) == 2


def test_feature_extraction_with_forward_hooks():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    features = {}
    handles = [child.register_forward_hook(
        lambda module, args, output, name=name: features.__setitem__(name, output.detach()))
        for name, child in model.named_children()]
    x = tg.randn(2, 4)
    out = model(x)
    assert list(features) == ["0", "1", "2"]
    np.testing.assert_allclose(host(features["0"]), host(model[0](x)), rtol=1e-6)
    np.testing.assert_allclose(host(features["1"]), np.maximum(host(features["0"]), 0))
    np.testing.assert_allclose(host(features["2"]), host(out))
    for handle in handles:
        handle.remove()
    assert all(not child._module_hooks for child in model.children())


def test_hooks_are_not_state():
    m = nn.Linear(2, 2)
    m.register_forward_hook(lambda module, args, output: output * 0)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert repr(m) == "Linear(in_features=2, out_features=2, bias=True)"
    clone = copy.deepcopy(m)
    assert clone(tg.ones(2)).tolist() == [0.0, 0.0]         # the copy keeps its hooks, as PyTorch
    fresh = nn.Linear(2, 2)
    fresh.load_state_dict(m.state_dict())
    np.testing.assert_allclose(host(fresh(tg.ones(2))), host(m.weight.sum(1) + m.bias))


def _record_all_hooks(lib, model, log):
    """Register every hook kind on every child of ``model``, each appending what it sees."""
    def arrays(values):
        return [None if v is None else v.detach().cpu().numpy().copy() for v in values]

    for name, child in model.named_children():
        child.register_forward_pre_hook(
            lambda m, args, name=name: log.append((name, "pre", arrays(args))))
        child.register_forward_hook(
            lambda m, args, out, name=name: log.append((name, "fwd", arrays((out,)))))
        child.register_full_backward_pre_hook(
            lambda m, go, name=name: log.append((name, "bpre", arrays(go))))
        child.register_full_backward_hook(
            lambda m, gi, go, name=name: log.append((name, "bwd", arrays(gi) + arrays(go))))
    model[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))


def test_hooks_see_what_pytorch_hooks_see(rng):
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)).double()
    theirs.load_state_dict({k: torch.from_numpy(host(v)) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((5, 3))
    g = rng.standard_normal((5, 2))
    logs = [], []
    _record_all_hooks(tg, ours, logs[0])
    _record_all_hooks(torch, theirs, logs[1])
    x_ours, x_theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(x_ours).backward(tg.tensor(g))
    theirs(x_theirs).backward(torch.tensor(g))
    assert [entry[:2] for entry in logs[0]] == [entry[:2] for entry in logs[1]]
    for (name, kind, ours_seen), (_, _, theirs_seen) in zip(*logs):
        for a, b in zip(ours_seen, theirs_seen, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"{name} {kind}")
    np.testing.assert_allclose(host(x_ours.grad), x_theirs.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(ours[0].weight.grad), theirs[0].weight.grad.numpy(),
                               rtol=1e-12)

"""The backward engine: accumulation, retain_graph, deep graphs, grad modes, hooks, shared
intermediates, freeing the graph, and the errors a user sees (in-place ops: test_inplace.py)."""

import gc
import threading
import weakref

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64, shares_memory
from tinygen.autograd import gradcheck
from tinygen.autograd.function import _raise_device_mismatch

# Backward: accumulation, explicit gradients, retain_graph

def test_gradients_accumulate_into_leaves_across_backward_calls(rng, device):
    x = leaf64(rng, 4, device=device)
    (x * x).sum().backward()
    first = host(x.grad).copy()
    (x * 3.0).sum().backward()
    x.tanh().sum().backward()
    a = host(x)
    np.testing.assert_allclose(first, 2 * a)
    np.testing.assert_allclose(host(x.grad), 2 * a + 3 + (1 - np.tanh(a) ** 2))


def test_leaf_grad_never_aliases_the_incoming_gradient(rng):
    x = leaf64(rng, 3)
    g = tg.tensor(rng.standard_normal(3), dtype=tg.float64)
    x.clone().backward(g)                 # Clone's backward passes g through unchanged
    x.grad.mul_(2)
    np.testing.assert_array_equal(g.cpu().numpy() * 2, x.grad.cpu().numpy())
    assert not shares_memory(g.array, x.grad.array)


def test_backward_of_non_scalar_with_explicit_gradient(rng, device):
    x = leaf64(rng, 2, 3, device=device)
    g = tg.tensor(rng.standard_normal((2, 3)), device=device, dtype=tg.float64)
    (x * x).backward(gradient=g)
    np.testing.assert_allclose(host(x.grad), 2 * host(x) * host(g))


def test_backward_of_several_roots_at_once(rng):
    x = leaf64(rng, 3)
    y1, y2 = x * 2.0, x.exp()
    g1, g2 = (tg.tensor(rng.standard_normal(3), dtype=tg.float64) for _ in range(2))
    tg.autograd.backward([y1, y2], [g1, g2])
    np.testing.assert_allclose(host(x.grad), 2 * host(g1) + np.exp(host(x)) * host(g2))


def test_roots_that_are_outputs_of_one_op(rng):
    """Outputs of one op share its node: each root must count once, or the graph above it
    never ran (h.grad was None)."""
    h = leaf64(rng, 3, 3)
    mu, logvar = (h * 3.0).split([1, 2], dim=1)
    tg.autograd.backward([mu, logvar], [tg.ones_like(mu), tg.ones_like(logvar)])
    np.testing.assert_array_equal(host(h.grad), np.full((3, 3), 3.0))
    x = leaf64(rng, 3)
    y = x * 2.0
    tg.autograd.backward([y, y], [tg.ones_like(y), tg.ones_like(y)])
    np.testing.assert_array_equal(host(x.grad), np.full(3, 4.0))


def test_backward_into_chosen_inputs_only(rng):
    x, w = leaf64(rng, 3), leaf64(rng, 3)
    y = x * w
    (y * 3.0).sum().backward(inputs=[y, w])
    np.testing.assert_allclose(host(y.grad), np.full(3, 3.0))
    np.testing.assert_allclose(host(w.grad), 3 * host(x))
    assert x.grad is None
    with pytest.raises(RuntimeError, match="inputs argument cannot be empty"):
        (x * 2.0).sum().backward(inputs=[])


def test_a_second_backward_adds_into_the_same_grad(rng):
    """As PyTorch's AccumulateGrad: a reference to .grad stays current."""
    x = leaf64(rng, 3)
    (x * 2.0).sum().backward()
    held = x.grad
    (x * 3.0).sum().backward()
    assert held is x.grad
    np.testing.assert_array_equal(host(held), np.full(3, 5.0))


def test_create_graph_gives_each_leaf_its_own_grad(rng):
    """Add's backward hands both inputs the same gradient tensor: stored as it is, clipping
    .grad in place scaled one tensor twice, and changed the caller's gradient."""
    a, b = leaf64(rng, 3), leaf64(rng, 3)
    g = tg.ones(3, dtype=tg.float64)
    (a + b).backward(g, create_graph=True)
    assert a.grad is not b.grad and a.grad is not g
    a.grad.mul_(2.0)
    np.testing.assert_array_equal(host(b.grad), np.ones(3))
    np.testing.assert_array_equal(host(g), np.ones(3))


def test_root_gradient_takes_the_root_dtype(rng):
    x = leaf64(rng, 3)
    x.backward(tg.ones(3, dtype=tg.float32))
    assert x.grad.dtype == tg.float64


def test_grad_materializes_unused_inputs_as_zeros(rng):
    x, unused = leaf64(rng, 3), leaf64(rng, 2)
    gx, gu = tg.autograd.grad((x * 2.0).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(host(gx), np.full(3, 2.0))
    np.testing.assert_array_equal(host(gu), np.zeros(2))
    with pytest.raises(ValueError, match="allow_unused"):
        tg.autograd.grad((x * 2.0).sum(), x, allow_unused=False, materialize_grads=True)


def test_backward_on_non_scalar_without_gradient_says_so(rng):
    y = leaf64(rng, 2, 3) * 2.0
    with pytest.raises(RuntimeError, match=r"one-element output.*\(2, 3\).*gradient="):
        y.backward()


def test_gradient_of_wrong_shape_names_both_shapes(rng):
    y = leaf64(rng, 2, 3) * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(3, 2\).*shape \(2, 3\)"):
        y.backward(tg.ones(3, 2, dtype=tg.float64))


@pytest.mark.parametrize("make", [lambda: tg.ones(3).sum(),
                                  lambda: tg.ones(3, requires_grad=True).detach().sum()],
                         ids=["constant", "detached"])
def test_backward_on_tensor_that_does_not_require_grad(make):
    with pytest.raises(RuntimeError, match="does not require grad"):
        make().backward()


def test_retain_graph_allows_a_second_backward(rng):
    x = leaf64(rng, 3)
    loss = (x.tanh() * x).sum()
    loss.backward(retain_graph=True)
    once = x.grad.cpu().numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * once)


def test_second_backward_through_freed_graph_raises_clearly(rng):
    x = leaf64(rng, 3)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*"
                                           r"MulBackward.*retain_graph=True"):
        loss.backward()


def test_retain_graph_defaults_to_create_graph(rng):
    x = leaf64(rng, 3)
    y = (x ** 3).sum()
    (g,) = tg.autograd.grad(y, x, create_graph=True)
    y.backward()                                   # graph kept: create_graph=True retained it
    g.sum().backward()                             # and the gradient's own graph is intact
    a = x.detach().cpu().numpy()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 3 * a ** 2 + 6 * a)

    z = (x ** 3).sum()
    tg.autograd.grad(z, x)                         # create_graph=False: freed
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


# Deep graphs

def test_backward_through_a_chain_of_100000_ops():
    x = tg.tensor(0.5, dtype=tg.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    ref = weakref.ref(y)
    (y * 3.0).backward()
    assert x.grad.item() == 3.0
    del y                                          # freeing the chain must not recurse either
    assert ref() is None


# Grad modes

def test_no_grad_context_records_nothing_and_restores():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2.0
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_grad_modes_nest(rng):
    x = leaf64(rng, 2)
    with tg.no_grad():
        with tg.enable_grad():
            inner = x * 2.0
            with tg.set_grad_enabled(False):
                innermost = x * 2.0
            assert tg.is_grad_enabled()
        after = x * 2.0
    assert inner.requires_grad and not innermost.requires_grad and not after.requires_grad
    assert tg.is_grad_enabled()


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0
    assert tg.is_grad_enabled()


@pytest.mark.parametrize("make, records", [
    (tg.no_grad, False), (tg.enable_grad, True), (lambda: tg.set_grad_enabled(False), False),
    (lambda: tg.set_grad_enabled(True), True)], ids=["no_grad", "enable_grad", "set_false",
                                                     "set_true"])
def test_grad_modes_as_decorators(make, records):
    @make()
    def double(t):
        """Docstring kept."""
        return t * 2.0

    assert tg.is_grad_enabled()            # set_grad_enabled(False) as a decorator: undone

    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        inside_no_grad = double(x)
    assert double(x).requires_grad is records
    assert inside_no_grad.requires_grad is records
    assert double.__doc__ == "Docstring kept."
    assert tg.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with tg.no_grad():
        worker = threading.Thread(target=lambda: seen.append(tg.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_set_grad_enabled_as_a_plain_call():
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled()
        assert not (tg.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()


# detach, requires_grad_, hooks, retain_grad

def test_detach_shares_memory_and_leaves_the_graph(rng):
    x = leaf64(rng, 3)
    y = x * 2.0
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert shares_memory(d.array, y.array)
    (d * y).sum().backward()                       # d is a constant: only y's path counts
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * d.cpu().numpy())


def test_requires_grad_(rng):
    x = tg.tensor(rng.standard_normal(3), dtype=tg.float64)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad


@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.bool, tg.uint8])
def test_requires_grad_refused_on_non_float_tensors(dtype):
    with pytest.raises(RuntimeError,
                       match=rf"only Tensors of floating point.*{dtype}.*\.float\(\)"):
        tg.zeros(3, dtype=dtype).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        tg.zeros(3, dtype=dtype, requires_grad=True)


def test_requires_grad_false_on_a_non_leaf_points_to_detach(rng):
    y = leaf64(rng, 2) * 2.0
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_hook_on_a_leaf_modifies_its_gradient_and_can_be_removed(rng):
    x = leaf64(rng, 3)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.cpu().numpy().copy()) or g * 10.0)
    (x * x).sum().backward()
    a = x.detach().cpu().numpy()
    np.testing.assert_allclose(seen[0], 2 * a)
    np.testing.assert_allclose(x.grad.cpu().numpy(), 20 * a)
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * a)
    assert len(seen) == 1


def test_hook_on_a_non_leaf_changes_what_flows_upstream(rng):
    x = leaf64(rng, 3)
    y = x * 2.0
    seen = []

    def hook(g):
        seen.append(g.cpu().numpy().copy())
        return g * -1.0
    handle = y.register_hook(hook)
    (y * y).sum().backward(retain_graph=True)
    a = x.detach().cpu().numpy()
    np.testing.assert_allclose(seen[0], 2 * (2 * a))
    np.testing.assert_allclose(x.grad.cpu().numpy(), -2 * (4 * a))
    handle.remove()
    x.grad = None
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 8 * a)
    assert len(seen) == 1


def test_hook_on_a_tensor_that_does_not_require_grad_is_refused():
    with pytest.raises(RuntimeError, match="doesn't require grad"):
        tg.ones(2).register_hook(lambda g: g)


def test_retain_grad_keeps_a_non_leaf_gradient(rng):
    x = leaf64(rng, 3)
    y = x * 2.0
    z = x * 3.0
    y.retain_grad()
    (y * y + z).sum().backward()
    np.testing.assert_allclose(y.grad.cpu().numpy(), 2 * y.detach().cpu().numpy())
    assert z.grad is None
    x.retain_grad()                                # a leaf keeps its gradient anyway
    assert x.grad is not None


def test_retained_grad_accumulates_like_a_leaf(rng):
    x = leaf64(rng, 3)
    y = x * 2.0
    y.retain_grad()
    loss = (y * y).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(y.grad.cpu().numpy(), 2 * 2 * y.detach().cpu().numpy())


def test_retain_grad_as_pytorch(rng):
    """Once however often it is called, after the other hooks, a copy the user may change,
    and it follows the tensor through an in-place op."""
    x = leaf64(rng, 3)
    y = x * 2.0
    y.retain_grad()
    y.retain_grad()
    y.register_hook(lambda g: g * 10.0)
    y.sum().backward()
    np.testing.assert_array_equal(host(y.grad), np.full(3, 10.0))
    y.grad.zero_()                                 # writable: not a broadcast view
    y = x * 2.0
    y.retain_grad()
    y.mul_(3.0)
    (y * 2.0).sum().backward()
    np.testing.assert_array_equal(host(y.grad), np.full(3, 2.0))
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        tg.ones(2).retain_grad()


def test_a_hook_may_not_change_the_gradient_shape(rng):
    x = leaf64(rng, 3)
    x.register_hook(lambda g: tg.ones(2, dtype=tg.float64))
    with pytest.raises(RuntimeError, match=r"changed the size of the gradient from \(3,\) to "
                                           r"\(2,\)"):
        (x * 2.0).sum().backward()


def test_retain_grad_makes_no_reference_cycle(rng):
    gc.disable()
    try:
        x = leaf64(rng, 3)
        y = x * 2.0
        y.retain_grad()
        ref = weakref.ref(y)
        del y
        assert ref() is None
    finally:
        gc.enable()


# Graphs that reuse an intermediate

def test_reused_intermediate_matches_closed_form(rng):
    a = leaf64(rng, 4)
    b = a + a
    c = b * b
    c.backward(tg.ones(4, dtype=tg.float64) * 0.5)
    np.testing.assert_allclose(a.grad.cpu().numpy(), 0.5 * 8 * a.detach().cpu().numpy())


def test_diamond_matches_closed_form(rng):
    a = leaf64(rng, 4)
    b = a.exp()
    c = b * b + b.sin()                            # two paths from b, both back to a
    g = rng.standard_normal(4)
    c.backward(tg.tensor(g, dtype=tg.float64))
    e = np.exp(a.detach().cpu().numpy())
    np.testing.assert_allclose(a.grad.cpu().numpy(), g * (2 * e * e + np.cos(e) * e))


@pytest.mark.parametrize("f", [
    lambda a: (a + a) * (a + a),
    lambda a: (lambda b: b * b + b.sin() * b)(a.exp()),
    lambda a: (lambda b: (b[:2] * b[2:]).tanh() + b[1:3])(a * a),
    lambda a: (lambda s: s.softmax(-1) * s)(a.reshape(2, 2).tanh()),
], ids=["a+a", "diamond", "slices", "softmax"])
def test_graphs_reusing_intermediates_pass_gradcheck(rng, f):
    assert gradcheck(f, (leaf64(rng, 4),))


# The graph frees itself

def _mlp_step(rng):
    x = tg.tensor(rng.standard_normal((5, 4)))
    w1 = tg.tensor(rng.standard_normal((4, 8)), requires_grad=True)
    w2 = tg.tensor(rng.standard_normal((8, 3)), requires_grad=True)
    h = (x @ w1).tanh()
    logits = h @ w2
    p = logits.softmax(-1)
    picked = p[tg.arange(5), tg.tensor([0, 2, 1, 0, 1])]
    loss = -picked.log().mean()
    intermediates = [h, logits, p, picked]
    return loss, intermediates, (w1, w2)


def _penalty_step(rng):
    """A WGAN-GP style step: create_graph=True, then a backward that retains the graph."""
    x = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    scores = (x @ w).tanh()
    (g,) = tg.autograd.grad(scores.sum(), x, create_graph=True)
    norms = ((g * g).sum(1) + 1e-12).sqrt()
    loss = ((norms - 1) ** 2).mean()
    return loss, [scores, g, norms], (x, w)


def _in_place_step(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    w = tg.tensor(rng.standard_normal(3), requires_grad=True)
    y = x * 2.0
    y.mul_(w)
    y[0] = w[1] * 3.0
    z = y.exp()
    return (z * y).sum(), [y, z], (x, w)


@pytest.mark.parametrize("step, retain", [(_mlp_step, False), (_penalty_step, True),
                                          (_in_place_step, False)],
                         ids=["mlp", "gradient-penalty", "in-place"])
def test_training_step_leaves_no_reference_cycles(rng, step, retain):
    gc.disable()
    try:
        loss, intermediates, params = step(rng)
        refs = [weakref.ref(t) for t in intermediates + [loss]]
        del intermediates
        loss.backward(retain_graph=retain)
        grads = [weakref.ref(p.grad) for p in params]
        with tg.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        del loss
        assert [r() for r in refs] == [None] * len(refs)
        assert all(r() is not None for r in grads)
    finally:
        gc.enable()


def test_backward_frees_saved_tensors_while_the_loss_is_alive(rng):
    gc.disable()
    try:
        loss, intermediates, _ = _mlp_step(rng)
        refs = [weakref.ref(t) for t in intermediates]
        del intermediates
        assert any(r() is not None for r in refs)      # kept by the graph for backward
        loss.backward()
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()


# Errors that name what went wrong

def test_shape_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 3\).*\(4, 2\)"):
        tg.ones(2, 3) @ tg.ones(4, 2)


@pytest.mark.cuda
def test_device_mismatch_names_both_devices():
    if not tg.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    with pytest.raises(RuntimeError, match=r"Add.*cpu.*cuda:0"):
        tg.ones(2) + tg.ones(2, device="cuda")


def test_device_mismatch_message_names_both_devices_and_shapes():
    class Fake:                      # stands in for a tensor on another device
        def __init__(self, device, shape):
            self.device, self.shape = tg.device(device), shape

    class Add:
        pass
    with pytest.raises(RuntimeError, match=r"Add: .*cpu \(shape \(2,\)\) and cuda:1 "
                                           r"\(shape \(3, 2\)\).*\.to\(device\)"):
        _raise_device_mismatch(Add, Fake("cpu", (2,)), Fake("cuda:1", (3, 2)))


def test_a_fresh_gradient_becomes_grad_without_a_copy():
    """.grad takes a gradient array nothing else holds as it is (no copy), as PyTorch does."""
    from tinygen.nn import linear
    made = []
    backward = linear.LinearFunction.backward

    def recording_backward(ctx, grad_y):
        grads = backward(ctx, grad_y)
        made.extend(id(g.array) for g in grads[1:])     # ids only: no extra references
        return grads

    layer = tg.nn.Linear(4, 3)
    linear.LinearFunction.backward = staticmethod(recording_backward)
    try:
        layer(tg.randn(5, 4)).sum().backward()
    finally:
        linear.LinearFunction.backward = staticmethod(backward)
    assert [id(layer.weight.grad.array), id(layer.bias.grad.array)] == made


def test_a_shared_gradient_is_copied_into_grad():
    """Where a gradient is also held elsewhere (two leaves, a hook, the caller's gradient), each
    .grad gets memory of its own, so changing one in place changes nothing else."""
    a, b = tg.randn(3, requires_grad=True), tg.randn(3, requires_grad=True)
    (a + b).sum().backward()                            # Add passes one tensor to both
    assert not shares_memory(a.grad.array, b.grad.array)
    a.grad.array[:] = 7.0
    np.testing.assert_array_equal(host(b.grad), np.ones(3))

    seen = []
    a, b = tg.randn(3, requires_grad=True), tg.randn(3, requires_grad=True)
    y = a + b
    y.register_hook(seen.append)
    y.sum().backward()
    assert not any(shares_memory(leaf.grad.array, seen[0].array) for leaf in (a, b))

    a, v = tg.randn(3, requires_grad=True), tg.ones(3)
    (a * 1.0).backward(v)
    a.backward(v)                                       # a leaf as the root: v itself flows
    assert not shares_memory(a.grad.array, v.array)
    np.testing.assert_array_equal(host(a.grad), 2 * np.ones(3))

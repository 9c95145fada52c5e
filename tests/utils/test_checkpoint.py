"""tinygen.utils.checkpoint: the same values and gradients as running the function plainly
(also with dropout inside, on the restored random numbers), fewer activations kept, and the
refusals PyTorch makes."""

import gc
import weakref

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.utils.checkpoint import checkpoint, checkpoint_sequential


def grads(model, x):
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


def dropped_tanh(u):
    return tg.nn.functional.dropout(u.tanh(), 0.5, training=True)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_the_recomputation_sees_the_same_dropout_mask(rng, use_reentrant):
    """out = dropout(tanh(x)): the mask (0 or 2) is read off the output, so the true gradient
    of sum(out^2) is 2 out * mask * (1 - tanh^2 x); a recomputation with another mask would give
    another one."""
    x = tg.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    out = checkpoint(dropped_tanh, x, use_reentrant=use_reentrant)
    following = tg.rand(4)                      # the default generator goes on meanwhile
    (out ** 2).sum().backward()
    o, t = out.detach().numpy(), np.tanh(x.detach().numpy())
    keep = 2.0 * (o != 0)
    assert 0 < (o != 0).sum() < o.size
    np.testing.assert_allclose(x.grad.numpy(), 2 * o * keep * (1 - t * t), rtol=1e-13)
    assert not np.array_equal(following.numpy(), tg.rand(4).numpy())


def test_checkpoint_without_randomness_equals_plain_gradients(rng):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.GELU(), nn.Linear(6, 2)).double()
    x = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    (checkpoint(model, x, use_reentrant=False).sin().sum()).backward()
    got = grads(model, x)
    model.zero_grad()
    x.grad = None
    model(x).sin().sum().backward()
    for g, w in zip(got, grads(model, x)):
        np.testing.assert_allclose(g, w, rtol=1e-13)


def test_checkpoint_keeps_no_activations(rng):
    """An intermediate result of the function is freed once forward returns; a plain run keeps
    it alive (sin saves its input for backward)."""
    made = []

    def fn(u):
        h = u.tanh()
        made.append(weakref.ref(h))
        return h.sin()

    x = tg.tensor(rng.standard_normal(4), requires_grad=True)
    plain, checkpointed = fn(x), checkpoint(fn, x, use_reentrant=False)
    gc.collect()
    assert made[0]() is not None and made[1]() is None
    checkpointed.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tg.autograd.grad(plain.sum(), x)[0].numpy())


def test_non_tensor_arguments_and_several_outputs(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    y = tg.tensor(rng.standard_normal(3), requires_grad=True)
    a, b = checkpoint(lambda u, k, v: (u * k, u * v), x, 3.0, y, use_reentrant=True)
    (a.sum() + (b ** 2).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * (x * y * y).detach().numpy())
    np.testing.assert_allclose(y.grad.numpy(), 2 * (x * x * y).detach().numpy())


def test_checkpoint_sequential_matches_plain_run(rng):
    tg.manual_seed(1)
    model = nn.Sequential(*[nn.Sequential(nn.Linear(3, 3), nn.Tanh()) for _ in range(4)])
    model = model.double()
    x = tg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    out = checkpoint_sequential(model, 2, x, use_reentrant=False)
    np.testing.assert_allclose(out.detach().numpy(), model(x).detach().numpy(), rtol=1e-14)
    out.sum().backward()
    got = grads(model, x)
    model.zero_grad()
    x.grad = None
    model(x).sum().backward()
    for g, w in zip(got, grads(model, x)):
        np.testing.assert_allclose(g, w, rtol=1e-13)
    with pytest.raises(ValueError, match="segments must be in"):
        checkpoint_sequential(model, 5, x)


def test_grad_and_backward_inputs_through_a_checkpoint_are_refused(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    out = checkpoint(tg.sin, x, use_reentrant=True).sum()
    with pytest.raises(RuntimeError, match="incompatible with .grad()"):
        tg.autograd.grad(out, x, retain_graph=True)
    with pytest.raises(RuntimeError, match="incompatible with .grad()"):
        out.backward(inputs=[x], retain_graph=True)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.detach().numpy()))


def test_in_place_change_of_an_input_is_caught(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    h = x * 1
    out = checkpoint(tg.exp, h, use_reentrant=False).sum()
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.backward()


def test_function_must_return_tensors():
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="must return a tensor"):
        checkpoint(lambda t: 3, x, use_reentrant=False)


def test_non_reentrant_gives_parameter_grads_when_no_input_requires_grad():
    """A first block's input does not require grad; with use_reentrant=False PyTorch still
    gives the block's parameters their gradients (the reentrant form gives none)."""
    tg.manual_seed(0)
    layer = nn.Linear(3, 2)
    x = tg.ones(4, 3)
    y = checkpoint(layer, x, use_reentrant=False)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.full((2, 3), 4.0))
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(2, 4.0))
    layer.zero_grad()
    checkpoint(lambda a: layer(a) * 2, x, use_reentrant=False).sum().backward()   # a closure
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.full((2, 3), 8.0))
    assert not checkpoint(layer, x, use_reentrant=True).requires_grad
    with tg.no_grad():
        assert not checkpoint(layer, x, use_reentrant=False).requires_grad
    layer.requires_grad_(False)
    assert not checkpoint(layer, x, use_reentrant=False).requires_grad


def test_grad_through_a_non_reentrant_checkpoint_equals_the_plain_gradient(rng):
    """The graph is recorded as usual (only its saved tensors are recomputed), so grad() and
    backward(inputs=...) work, and the function runs once more, in backward, for all of them."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    x = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    calls = []

    def counted(u):
        calls.append(1)
        return model(u)

    params = [x] + list(model.parameters())
    got = tg.autograd.grad(checkpoint(counted, x, use_reentrant=False).sin().sum(), params)
    assert len(calls) == 2
    want = tg.autograd.grad(model(x).sin().sum(), params)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-13)
    assert all(p.grad is None for p in params)
    checkpoint(model, x, use_reentrant=False).sin().sum().backward(inputs=[model[0].bias])
    assert x.grad is None and model[2].weight.grad is None
    np.testing.assert_allclose(model[0].bias.grad.numpy(), want[2].numpy(), rtol=1e-13)


def test_second_derivative_through_a_non_reentrant_checkpoint(rng):
    x = tg.tensor(rng.standard_normal(5), requires_grad=True)

    def fn(u):
        return (u.tanh() * u).exp()

    def second(out):
        (g,) = tg.autograd.grad(out.sum(), x, create_graph=True)
        return tg.autograd.grad((g * g).sum(), x)[0].numpy()

    np.testing.assert_allclose(second(checkpoint(fn, x, use_reentrant=False)), second(fn(x)),
                               rtol=1e-13)


def test_grad_with_dropout_inside_a_non_reentrant_checkpoint(rng):
    x = tg.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    out = checkpoint(dropped_tanh, x, use_reentrant=False)
    tg.rand(3)                                  # the default generator goes on meanwhile
    (g,) = tg.autograd.grad((out ** 2).sum(), x)
    o, t = out.detach().numpy(), np.tanh(x.detach().numpy())
    assert 0 < (o != 0).sum() < o.size
    np.testing.assert_allclose(g.numpy(), 2 * o * 2.0 * (o != 0) * (1 - t * t), rtol=1e-13)


def test_nested_non_reentrant_checkpoints(rng):
    """An inner checkpoint's inputs are saved through the outer one's hooks: backward recomputes
    the outer region, then the inner one from what that gave."""
    x = tg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    runs = {"inner": 0, "outer": 0}

    def inner(u):
        runs["inner"] += 1
        return dropped_tanh(u @ w)

    def outer(u):
        runs["outer"] += 1
        return checkpoint(inner, u.sin() * 2, use_reentrant=False).exp()

    out = checkpoint(outer, x, use_reentrant=False)
    got = tg.autograd.grad((out * out).sum(), (x, w))
    assert runs == {"outer": 2, "inner": 3}     # once each forward, then outer, then inner
    xs, o = np.sin(x.detach().numpy()) * 2, out.detach().numpy()
    h = np.tanh(xs @ w.detach().numpy())
    dropped = np.log(o)                          # out = exp(dropout(tanh(...)))
    keep = 2.0 * (dropped != 0)
    assert 0 < (dropped != 0).sum() < dropped.size
    g_pre = 2 * o * o * keep * (1 - h * h)       # gradient at u @ w
    np.testing.assert_allclose(got[1].numpy(), xs.T @ g_pre, rtol=1e-12)
    want_x = (g_pre @ w.detach().numpy().T) * 2 * np.cos(x.detach().numpy())
    np.testing.assert_allclose(got[0].numpy(), want_x, rtol=1e-12)


def test_gradcheck_through_a_non_reentrant_checkpoint(rng):
    w = tg.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def fn(u, v):
        return checkpoint(lambda a, b: (a @ b).tanh() * a.sum(), u, v, use_reentrant=False)

    x = tg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert tg.autograd.gradcheck(fn, (x, w))
    assert tg.autograd.gradgradcheck(fn, (x, w))


def test_retain_graph_and_a_function_that_changes_between_runs(rng):
    x = tg.tensor(rng.standard_normal(4), requires_grad=True)
    out = checkpoint(lambda u: u.sin().exp(), x, use_reentrant=False).sum()
    out.backward(retain_graph=True)
    out.backward()                              # the recomputed tensors were kept
    want = np.cos(x.detach().numpy()) * np.exp(np.sin(x.detach().numpy()))
    np.testing.assert_allclose(x.grad.numpy(), 2 * want, rtol=1e-13)
    runs = []

    def moody(u):
        runs.append(1)
        return u.sin().exp() if len(runs) == 1 else u.exp()

    out = checkpoint(moody, x, use_reentrant=False).sum()
    with pytest.raises(RuntimeError, match="different number of tensors"):
        out.backward()

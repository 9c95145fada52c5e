"""layer_norm, batch_norm and group_norm: values against NumPy and PyTorch, first and second
derivatives against finite differences, running statistics, stability and shape errors."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def normalize_ref(a, axes, eps=1e-5):
    mean = a.mean(axis=axes, keepdims=True)
    var = a.var(axis=axes, keepdims=True)
    return (a - mean) / np.sqrt(var + eps)


@pytest.mark.parametrize("shape, normalized_shape", [
    ((4, 6), (6,)), ((2, 3, 5), 5), ((2, 3, 4), (3, 4)), ((5,), [5])])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_grads(shape, normalized_shape, affine, device, rng):
    x = leaf64(rng, *shape, device=device)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    params = (leaf64(rng, *ns, device=device), leaf64(rng, *ns, device=device)) if affine else ()

    def f(x, *wb):
        return F.layer_norm(x, normalized_shape, *wb)
    assert gradcheck(f, (x, *params))
    assert gradgradcheck(f, (x, *params))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_layer_norm_values(dtype, device, rng):
    a = rng.standard_normal((3, 4, 5)).astype(dtype)
    w, b = rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)
    y = F.layer_norm(tg.tensor(a, device=device), (4, 5), tg.tensor(w, device=device),
                     tg.tensor(b, device=device), eps=1e-3)
    assert y.dtype == dtype and y.shape == (3, 4, 5)
    expected = normalize_ref(a.astype(np.float64), (1, 2), 1e-3) * w + b
    np.testing.assert_allclose(host(y), expected, rtol=1e-4, atol=1e-5)


def test_layer_norm_stable_at_large_and_constant_rows():
    """Rows of +-1e4 normalise exactly; a constant row gives zeros (0 / sqrt(eps)), not nan,
    and finite gradients."""
    a = np.array([[1e4, -1e4, 1e4, -1e4], [3.0, 3.0, 3.0, 3.0]], dtype=np.float32)
    x = tg.tensor(a, requires_grad=True)
    y = F.layer_norm(x, (4,))
    np.testing.assert_allclose(host(y), [[1, -1, 1, -1], [0, 0, 0, 0]], atol=1e-4)
    y.backward(tg.tensor(np.arange(8.0, dtype=np.float32).reshape(2, 4)))
    assert np.isfinite(host(x.grad)).all()


def test_norm_fused_backward_equals_composite(rng):
    """Without create_graph the fused backward kernel runs; with it the tensor-op formula. They
    must agree for every input."""
    cases = [(lambda x, w, b: F.layer_norm(x, (5,), w, b), (4, 5), (5,)),
             (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (4, 3, 5), (3,)),
             (lambda x, w, b: F.group_norm(x, 3, w, b), (2, 6, 4), (6,))]
    for fn, shape, pshape in cases:
        inputs = [leaf64(rng, *shape), leaf64(rng, *pshape), leaf64(rng, *pshape)]
        g = tg.tensor(rng.standard_normal(shape))
        fused = tg.autograd.grad(fn(*inputs), inputs, g)
        composite = tg.autograd.grad(fn(*inputs), inputs, g, create_graph=True)
        for a, b in zip(fused, composite):
            np.testing.assert_allclose(host(a), host(b), rtol=1e-9, atol=1e-11)


def test_layer_norm_shape_errors():
    x = tg.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[6\].*\[\*, 6\].*\[4, 5\]"):
        F.layer_norm(x, (6,))
    with pytest.raises(RuntimeError, match="weight of shape"):
        F.layer_norm(x, (5,), tg.ones(4))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_train_grads(shape, affine, device, rng):
    x = leaf64(rng, *shape, device=device)
    params = (leaf64(rng, 3, device=device), leaf64(rng, 3, device=device)) if affine else ()

    def f(x, *wb):
        return F.batch_norm(x, None, None, *wb, training=True)
    assert gradcheck(f, (x, *params))
    assert gradgradcheck(f, (x, *params))


def test_batch_norm_eval_grads(device, rng):
    x, w, b = leaf64(rng, 4, 3, 5, device=device), leaf64(rng, 3, device=device), leaf64(
        rng, 3, device=device)
    mean = tg.tensor(rng.standard_normal(3), device=device)
    var = tg.tensor(rng.uniform(0.5, 2.0, 3), device=device)

    def f(x, w, b):
        return F.batch_norm(x, mean, var, w, b, training=False)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_batch_norm_values_and_running_stats(rng):
    """Training normalises with the batch statistics and moves the running ones by momentum
    toward the batch mean and the UNBIASED batch variance; eval uses the running ones."""
    a = rng.standard_normal((4, 3, 5)) * 2 + 1
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = tg.zeros(3, dtype=tg.float64), tg.ones(3, dtype=tg.float64)
    y = F.batch_norm(tg.tensor(a), running_mean, running_var, tg.tensor(w), tg.tensor(b),
                     training=True, momentum=0.3, eps=1e-4)
    expected = normalize_ref(a, (0, 2), 1e-4) * w[:, None] + b[:, None]
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(host(running_mean), 0.3 * a.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(host(running_var), 0.7 + 0.3 * a.var(axis=(0, 2), ddof=1),
                               rtol=1e-12)
    y = F.batch_norm(tg.tensor(a), running_mean, running_var, tg.tensor(w), tg.tensor(b),
                     training=False, eps=1e-4)
    rm, rv = host(running_mean)[:, None], host(running_var)[:, None]
    np.testing.assert_allclose(host(y), (a - rm) / np.sqrt(rv + 1e-4) * w[:, None] + b[:, None],
                               rtol=1e-10)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(tg.ones(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.batch_norm(tg.ones(2, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match=r"3 channels.*weight of shape \(3,\), got \(4,\)"):
        F.batch_norm(tg.ones(2, 3), None, None, tg.ones(4), training=True)


@pytest.mark.parametrize("shape, groups", [((2, 6, 4), 3), ((2, 4, 3, 2), 2), ((3, 4), 4)])
def test_group_norm_grads_and_values(shape, groups, device, rng):
    x, w, b = (leaf64(rng, *s, device=device) for s in (shape, shape[1:2], shape[1:2]))

    def f(x, w, b):
        return F.group_norm(x, groups, w, b)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    a = host(x)
    grouped = normalize_ref(a.reshape(shape[0], groups, -1), (2,)).reshape(shape)
    per_channel = (-1,) + (1,) * (len(shape) - 2)
    expected = grouped * host(w).reshape(per_channel) + host(b).reshape(per_channel)
    np.testing.assert_allclose(host(f(x, w, b)), expected, rtol=1e-10, atol=1e-10)


def test_group_norm_rejects_indivisible_channels():
    with pytest.raises(RuntimeError, match=r"channels \(6\).*divisible.*num_groups \(4\)"):
        F.group_norm(tg.ones(2, 6, 3), 4)


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    a = rng.standard_normal((4, 6, 3, 2)).astype(np.float32)
    w, b = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    lw, lb = (rng.standard_normal((3, 2)).astype(np.float32) for _ in range(2))
    cases = [
        (lambda x: F.group_norm(x, 3, tg.tensor(w), tg.tensor(b)),
         lambda t: tf.group_norm(t, 3, torch.tensor(w), torch.tensor(b))),
        (lambda x: F.layer_norm(x, (3, 2), tg.tensor(lw), tg.tensor(lb)),
         lambda t: tf.layer_norm(t, (3, 2), torch.tensor(lw), torch.tensor(lb))),
        (lambda x: F.batch_norm(x, None, None, tg.tensor(w), tg.tensor(b), training=True),
         lambda t: tf.batch_norm(t, None, None, torch.tensor(w), torch.tensor(b), training=True)),
    ]
    g = rng.standard_normal(a.shape).astype(np.float32)
    for ours, theirs in cases:
        x, t = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = ours(x), theirs(t)
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(y), ty.detach().cpu().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(host(x.grad), t.grad.cpu().numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_passes_an_empty_batch_through(training):
    # PyTorch returns an empty input as it is (any rank), running stats untouched
    mean, var = tg.zeros(3), tg.ones(3)
    for x, stats in ((tg.zeros(0, 3, requires_grad=True), (mean, var)),
                     (tg.zeros(0, requires_grad=True), (tg.zeros(0), tg.ones(0)))):
        y = F.batch_norm(x, *stats, training=training)
        assert y.shape == x.shape
        y.sum().backward()
        assert x.grad.shape == x.shape
    np.testing.assert_array_equal(host(mean), 0)
    np.testing.assert_array_equal(host(var), 1)


def test_group_norm_of_a_vector_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="at least 2"):
        F.group_norm(tg.zeros(1), 1)

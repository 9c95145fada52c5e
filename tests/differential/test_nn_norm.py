"""Differential tests of tinygen.nn.functional against PyTorch, part 3: the normalizations
(layer, group, batch in training and eval with its running statistics, instance, RMS) on
small random configurations: values, float64 gradients, updated running stats, errors."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import tinygen as tg
import tinygen.nn.functional as F
from tests.differential.nn_compare import compare
from tests.helpers import host

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FAST = settings(max_examples=15, deadline=None, derandomize=True, phases=[Phase.generate])


def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**16)))


def _maybe(data, rng, shape):
    """A random array of `shape`, or None."""
    return rng.standard_normal(shape) if data.draw(st.booleans()) else None


@FAST
@given(data=st.data())
def test_layer_and_rms_norm(data):
    rng = _rng(data)
    shape = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(1, 4))))
    k = data.draw(st.integers(1, len(shape)))
    normalized = shape[-k:]
    if data.draw(st.integers(0, 5)) == 0:
        normalized = (normalized[0] + 1,) + normalized[1:]       # a mismatch: both must raise
    x = rng.standard_normal(shape)
    w, b = _maybe(data, rng, normalized), _maybe(data, rng, normalized)
    eps = data.draw(st.sampled_from([1e-5, 0.1]))
    compare(torch, lambda *a: F.layer_norm(a[0], normalized, *a[1:], eps=eps),
            lambda *a: TF.layer_norm(a[0], normalized, *a[1:], eps=eps), [x, w, b])
    rms_eps = data.draw(st.sampled_from([None, 0.1]))
    compare(torch, lambda *a: F.rms_norm(*a[:1], normalized, a[1], eps=rms_eps),
            lambda *a: TF.rms_norm(*a[:1], normalized, a[1], eps=rms_eps), [x, w])


@FAST
@given(data=st.data())
def test_group_norm(data):
    rng = _rng(data)
    groups = data.draw(st.integers(1, 3))
    channels = groups * data.draw(st.integers(1, 2)) + data.draw(st.sampled_from([0, 0, 0, 1]))
    spatial = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2))))
    x = rng.standard_normal((data.draw(st.integers(1, 2)), channels) + spatial)
    w, b = _maybe(data, rng, channels), _maybe(data, rng, channels)
    if w is None and b is not None:     # torch 2.13's backward fails ("tensor does not have a
        w = rng.standard_normal(channels)   # device") for a bias without a weight
    compare(torch, lambda *a: F.group_norm(a[0], groups, *a[1:]),
            lambda *a: TF.group_norm(a[0], groups, *a[1:]), [x, w, b])


def _running(data, rng, c):
    """Running mean and variance arrays (or None), as tinygen and torch tensors."""
    if not data.draw(st.booleans()):
        return (None, None), (None, None)
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    return (tg.tensor(mean), tg.tensor(var)), (torch.tensor(mean), torch.tensor(var))


@pytest.mark.parametrize("name", ["batch_norm", "instance_norm"])
@FAST
@given(data=st.data())
def test_batch_and_instance_norm(name, data):
    rng = _rng(data)
    c = data.draw(st.integers(1, 3))
    spatial = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2))))
    x = rng.standard_normal((data.draw(st.integers(1, 3)), c) + spatial)
    wc = c + 1 if data.draw(st.integers(0, 7)) == 0 else c       # a wrong weight: raise
    w, b = _maybe(data, rng, wc), _maybe(data, rng, c)
    ours, theirs = _running(data, rng, c)
    flag = data.draw(st.booleans())
    kw = dict(momentum=data.draw(st.sampled_from([0.1, 0.5, 1.0])), eps=1e-5)
    kw["training" if name == "batch_norm" else "use_input_stats"] = flag
    tol = dict(rtol=1e-10, atol=1e-12)
    if data.draw(st.integers(0, 3)) == 0:
        x, w, b = (a if a is None else a.astype(np.float32) for a in (x, w, b))
        ours = tuple(r if r is None else r.float() for r in ours)
        theirs = tuple(r if r is None else r.float() for r in theirs)
        tol = dict(rtol=1e-4, atol=1e-5)
    compare(torch, lambda *a: getattr(F, name)(a[0], *ours, *a[1:], **kw),
            lambda *a: getattr(TF, name)(a[0], *theirs, *a[1:], **kw), [x, w, b], **tol)
    for o, t in zip(ours, theirs):
        if t is not None:
            np.testing.assert_allclose(host(o), t.numpy(), **tol)


@pytest.mark.parametrize("shape, groups", [((1, 1), 1), ((1, 2, 1), 2), ((1, 3), 2)])
def test_group_norm_single_value_groups_raise(shape, groups):
    """Regression: PyTorch refuses group_norm when N * (C // G) * prod(spatial) is 1 (one
    value per statistic); tinygen returned zeros."""
    x = np.ones(shape)
    with pytest.raises(ValueError):
        TF.group_norm(torch.tensor(x), groups)
    with pytest.raises(ValueError, match="more than 1 value"):
        F.group_norm(tg.tensor(x), groups)


def test_batch_norm_checks_batch_size_before_weight_shape():
    """Regression: with one value per channel and a wrong weight, PyTorch's batch size check
    (ValueError) comes first; tinygen raised the weight's RuntimeError."""
    x, w = np.ones((1, 2)), np.ones(3)
    with pytest.raises(ValueError):
        TF.batch_norm(torch.tensor(x), None, None, torch.tensor(w), training=True)
    with pytest.raises(ValueError, match="more than 1 value"):
        F.batch_norm(tg.tensor(x), None, None, tg.tensor(w), training=True)

"""Hypothesis generators and the tinygen-vs-PyTorch comparison used by the differential tests.

Values come from a drawn seed rather than from hypothesis element by element: small normal floats
and small integers keep every op in a well-conditioned range, and shrinking still works on the
shapes, dims and dtypes, which is where the interesting bugs live."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygen as tg

DTYPES = ("float32", "float64", "int64", "bool")
FLOATS = ("float32", "float64")
RTOL = {"float32": 1e-6, "float64": 1e-12}
# tinygen's engine reports a broadcasting failure as ValueError where PyTorch says RuntimeError.
SAME_ERROR = {RuntimeError: (RuntimeError, ValueError)}
SAME_ERROR[NotImplementedError] = NotImplementedError


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=3):
    """Array shapes with 0-d, size-0 and size-1 dims among them."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcast_pairs(min_side=0):
    """Two shapes that broadcast together, often of different ranks."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                             min_side=min_side, max_side=3).map(
                                                 lambda s: s.input_shapes)


@st.composite
def dims(draw, ndim, allow_none=True, allow_tuple=True):
    """None, one dim or a tuple of distinct dims of an ``ndim``-d tensor, negatives included."""
    choices = ["int"] * (ndim > 0) + ["none"] * allow_none + ["tuple"] * allow_tuple
    kind = draw(st.sampled_from(choices or ["none"]))
    if kind == "none" or ndim == 0 and kind == "int":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    # no empty tuple: PyTorch itself disagrees on dim=() (sum reduces all, all() nothing,
    # var's forward all but its backward nothing)
    if not ndim:
        return None
    picked = draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim))
    return tuple(d - ndim if draw(st.booleans()) else d for d in picked)


def array(seed, shape, dtype, low=-4, high=4):
    """A NumPy array of ``dtype`` from ``seed``: normal floats, integers in [low, high), bools."""
    rng = np.random.default_rng(seed)
    if dtype in FLOATS:
        return rng.standard_normal(shape).astype(dtype)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    return rng.integers(low, high, shape).astype(dtype)


seeds = st.integers(0, 2**16)


def dtype_name(dtype):
    """'float32' for tg.float32 or torch.float32."""
    return str(dtype).rsplit(".", 1)[-1]


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _assert_same(ours, theirs, what):
    """One tinygen result equals one torch result: shape, dtype, values."""
    ours_np = ours.detach().cpu().numpy() if isinstance(ours, tg.Tensor) else np.asarray(ours)
    theirs_np = theirs.detach().numpy()
    assert tuple(ours_np.shape) == tuple(theirs_np.shape), f"{what}: shape"
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), (
        f"{what}: dtype {ours.dtype} vs {theirs.dtype}")
    name = dtype_name(theirs.dtype)
    if name in RTOL:
        np.testing.assert_allclose(ours_np, theirs_np, rtol=RTOL[name], atol=RTOL[name],
                                   equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ours_np, theirs_np, err_msg=what)


def compare(torch, op_tg, op_torch, arrays, seed=0, grad=True, what="op"):
    """Run ``op_tg`` on tinygen tensors and ``op_torch`` on torch tensors made from ``arrays``;
    both must raise the same error type, or agree on values, dtypes, shapes and (where every
    differentiable input is float64) on the gradient of a random weighted sum of the outputs.
    Returns torch's result (None when both raised)."""
    # float32 inputs mixed in would make PyTorch's backward round (pow's b - 1 in float32)
    grad = grad and any(a.dtype == np.float64 for a in arrays) and not any(
        a.dtype == np.float32 for a in arrays)
    ours_in = [tg.tensor(a.copy(), requires_grad=grad and a.dtype == np.float64) for a in arrays]
    theirs_in = [torch.tensor(a.copy(), requires_grad=grad and a.dtype == np.float64)
                 for a in arrays]
    try:
        theirs = op_torch(*theirs_in)
    except (RuntimeError, ValueError, IndexError, TypeError) as error:
        expected = SAME_ERROR.get(type(error), type(error))
        try:
            op_tg(*ours_in)
        except expected:
            return None
        raise AssertionError(f"{what}: torch raised {type(error).__name__}: {error}, "
                             "tinygen did not raise the same type")
    ours = op_tg(*ours_in)
    ours_out, theirs_out = _flat(ours), _flat(theirs)
    assert len(ours_out) == len(theirs_out), what
    for i, (o, t) in enumerate(zip(ours_out, theirs_out)):
        _assert_same(o, t, f"{what} output {i}")
    if grad:
        _compare_grads(torch, ours_in, theirs_in, ours_out, theirs_out, seed, what)
    return theirs


def _compare_grads(torch, ours_in, theirs_in, ours_out, theirs_out, seed, what):
    """Gradients of sum(w * output) with the same random weights, float outputs only."""
    rng = np.random.default_rng(seed + 1)
    # tinygen keeps step functions (sign) outside the graph, where PyTorch's gradient is 0
    pairs = [(o, t) for o, t in zip(ours_out, theirs_out)
             if t.dtype == torch.float64 and t.requires_grad and o.requires_grad]
    wants = [i for i, t in enumerate(theirs_in) if t.requires_grad]
    if not pairs or not wants:
        return
    weights = [rng.standard_normal(tuple(t.shape)) for _, t in pairs]
    loss_t = sum((t * torch.tensor(w)).sum() for (_, t), w in zip(pairs, weights))
    loss_o = sum((o * tg.tensor(w)).sum() for (o, _), w in zip(pairs, weights))
    try:
        g_t = torch.autograd.grad(loss_t, [theirs_in[i] for i in wants], allow_unused=True)
    except RuntimeError:            # no derivative in PyTorch (floor_divide), or its own bug
        return
    g_o = tg.autograd.grad(loss_o, [ours_in[i] for i in wants], allow_unused=True)
    for i, a, b in zip(wants, g_o, g_t):
        if b is None:
            b = torch.zeros_like(theirs_in[i])
        if a is None:
            a = tg.zeros(tuple(theirs_in[i].shape), dtype=tg.float64)
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=1e-10,
                                   atol=1e-10, equal_nan=True, err_msg=f"{what}: grad of input {i}")

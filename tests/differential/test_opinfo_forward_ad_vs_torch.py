"""PyTorch's OpInfo samples run under forward-mode AD on both libraries: every floating input
tensor of a float64 sample gets a fixed random tangent, and the primal outputs and their
tangents (tinygen.autograd.forward_ad against torch.autograd.forward_ad) must agree.

Samples whose reverse-mode result already differs from torch's are skipped here (the
test_opinfo_<area> files list those); random ops are not run."""

import types

import numpy as np
import pytest

import tinygen as tg
import tinygen.autograd.forward_ad as tg_fwad
from tests.differential.opinfo import (RANDOM_OPS, Unsupported, _flatten, _run_sample, op_db,
                                       op_id, ours, resolve, to_tinygen)
from tests.helpers import host

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow  # a minute or more: deselect with -m "not slow"

torch_fwad = torch.autograd.forward_ad

MAX_SAMPLES = 8
TOLERANCE = 1e-6
# torch's jvp of logcumsumexp sums exp(x - max) dx and loses digits where that is tiny;
# tinygen's sums in log space and agrees with central differences (tests/autograd)
LOOSER = {"logcumsumexp": 1e-5,
          "cov": 1e-5}   # a sample's aweights are float32: so are parts of the tangent
# Arguments given no tangent: running statistics updated in place (training mode), which
# tinygen's forward AD refuses by design (in-place ops on dual tensors raise)
NO_TANGENT = {
    "nn.functional.batch_norm": lambda s: s.args[:2] if s.kwargs.get("training") else (),
    "nn.functional.instance_norm": lambda s: (
        (s.kwargs.get("running_mean"), s.kwargs.get("running_var"))
        if s.kwargs.get("use_input_stats", True) else ()),
}


def _repeated_indices(sample):
    """max_unpool with one output position named twice in a plane: which value lands there
    is unspecified (torch's primal and tangent kernels even pick differently)."""
    planes = sample.args[0].flatten(2)
    return any(len(set(row.tolist())) < len(row) for row in planes.flatten(0, 1))


SKIP = {f"nn.functional.max_unpool{n}d": _repeated_indices for n in (1, 2, 3)}

DIVERGES = {
    "zero_": "an in-place op on a dual tensor: tinygen's forward AD refuses those by design "
             "(forward_ad.py: tangents are not followed through in-place ops), torch updates "
             "the tangent",
    "gradient": "coordinates given as tensors in `spacing` are constants in tinygen (detached): "
                "their tangents are dropped, torch differentiates through them; the input's "
                "tangent agrees",
}


def _is_float(t):
    return isinstance(t, torch.Tensor) and (t.dtype.is_floating_point or t.dtype.is_complex)


def _map(value, fn):
    """`value` (nested lists, tuples, dicts) with each tensor replaced by fn(tensor)."""
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_map(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    return fn(value)


def _duals(sample, rng, constant):
    """The sample's (input, args, kwargs) made dual in torch and in tinygen: each floating
    tensor not in `constant` gets the same random tangent in both (the same tensor twice,
    one dual)."""
    memo, t_duals, o_duals = {}, {}, {}
    constant = {id(t) for t in constant}
    parts = (sample.input, sample.args, sample.kwargs)
    to_tinygen(parts, memo)

    def torch_dual(t):
        if not _is_float(t) or id(t) in constant:
            return t.detach() if isinstance(t, torch.Tensor) else t
        if id(t) not in t_duals:
            tangent = torch.from_numpy(rng.standard_normal(tuple(t.shape))).to(t.dtype)
            t_duals[id(t)] = torch_fwad.make_dual(t.detach(), tangent)
            o_duals[id(t)] = tg_fwad.make_dual(memo[id(t)].detach(),
                                               tg.tensor(tangent.numpy().copy()))
        return t_duals[id(t)]

    def tg_dual(t):
        if not isinstance(t, torch.Tensor):
            return t
        return o_duals[id(t)] if id(t) in o_duals else memo[id(t)]

    t_parts = _map(parts, torch_dual)
    o_parts = _map(parts, lambda v: tg_dual(v) if isinstance(v, torch.Tensor)
                   else to_tinygen(v, memo))
    return t_parts, o_parts, bool(t_duals)


def _close(ours_array, theirs, what, tol):
    try:
        np.testing.assert_allclose(ours_array, theirs, rtol=tol, atol=tol, equal_nan=True)
    except AssertionError as exc:
        return f"{what} differs: " + " ".join(str(exc).split())[:300]
    return None


def _compare(o_out, t_out, tol):
    """None when tinygen's primal outputs and tangents match torch's, else what differs."""
    t_flat, o_flat = _flatten(t_out), _flatten(o_out)
    if len(t_flat) != len(o_flat):
        return f"{len(o_flat)} outputs, torch {len(t_flat)}"
    for i, (o, t) in enumerate(zip(o_flat, t_flat)):
        if not isinstance(t, torch.Tensor):
            continue
        if not isinstance(o, tg.Tensor):
            return f"output {i} is {type(o).__name__}, torch a tensor"
        t_primal, t_tangent = torch_fwad.unpack_dual(t)
        o_primal, o_tangent = tg_fwad.unpack_dual(o)
        problem = _close(host(o_primal), t_primal.numpy(force=True), f"output {i}", tol)
        if problem:
            return problem
        if t_tangent is None or not _is_float(t):
            continue
        theirs = t_tangent.numpy(force=True)
        if o_tangent is None:
            if np.any(theirs != 0):     # a None tangent stands for zeros
                return f"output {i} has no tangent, torch has one"
            continue
        problem = _close(host(o_tangent), theirs, f"tangent of output {i}", tol)
        if problem:
            return problem
    return None


def _run(torch_fn, tg_fn, sample, rng, constant=(), tol=TOLERANCE):
    """None when tinygen's forward AD agrees with torch's on one sample."""
    with torch_fwad.dual_level(), tg_fwad.dual_level():
        try:
            torch_args, tg_args, any_dual = _duals(sample, rng, constant)
        except Unsupported:
            return None
        if not any_dual:
            return None
        (t_in, t_args, t_kwargs), (o_in, o_args, o_kwargs) = torch_args, tg_args
        try:
            t_out = torch_fn(t_in, *t_args, **t_kwargs)
        except Exception:  # torch itself refuses the sample (or has no rule for it)
            return None
        try:
            o_out = tg_fn(o_in, *o_args, **o_kwargs)
        except Exception as exc:
            return f"raised {type(exc).__name__}: {exc}"[:300]
        # torch's processing of outputs defined up to a choice (eigenvectors' signs: abs)
        process = sample.output_process_fn_grad
        try:
            o_out = process(o_out)
        except Exception:  # written for torch outputs
            return _compare(o_out, t_out, tol)
        return _compare(o_out, process(t_out), tol)


def _reverse_mode_differs(op, ours_fn, sample):
    """Whether the sample already differs from torch in values or reverse-mode gradients
    (its op's area file lists that): forward mode is not judged on it."""
    with_grad = sample.input.requires_grad if isinstance(sample.input, torch.Tensor) else False
    return _run_sample(op, ours_fn, sample, with_grad, values=True) is not None


def _as_tinygen(fn):
    """A torch-written wrapper function with `torch` meaning tinygen (as opinfo.ours does)."""
    if "torch" not in getattr(fn, "__globals__", {}):
        return fn
    rebound = types.FunctionType(fn.__code__, {**fn.__globals__, "torch": tg}, fn.__name__,
                                 fn.__defaults__, fn.__closure__)
    rebound.__kwdefaults__ = fn.__kwdefaults__
    return rebound


def check_forward_ad(op):
    ours_fn, name = ours(op), op_id(op)
    # as torch's own gradcheck and forward AD tests: a wrapper that makes the input valid for
    # the op (symmetric for cholesky, triangular for triangular_solve), tangents included
    wrapper = op.gradcheck_wrapper
    tg_wrapper = _as_tinygen(wrapper)
    torch_fn = (lambda *a, **k: wrapper(op.op, *a, **k))
    tg_fn = (lambda *a, **k: tg_wrapper(ours_fn, *a, **k))
    constant = NO_TANGENT.get(op.name, lambda s: ())
    torch.manual_seed(0)
    # the generator itself: op.sample_inputs wraps it in an iterator that reseeds torch and
    # inspects the stack at every sample, most of this file's time
    samples = op.sample_inputs_func(op, "cpu", torch.float64, op.supports_autograd)
    problems = []
    for i, sample in enumerate(samples):
        if i == MAX_SAMPLES:
            break
        if name in SKIP and SKIP[name](sample):
            continue
        problem = _run(torch_fn, tg_fn, sample, np.random.default_rng(i), constant(sample),
                       LOOSER.get(name, TOLERANCE))
        if problem and not _reverse_mode_differs(op, ours_fn, sample):
            problems.append(f"sample {i}: {problem}")
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])


def _ops():
    return [pytest.param(op, id=op_id(op), marks=[pytest.mark.xfail(
                reason=DIVERGES[op_id(op)], strict=True)] if op_id(op) in DIVERGES else [])
            for op in op_db
            if op.supports_forward_ad and resolve(op.name) is not None
            and torch.float64 in op.supported_dtypes("cpu")
            # random ops; fractional max pooling draws its random pooling regions
            and not any(word in op.name for word in RANDOM_OPS + ("fractional_max_pool",))]


@pytest.mark.parametrize("op", _ops())
def test_forward_ad_matches_torch(op):
    check_forward_ad(op)

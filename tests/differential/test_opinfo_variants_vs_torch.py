"""PyTorch's OpInfo samples through the method, operator and in-place variants of each op tinygen
has (x.add(y), x + y, x.add_(y), x += y, F.relu(x, inplace=True)).

A method or operator must exist and agree with torch in values and dtypes. An in-place variant
must exist; where torch accepts the sample it must agree in values, return the input tensor
itself and bump its version counter; where torch refuses it (a float result written into an int
tensor, a broadcast that would grow the input) it must raise the same builtin error type; and on
a float64 non-leaf (a clone of a leaf that requires grad) the gradients through it must equal
torch's."""

import functools
import types

import numpy as np
import pytest

import tinygen as tg
from tests.differential.nn_compare import builtin_error
from tests.differential.opinfo import (
    RANDOM_OPS, Unsupported, _compare_values, _describe, _flatten, grads_differ, op_db,
    op_id, outputs_differ, resolve, to_tinygen)

torch = pytest.importorskip("torch")

DTYPES = ("float64", "float32", "int64", "bool", "complex128")
SAMPLES = 16          # per dtype: fewer than the value sweep's, which checks the values at length
# The samples call deprecated torch ops (cholesky, lu, stft without a window) and tinygen warns
# where torch does: the warnings are each library's, not findings of this test.
pytestmark = [pytest.mark.slow,  # about a minute: deselect with -m "not slow"
              pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")]

DIVERGES = {
    "bfloat16": "x.bfloat16() raises TypeError: NumPy has no bfloat16 dtype, so tinygen has none "
                "(tinygen.dtypes.bfloat16 is a placeholder that says so)",
    "chalf": "x.chalf() raises TypeError: NumPy has no complex32 dtype, so tinygen has none "
             "(tinygen.dtypes.complex32 is a placeholder that says so)",
}
# Ops whose outputs hold indices among ties (or values defined by them): only shapes and dtypes
# are compared here; test_opinfo_reduce_sort_vs_torch.py checks the real invariants.
TIES = ("sort", "argsort", "msort", "topk", "kthvalue", "mode")
# Samples whose comparison is unfair, by op name.
SKIP = {
    # torch's addbmm_ quietly resizes a (1,) input to the (n, p) result; every other in-place
    # op refuses a broadcast that grows its input, and tinygen's addbmm_ does too.
    "addbmm": lambda s, inplace: inplace and tuple(s.input.shape) != (
        s.args[0].shape[1], s.args[1].shape[2]),
    # tinygen's Pade approximant runs in float64 for float32 input, torch's in float32 is off
    # by 2e-3 (relative) on one sample; test_opinfo_linalg_vs_torch.py compares float64 only.
    "matrix_exp": lambda s, inplace: s.input.dtype == torch.float32,
    # the samples are views into a larger storage that to_tinygen does not carry over
    "as_strided": lambda s, inplace: s.input._base is not None or not s.input.is_contiguous(),
}


def counterpart(fn):
    """tinygen's version of a torch variant: the Tensor method, function or functional of
    the same name; a lambda's code run with `torch` and `F` meaning tinygen; a partial of
    either; Python's operators (x += y) as they are. None where tinygen lacks it."""
    if getattr(fn, "__module__", None) == "_operator":
        return fn
    if isinstance(fn, functools.partial):
        ours = counterpart(fn.func)
        return ours and functools.partial(ours, *fn.args, **fn.keywords)
    if isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>":
        names = {"torch": tg, "F": tg.nn.functional}
        scope = {**fn.__globals__,
                 **{k: v for k, v in names.items() if k in fn.__globals__}}
        return types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__,
                                  fn.__closure__)
    for theirs, ours in ((torch.Tensor, tg.Tensor), (torch, tg),
                         (torch.nn.functional, tg.nn.functional)):
        if getattr(theirs, fn.__name__, None) is fn:
            return getattr(ours, fn.__name__, None)
    return None


def _variant_ops():
    params = []
    for op in op_db:
        if resolve(op.name) is None or all(v is None for group in _variants(op) for v in group):
            continue
        marks = ([pytest.mark.xfail(reason=DIVERGES[op_id(op)], strict=True)]
                 if op_id(op) in DIVERGES else [])
        params.append(pytest.param(op, id=op_id(op), marks=marks))
    return params


def _variants(op):
    """The out-of-place and the in-place variants of an OpInfo (None where torch has none)."""
    return ((op.method_variant, op.operator_variant),
            (op.inplace_variant, op.inplace_operator_variant))


def _convert(sample):
    memo = {}
    args = to_tinygen(sample.args, memo)
    kwargs = to_tinygen(sample.kwargs, memo)
    return to_tinygen(sample.input, memo), args, kwargs, memo


def _method_problem(variant, sample, exact):
    try:
        t_out = variant(sample.input, *sample.args, **sample.kwargs)
    except Exception:  # a sample torch refuses: the in-place check covers errors
        return None
    if any(isinstance(t, torch.Tensor) and t.layout != torch.strided for t in _flatten(t_out)):
        return None  # a sparse result, which to_tinygen has no counterpart for
    o_in, o_args, o_kwargs, _ = _convert(sample)
    try:
        o_out = counterpart(variant)(o_in, *o_args, **o_kwargs)
    except Exception as exc:
        return f"method raised {type(exc).__name__}: {exc}"[:300]
    problem = outputs_differ(o_out, t_out, exact)
    return None if problem is None else "method: " + problem


def _inplace_values_problem(variant, sample, exact):
    """Values, identity, version and error type of the in-place variant on a fresh copy."""
    t_self = sample.input.detach().clone()
    t_version = t_self._version
    try:
        variant(t_self, *sample.args, **sample.kwargs)
        expected = None
    except Exception as exc:
        expected = builtin_error(exc)
    o_in, o_args, o_kwargs, _ = _convert(sample)
    o_self = o_in.detach().clone()
    version = o_self._version
    try:
        o_out = counterpart(variant)(o_self, *o_args, **o_kwargs)
    except Exception as exc:
        if expected is None or not isinstance(exc, expected):
            want = "no error" if expected is None else expected.__name__
            return f"in-place raised {type(exc).__name__}: {exc} (torch: {want})"[:300]
        return None
    if expected is not None:
        return f"in-place: no error, torch raises {expected.__name__}"
    if o_out is not o_self:
        return f"in-place returned {type(o_out).__name__}, not its input"
    # (random ops write in place by steps that differ: torch's dropout3d(p=0) writes twice)
    if exact and (o_self._version != version) != (t_self._version != t_version):
        return f"in-place version counter went {version} -> {o_self._version}, torch's " \
               f"{t_version} -> {t_self._version}"
    problem = _compare_values(o_self, t_self, exact)
    return problem and "in-place: " + problem


def _weighted(lib, out):
    weight = lib.tensor(np.random.default_rng(0).standard_normal(tuple(out.shape)))
    return (out * weight).sum()


def _inplace_grad_problem(variant, sample):
    """Gradients through the in-place variant applied to a non-leaf clone of the input."""
    t_self = sample.input.clone()
    leaves = [t for t in _flatten([sample.input, list(sample.args),
                                   list(sample.kwargs.values())])
              if isinstance(t, torch.Tensor) and t.requires_grad]
    try:
        variant(t_self, *sample.args, **sample.kwargs)
        if not t_self.requires_grad or not leaves:
            return None
        t_grads = torch.autograd.grad(_weighted(torch, t_self), leaves, allow_unused=True)
    except Exception:  # torch refuses (or has no derivative for some in-place ops)
        return None
    o_in, o_args, o_kwargs, memo = _convert(sample)
    o_self = o_in.clone()
    try:
        counterpart(variant)(o_self, *o_args, **o_kwargs)
        o_grads = tg.autograd.grad(_weighted(tg, o_self), [memo[id(t)] for t in leaves],
                                   allow_unused=True)
    except Exception as exc:
        return f"in-place on a non-leaf raised {type(exc).__name__}: {exc}"[:300]
    return grads_differ(o_grads, t_grads, leaves, "in-place grad of input")


def check_variants(op):
    """Fail listing the samples on which a variant of `op` disagrees with torch."""
    methods, inplaces = ([v for v in group if v is not None] for group in _variants(op))
    for variant in methods + inplaces:
        assert counterpart(variant) is not None, f"tinygen lacks {variant}"
    exact = not any(word in op.name for word in RANDOM_OPS + TIES)
    skip = SKIP.get(op.name, lambda sample, inplace: False)
    supported = {str(d).split(".")[-1] for d in op.supported_dtypes("cpu")}
    problems = []
    for name in DTYPES:
        if name not in supported:
            continue
        with_grad = exact and name == "float64" and op.supports_autograd
        torch.manual_seed(0)
        # The generator itself, not op.sample_inputs: that wraps it in a tracker which walks
        # the whole Python stack (inspect.stack) per sample, ~1 s an op under pytest.
        samples = op.sample_inputs_func(op, "cpu", getattr(torch, name), with_grad)
        for i, sample in enumerate(samples):
            if i == SAMPLES:
                break
            if not isinstance(sample.input, torch.Tensor):
                continue
            try:
                found = [_method_problem(v, sample, exact) for v in methods
                         if not skip(sample, False)]
                found += [_inplace_values_problem(v, sample, exact)
                          or with_grad and _inplace_grad_problem(v, sample)
                          for v in inplaces if not skip(sample, True)]
            except Unsupported:
                continue
            problems += [f"{name} sample {i} {_describe(sample)}: {problem}"
                         for problem in found if problem]
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])


@pytest.mark.parametrize("op", _variant_ops())
def test_variants_match_torch(op):
    check_variants(op)

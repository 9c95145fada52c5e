"""Run PyTorch's own sample inputs through tinygen: the OpInfo database that PyTorch tests
every operator with (torch.testing._internal.common_methods_invocations.op_db).

For each OpInfo whose name tinygen has, every sample input is converted to tinygen tensors
and called on both libraries. The outputs must agree in shape, dtype and value, and, for
float64 samples of differentiable ops, the gradients of a random weighted sum of the outputs
with respect to every input tensor. The test files beside this one (test_opinfo_*) each take
a slice of the database; ops whose divergence is known and explained are listed there.

Needs torch and expecttest (torch's test utilities import it); the tests skip without them."""

import types

import numpy as np
import pytest

import tinygen as tg
from tests.differential.nn_compare import builtin_error
from tests.helpers import host

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402
from torch.testing._internal.opinfo.core import (  # noqa: E402
    BinaryUfuncInfo, ReductionOpInfo, UnaryUfuncInfo)

# Importing torch's test utilities freezes torch.backends' flags (common_utils calls
# disable_global_flags()); the scripts in tests/ports set cudnn flags, so thaw them again.
torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True

MAX_SAMPLES = 24
TOLERANCE = {"float64": (1e-7, 1e-7), "complex128": (1e-7, 1e-7),
             "float32": (1e-4, 1e-4), "complex64": (1e-4, 1e-4)}
# Ops whose results are random: only shapes and dtypes are compared.
RANDOM_OPS = ("bernoulli", "normal", "rand", "multinomial", "dropout", "uniform", "cauchy",
              "exponential", "geometric", "log_normal", "randint", "randn", "randperm",
              "empty", "new_empty", "empty_like", "empty_strided", "rrelu")


class Unsupported(Exception):
    """A sample holds a value tinygen has no counterpart for (a torch.Generator, say)."""


def _lookup(lib, name):
    """lib's function for an OpInfo name ('nn.functional.conv2d', 'linalg.svd', 'add'),
    falling back to the Tensor method of that name; None where lib has neither."""
    obj = lib
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            break
    if (obj is None or not callable(obj)) and "." not in name:
        return getattr(lib.Tensor, name, None)
    return obj


def resolve(name):
    """tinygen's callable for an OpInfo name, taking the input tensor first."""
    found = _lookup(tg, name)
    if found is None:
        return None
    if isinstance(found, property):
        return found.__get__
    if getattr(tg.Tensor, name, None) is found:
        return lambda x, *a, **k: found(x, *a, **k)
    return found


def ours(op):
    """What tinygen runs for an OpInfo. Where the OpInfo's op is torch's function or method
    of the same name, tinygen's; where it is a wrapper (a lambda calling a method or
    reordering arguments), that wrapper's code run with `torch` and `F` meaning tinygen."""
    if op.op in (getattr(torch, op.name, None), _lookup(torch, op.name)):
        return resolve(op.name)
    if not isinstance(op.op, types.FunctionType):
        return resolve(op.name)
    names = {"torch": tg, "F": tg.nn.functional}
    scope = {**op.op.__globals__, **{k: v for k, v in names.items() if k in op.op.__globals__}}
    wrapper = types.FunctionType(op.op.__code__, scope, op.op.__name__, op.op.__defaults__,
                                 op.op.__closure__)
    wrapper.__kwdefaults__ = op.op.__kwdefaults__
    return wrapper


LINALG = {"cholesky", "cholesky_inverse", "cholesky_solve", "det", "logdet", "slogdet",
          "inverse", "lu", "lu_solve", "lu_unpack", "matrix_exp", "pinverse", "qr", "svd",
          "triangular_solve", "geqrf", "ormqr", "matrix_power", "tensorinv", "tensorsolve"}
PRODUCTS_NORMS = {"norm", "dist", "renorm", "cdist", "nn.functional.pdist", "dot", "vdot",
                  "inner", "outer", "ger", "kron", "mm", "mv", "bmm", "matmul", "addmm",
                  "addmv", "addbmm", "baddbmm", "addr", "tensordot", "einsum", "chain_matmul",
                  "nn.functional.pairwise_distance", "nn.functional.normalize",
                  "nn.functional.cosine_similarity", "nn.functional.triplet_margin_loss",
                  "nn.functional.triplet_margin_with_distance_loss", "trace", "cross"}
REDUCE_SORT = {"sort", "argsort", "msort", "topk", "kthvalue", "mode", "median", "nanmedian",
               "quantile", "nanquantile", "cummax", "cummin", "cumsum", "cumprod",
               "logcumsumexp", "cumulative_trapezoid", "trapezoid", "trapz", "var", "std",
               "var_mean", "std_mean", "cov", "corrcoef", "aminmax", "histc", "histogram",
               "bincount", "unique", "unique_consecutive", "searchsorted", "bucketize",
               "logsumexp", "gradient", "diff", "sum_to_size"}


def area(op):
    """Which test file checks an OpInfo: 'linalg', 'products_norms', 'reduce_sort', 'nn',
    'pointwise' (unary and binary ufuncs, special.*, fft.*, signal.*) or 'rest'."""
    name = op.name
    if name.startswith("linalg.") or name in LINALG:
        return "linalg"
    if name in PRODUCTS_NORMS or name.startswith("norm"):
        return "products_norms"
    if isinstance(op, ReductionOpInfo) or name in REDUCE_SORT:
        return "reduce_sort"
    if name.startswith("nn.functional."):
        return "nn"
    if isinstance(op, (UnaryUfuncInfo, BinaryUfuncInfo)) or name.split(".")[0] in (
            "special", "fft", "signal"):
        return "pointwise"
    return "rest"


def op_id(op):
    return op.name + ("." + op.variant_test_name if op.variant_test_name else "")


def ops_in(area_name, diverges=None):
    """pytest parameters for the OpInfos of one area that tinygen has; those named in
    `diverges` (op id -> reason) are strict xfails, so that a fix is noticed."""
    diverges = diverges or {}
    return [pytest.param(op, id=op_id(op), marks=[pytest.mark.xfail(
                reason=diverges[op_id(op)], strict=True)] if op_id(op) in diverges else [])
            for op in op_db if area(op) == area_name and resolve(op.name) is not None]


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def to_tinygen(value, memo):
    """A torch value (tensor, dtype, size, nested containers) as the tinygen equivalent;
    the same torch tensor twice becomes the same tinygen tensor twice."""
    if isinstance(value, torch.Tensor):
        if id(value) not in memo:
            if value.layout != torch.strided:
                raise Unsupported(str(value.layout))
            array = value.numpy(force=True).copy()
            memo[id(value)] = tg.tensor(array, requires_grad=value.requires_grad)
        return memo[id(value)]
    if isinstance(value, torch.dtype):
        return getattr(tg, _dtype_name(value))
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, torch.device):
        return tg.device(str(value))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_tinygen(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: to_tinygen(v, memo) for k, v in value.items()}
    if isinstance(value, (torch.Generator, torch.memory_format, torch.layout)):
        raise Unsupported(type(value).__name__)
    if isinstance(value, torch.nn.Module):
        return _module_to_tinygen(value)
    return value


def _module_to_tinygen(module):
    """A parameter-free torch module (a distance_function=nn.PairwiseDistance(), say) as
    tinygen's module of the same class, with the same number, bool and string settings."""
    if any(True for _ in module.parameters()) or not hasattr(tg.nn, type(module).__name__):
        raise Unsupported(type(module).__name__)
    ours = getattr(tg.nn, type(module).__name__)()
    for key, setting in vars(module).items():
        if isinstance(setting, (bool, int, float, str)) and hasattr(ours, key):
            setattr(ours, key, setting)
    return ours


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _flatten(item)]
    return [out]


def _describe(sample):
    def shape(v):
        return f"T{tuple(v.shape)}:{_dtype_name(v.dtype)}" if isinstance(v, torch.Tensor) \
            else repr(v)[:60]
    args = ", ".join(shape(a) for a in sample.args)
    kwargs = ", ".join(f"{k}={shape(v)}" for k, v in sample.kwargs.items())
    return f"({shape(sample.input)}; {args}; {kwargs})"


def _compare_values(ours, theirs, exact_values):
    """None when `ours` (tinygen) matches `theirs` (torch), else what differs."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, tg.Tensor):
            return f"returned {type(ours).__name__}, torch a tensor"
        if tuple(ours.shape) != tuple(theirs.shape):
            return f"shape {tuple(ours.shape)}, torch {tuple(theirs.shape)}"
        if _dtype_name(ours.dtype) != _dtype_name(theirs.dtype):
            return f"dtype {_dtype_name(ours.dtype)}, torch {_dtype_name(theirs.dtype)}"
        if not exact_values:
            return None
        expected = theirs.numpy(force=True)
        rtol, atol = TOLERANCE.get(_dtype_name(theirs.dtype), (0, 0))
        try:
            np.testing.assert_allclose(host(ours), expected, rtol=rtol, atol=atol,
                                       equal_nan=True)
        except AssertionError as exc:
            return "values differ: " + " ".join(str(exc).split())[:300]
        return None
    if isinstance(ours, tg.Tensor) or (theirs is None) != (ours is None):
        return f"returned {type(ours).__name__}, torch {type(theirs).__name__}"
    if exact_values and theirs != ours and not (theirs != theirs and ours != ours):
        return f"returned {ours!r}, torch {theirs!r}"
    return None


def _weighted_sum(lib, outputs, rng):
    total = None
    for out in outputs:
        if isinstance(out, lib.Tensor) and out.requires_grad and out.dtype == lib.float64:
            weight = lib.tensor(rng.standard_normal(tuple(out.shape)), dtype=lib.float64)
            term = (out * weight).sum()
            total = term if total is None else total + term
    return total


def _compare_grads(sample, t_out, o_out, memo):
    """None when the gradients of a random weighted sum of the outputs agree."""
    process = sample.output_process_fn_grad
    try:
        o_processed = process(o_out)
    except Exception:  # the processing function is written for torch outputs
        return None
    t_loss = _weighted_sum(torch, _flatten(process(t_out)), np.random.default_rng(0))
    o_loss = _weighted_sum(tg, _flatten(o_processed), np.random.default_rng(0))
    if t_loss is None:
        return None
    if o_loss is None:
        return "output does not require grad"
    leaves = [t for t in _flatten([sample.input, sample.args, list(sample.kwargs.values())])
              if isinstance(t, torch.Tensor) and t.requires_grad]
    t_grads = torch.autograd.grad(t_loss, leaves, allow_unused=True)
    o_leaves = [memo[id(t)] for t in leaves]
    try:
        o_grads = tg.autograd.grad(o_loss, o_leaves, allow_unused=True)
    except Exception as exc:
        return f"backward raised {type(exc).__name__}: {exc}"[:300]
    return grads_differ(o_grads, t_grads, o_leaves, "grad of input")


def grads_differ(ours, theirs, leaves, what, tol=1e-6):
    """None when tinygen's gradients `ours` equal torch's `theirs` (None counts as zeros),
    else what differs: `what` and the input's position."""
    for i, (o, t, leaf) in enumerate(zip(ours, theirs, leaves)):
        t = np.zeros(tuple(leaf.shape)) if t is None else t.detach().numpy(force=True)
        o = np.zeros(tuple(leaf.shape)) if o is None else host(o.detach())
        try:
            np.testing.assert_allclose(o, t, rtol=tol, atol=tol, equal_nan=True)
        except AssertionError as exc:
            return f"{what} {i} differs: " + " ".join(str(exc).split())[:300]
    return None


def outputs_differ(ours, theirs, exact_values=True):
    """None when tinygen's outputs match torch's one by one, else what differs."""
    t_flat, o_flat = _flatten(theirs), _flatten(ours)
    if len(t_flat) != len(o_flat):
        return f"{len(o_flat)} outputs, torch {len(t_flat)}"
    for o, t in zip(o_flat, t_flat):
        problem = _compare_values(o, t, exact_values)
        if problem:
            return problem
    return None


def _run_sample(op, ours_fn, sample, with_grad, values):
    """None when tinygen agrees with torch on one sample, else what went wrong."""
    random = not values or any(word in op.name for word in RANDOM_OPS)
    try:
        t_out = op.op(sample.input, *sample.args, **sample.kwargs)
    except Exception:  # a sample torch itself refuses says nothing about tinygen
        return None
    memo = {}
    try:
        o_in = to_tinygen(sample.input, memo)
        o_args = to_tinygen(sample.args, memo)
        o_kwargs = to_tinygen(sample.kwargs, memo)
    except Unsupported:
        return None
    try:
        o_out = ours_fn(o_in, *o_args, **o_kwargs)
    except Exception as exc:
        return f"raised {type(exc).__name__}: {exc}"[:300]
    problem = outputs_differ(o_out, t_out, exact_values=not random)
    if problem:
        return problem
    if with_grad and not random:
        return _compare_grads(sample, t_out, o_out, memo)
    return None


def check_op(op, dtypes=("float64", "float32", "int64", "bool", "complex128"), values=True,
             grads=True, skip=None):
    """Run an OpInfo's samples in each dtype it supports; fail listing the samples that
    disagree. `values=False` compares only shapes and dtypes (results that are random, or
    defined up to a choice such as an eigenvector's sign), `grads=False` skips gradients,
    and samples for which `skip(sample)` is true are not run."""
    ours_fn = ours(op)
    supported = {_dtype_name(d) for d in op.supported_dtypes("cpu")}
    problems = []
    for name in dtypes:
        if name not in supported:
            continue
        dtype = getattr(torch, name)
        with_grad = grads and name == "float64" and op.supports_autograd
        torch.manual_seed(0)
        # sample_inputs_func, not sample_inputs: the latter's tracking wrapper calls
        # inspect.stack() for every sample, about 1 s per op under pytest.
        samples = op.sample_inputs_func(op, "cpu", dtype, with_grad)
        for i, sample in enumerate(samples):
            if i == MAX_SAMPLES:
                break
            if skip is not None and skip(sample):
                continue
            problem = _run_sample(op, ours_fn, sample, with_grad, values)
            if problem:
                problems.append(f"{name} sample {i} {_describe(sample)}: {problem}")
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])


def check_op_errors(op):
    """Each of torch's error inputs for an op (op.error_inputs: arguments torch refuses) must
    make tinygen raise the same builtin error type."""
    if op.error_inputs_func is None:
        return
    ours_fn = ours(op)
    problems = []
    for i, error in enumerate(op.error_inputs_func(op, "cpu")):
        sample = error.sample_input
        try:
            op.op(sample.input, *sample.args, **sample.kwargs)
        except Exception as exc:
            expected = builtin_error(exc)
        else:  # torch's database lists an input that torch itself accepts
            continue
        if expected is TypeError:
            # torch's argument parser refusing a Python number where it wants a tensor
            # (clamp_max(2, t)); tinygen accepting it, or refusing with AttributeError, is
            # leniency, not a wrong answer.
            continue
        memo = {}
        try:
            args = (to_tinygen(sample.input, memo), *to_tinygen(sample.args, memo))
            kwargs = to_tinygen(sample.kwargs, memo)
        except Unsupported:
            continue
        try:
            ours_fn(*args, **kwargs)
        except Exception as exc:
            if not isinstance(exc, expected):
                problems.append(f"error input {i} {_describe(sample)}: raised "
                                f"{type(exc).__name__}, torch {expected.__name__} "
                                f"({error.error_regex})")
            continue
        problems.append(f"error input {i} {_describe(sample)}: no error, torch raises "
                        f"{expected.__name__} ({error.error_regex})")
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])

"""Run PyTorch's own optimizer test configurations through tinygen.optim: the OptimizerInfo
database that PyTorch tests every optimizer with (torch.testing._internal.common_optimizers).

For each OptimizerInfo whose class tinygen.optim has, every optimizer input (the option
combinations torch tests on CPU, plus the implementation flags foreach/fused/differentiable
that torch adds to them) builds the same float64 parameters on both libraries, then both take
STEPS steps on the same smooth loss (through a closure, so LBFGS runs too). After every step
the losses, the parameters, the optimizer state (state_dict()["state"], by key) and the
options of every param group must agree. Inputs torch refuses on CPU (its CUDA-only
configurations: capturable=True, tensor betas) must make tinygen raise the same builtin
error type at the same point (construction or step). The error inputs must raise the same
builtin error type too (a UserWarning: the same warning).

Needs torch and expecttest; the tests skip without them."""

import contextlib
import math
import warnings

import numpy as np
import pytest

import tinygen as tg
from tests.differential.nn_compare import builtin_error
from tests.differential.opinfo import to_tinygen
from tests.helpers import host

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")
from torch.testing._internal.common_optimizers import (  # noqa: E402
    OptimizerErrorEnum, OptimizerInput, _get_optim_inputs_including_global_cliquey_kwargs,
    optim_db)

STEPS = 5
CLOSURE_STEPS = 2                       # an LBFGS step is itself up to 20 iterations
TOLERANCE = 1e-10
FLOAT32_TOLERANCE = 1e-6
SHAPES = ((), (5,), (3, 4))
MATRIX_SHAPES = ((3, 4), (4, 2))        # Muon takes only 2-D parameters
IMPLS = ("plain", "foreach", "fused", "differentiable")


def _impl(kwargs):
    return next((flag for flag in IMPLS[1:] if kwargs.get(flag)), "plain")


def optims_where(diverges=None):
    """pytest parameters (info, impl) for each OptimizerInfo that tinygen.optim has and each
    implementation flag torch tests it with on CPU; ids "Adam-fused" etc. Those named in
    `diverges` (id -> reason) are strict xfails."""
    diverges = diverges or {}
    params = []
    for info in optim_db:
        if not hasattr(tg.optim, info.name):
            continue
        impls = {_impl(i.kwargs) for i in _inputs(info)}
        for impl in (i for i in IMPLS if i in impls):
            key = f"{info.name}-{impl}"
            marks = [pytest.mark.xfail(reason=diverges[key], strict=True)] \
                if key in diverges else []
            params.append(pytest.param(info, impl, id=key, marks=marks))
    return params


def error_optims():
    """pytest parameters for each OptimizerInfo that tinygen.optim has and that lists error
    inputs."""
    return [pytest.param(info, id=info.name) for info in optim_db
            if hasattr(tg.optim, info.name) and info.optim_error_inputs_func is not None]


def _inputs(info):
    """torch's CPU inputs with the implementation flags, then its CUDA-only inputs (which
    torch refuses on CPU parameters). torch's own list leaves foreach=True out on CPU (it has
    no fast CPU foreach kernels), but torch.optim accepts it there: it is added."""
    cpu = _get_optim_inputs_including_global_cliquey_kwargs("cpu", torch.float64, info)
    if "foreach" in info.supported_impls:
        cpu += [OptimizerInput(None, {**i.kwargs, "foreach": True}, f"{i.desc} & foreach")
                for i in info.optim_inputs_func("cpu")]
    seen = {repr(sorted(i.kwargs.items())) for i in info.optim_inputs_func("cpu")}
    cuda = [i for i in info.optim_inputs_func("cuda")
            if repr(sorted(i.kwargs.items())) not in seen]
    return cpu + cuda


def _parameters(info):
    """The same float64 leaves for torch and for tinygen."""
    rng = np.random.default_rng(0)
    shapes = MATRIX_SHAPES if info.name == "Muon" else SHAPES
    arrays = [rng.standard_normal(shape) for shape in shapes]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [tg.tensor(a.copy(), requires_grad=True) for a in arrays]
    return theirs, ours


def _closure(lib, opt, params):
    """A smooth, non-quadratic loss of every parameter (so Adam-like steps, LBFGS line searches
    and Newton-Schulz all see varied gradients): sum of 0.5 (p - 0.3 i)^2 + 0.1 p^4 / (1 + i)."""
    def closure():
        opt.zero_grad()
        loss = sum(((p - 0.3 * i) ** 2 * 0.5 + 0.1 * p ** 4 / (1 + i)).sum()
                   for i, p in enumerate(params))
        loss.backward()
        return loss
    return closure


def _close(ours, theirs, what, tolerance=TOLERANCE):
    """None when tinygen's value equals torch's within `tolerance` (tensors: also shape and
    dtype)."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, tg.Tensor):
            return f"{what}: {type(ours).__name__}, torch a tensor"
        if str(ours.dtype).split(".")[-1] != str(theirs.dtype).split(".")[-1]:
            return f"{what}: dtype {ours.dtype}, torch {theirs.dtype}"
        expected, actual = theirs.detach().numpy(force=True), host(ours)
        if actual.shape != expected.shape:
            return f"{what}: shape {actual.shape}, torch {expected.shape}"
        # state torch keeps in float32 (step, ASGD's eta and mu) is compared at float32
        # precision: torch's own foreach and single-tensor paths round it differently
        if expected.dtype == np.float32:
            tolerance = max(tolerance, FLOAT32_TOLERANCE)
        try:
            np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance)
        except AssertionError as exc:
            return f"{what} differs: " + " ".join(str(exc).split())[:300]
        return None
    if isinstance(theirs, (tuple, list)):
        if not isinstance(ours, (tuple, list)) or len(ours) != len(theirs):
            return f"{what}: {ours!r}, torch {theirs!r}"
        return next((p for p in (_close(o, t, f"{what}[{i}]", tolerance)
                                 for i, (o, t) in enumerate(zip(ours, theirs))) if p), None)
    if isinstance(theirs, float) and isinstance(ours, float):
        close = math.isclose(ours, theirs, rel_tol=tolerance, abs_tol=tolerance)
        return None if close else f"{what}: {ours!r}, torch {theirs!r}"
    if isinstance(ours, tg.Tensor) or ours != theirs:
        return f"{what}: {ours!r}, torch {theirs!r}"
    return None


def _compare_state(opt_ours, opt_theirs, step, tolerance):
    ours, theirs = opt_ours.state_dict(), opt_theirs.state_dict()
    if set(ours["state"]) != set(theirs["state"]):
        return f"step {step}: state for {sorted(ours['state'])}, torch {sorted(theirs['state'])}"
    for index, t_state in theirs["state"].items():
        o_state = ours["state"][index]
        if set(o_state) != set(t_state):
            return f"step {step}: state[{index}] keys {sorted(o_state)}, torch {sorted(t_state)}"
        for key, value in t_state.items():
            problem = _close(o_state[key], value, f"step {step}: state[{index}][{key!r}]",
                             tolerance)
            if problem:
                return problem
    for i, (o_group, t_group) in enumerate(zip(ours["param_groups"], theirs["param_groups"])):
        if set(o_group) != set(t_group):
            return f"group {i} options {sorted(o_group)}, torch {sorted(t_group)}"
        for key, value in t_group.items():
            problem = _close(o_group[key], value, f"step {step}: group {i} {key!r}")
            if problem:
                return problem
    return None


def _attempt(action):
    """(result, None), or (None, the exception) when `action()` raises."""
    try:
        return action(), None
    except Exception as exc:
        return None, exc


def _refusal(what, ours_exc, theirs_exc):
    """None when both libraries raised the same builtin error type, else what differs."""
    if theirs_exc is None and ours_exc is None:
        return None
    if theirs_exc is None:
        return f"{what} raised {type(ours_exc).__name__}: {ours_exc}"[:300]
    expected = builtin_error(theirs_exc)
    if ours_exc is None:
        return f"{what}: no error, torch raises {expected.__name__} ({theirs_exc})"[:300]
    if not isinstance(ours_exc, expected):
        return (f"{what} raised {type(ours_exc).__name__}, torch {expected.__name__} "
                f"({theirs_exc})")[:300]
    return None


def _run_input(info, optim_input, tolerance):
    """None when tinygen's optimizer follows torch's through STEPS steps (or both refuse the
    input at the same point), else what went wrong."""
    t_params, o_params = _parameters(info)
    memo = {}
    o_kwargs = to_tinygen(optim_input.kwargs, memo)
    o_cls = getattr(tg.optim, info.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_opt, t_exc = _attempt(lambda: info.optim_cls(t_params, **optim_input.kwargs))
        o_opt, o_exc = _attempt(lambda: o_cls(o_params, **o_kwargs))
    if t_exc is not None or o_exc is not None:
        return _refusal("construction", o_exc, t_exc)
    t_closure, o_closure = _closure(torch, t_opt, t_params), _closure(tg, o_opt, o_params)
    for step in range(1, (CLOSURE_STEPS if info.step_requires_closure else STEPS) + 1):
        t_loss, t_exc = _attempt(lambda: t_opt.step(t_closure))
        o_loss, o_exc = _attempt(lambda: o_opt.step(o_closure))
        if t_exc is not None or o_exc is not None:
            return _refusal(f"step {step}", o_exc, t_exc)
        problem = _close(o_loss, t_loss, f"step {step}: loss", tolerance)
        for i, (o, t) in enumerate(zip(o_params, t_params)):
            problem = problem or _close(o, t, f"step {step}: param {i}", tolerance)
        problem = problem or _compare_state(o_opt, t_opt, step, tolerance)
        if problem:
            return problem
    return None


def check_optim(info, impl, reference=contextlib.nullcontext, tolerance=None):
    """Run every input of one OptimizerInfo that uses implementation flag `impl` ("plain":
    none); fail listing those that disagree. torch's optimizer runs inside the context
    manager `reference()`; values must agree within
    `tolerance(kwargs)` (relative and absolute; TOLERANCE where it returns None)."""
    problems = []
    for optim_input in _inputs(info):
        if _impl(optim_input.kwargs) != impl:
            continue
        with reference():
            limit = tolerance and tolerance(optim_input.kwargs)
            problem = _run_input(info, optim_input, limit or TOLERANCE)
        if problem:
            problems.append(f"{optim_input.desc} {optim_input.kwargs}: {problem}")
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])


def _error_params(info, optim_input):
    """The error input's parameters for tinygen (converted from torch's, with their
    gradients); the default parameters where it names none."""
    if optim_input.params is None:
        return _parameters(info)[1]
    memo = {}
    ours = to_tinygen(optim_input.params, memo)
    for t_param in _tensors(optim_input.params):
        if t_param.grad is not None:
            memo[id(t_param)].grad = tg.tensor(t_param.grad.numpy(force=True).copy())
    return ours


def _tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return _tensors(list(value.values()))
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def check_optim_errors(info):
    """Each of torch's error inputs must make tinygen raise the same builtin error type (or
    warn the same warning category), at construction or at the first step as torch does."""
    problems = []
    for i, error in enumerate(info.optim_error_inputs_func(device="cpu", dtype=torch.float64)):
        optim_input = error.optimizer_error_input
        o_params = _error_params(info, optim_input)
        o_kwargs = to_tinygen(optim_input.kwargs, {})
        o_cls = getattr(tg.optim, info.name)
        what = f"error input {i} ({optim_input.desc})"
        if issubclass(error.error_type, Warning):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                _, exc = _attempt(lambda: o_cls(o_params, **o_kwargs))
            if exc is not None or not any(issubclass(w.category, error.error_type)
                                          for w in caught):
                problems.append(f"{what}: no {error.error_type.__name__} "
                                f"({exc!r}, torch warns {error.error_regex})")
            continue
        opt, exc = _attempt(lambda: o_cls(o_params, **o_kwargs))
        if exc is None and error.error_on == OptimizerErrorEnum.STEP_ERROR:
            _, exc = _attempt(opt.step)
        elif exc is not None and error.error_on == OptimizerErrorEnum.STEP_ERROR:
            problems.append(f"{what}: construction raised {exc!r}, torch raises at step")
            continue
        expected = builtin_error(error.error_type())
        if not isinstance(exc, expected):
            problems.append(f"{what}: {exc!r}, torch raises {expected.__name__} "
                            f"({error.error_regex})"[:300])
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])

"""Second derivatives against PyTorch, on PyTorch's own OpInfo samples.

For every OpInfo tinygen has that supports autograd and gradgrad, each float64 sample is run
on both libraries: g = grad(sum(w * out), inputs, create_graph=True), then the gradient of
sum(v * g) with respect to the inputs and to w (w, v random and fixed). Both must agree.
Samples whose value or first derivative already differ are skipped here: the per-area sweeps
(test_opinfo_<area>_vs_torch.py) report those; a first derivative that is wrong only when the
backward is recorded (create_graph=True) is reported here."""

import numpy as np
import pytest

import tinygen as tg
from tests.differential.opinfo import (
    RANDOM_OPS, _compare_values, _flatten, grads_differ, op_db, op_id, ours, resolve,
    to_tinygen)

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow  # a minute or more: deselect with -m "not slow"

MAX_SAMPLES = 6                                         # keeps the file near 60 s
TOLERANCE = 1e-6
NOT_RANDOM = "nn.functional.normalize"                  # its name contains "normal"

# Ops whose second derivatives differ from torch's, knowingly: op id -> what differs.
DIVERGES = {}

# Samples that are not compared, by op id: where the comparison says nothing about tinygen.
SKIP = {
    # Every sample sits at x = 0, where a norm is not twice differentiable: torch's double
    # backward gives NaN for the 2-norm, tinygen 0 (the second derivative of its subgradient
    # convention). The first derivative is the products_norms sweep's to compare.
    "linalg.norm.subgradients_at_zero": lambda sample: True,
    # torch's first derivative with respect to raw log-probabilities is not the true one
    # (test_opinfo_nn_vs_torch.py explains), so no sample gets this far; skipping saves time.
    "nn.functional.ctc_loss": lambda sample: True,
}


def _tensor_leaves(sample):
    return [t for t in _flatten([sample.input, list(sample.args), list(sample.kwargs.values())])
            if isinstance(t, torch.Tensor) and t.requires_grad]


def _grads(lib, loss, leaves, create_graph):
    """d loss / d leaves, None for leaves the loss does not reach (all of them when there is
    no loss, or it does not require grad)."""
    if loss is None or not loss.requires_grad:
        return [None] * len(leaves)
    return list(lib.autograd.grad(loss, leaves, allow_unused=True, create_graph=create_graph))


def _close(ours_grads, theirs_grads, leaves):
    """None when two lists of gradients agree (None counts as zeros), else what differs."""
    return grads_differ(ours_grads, theirs_grads, leaves, "input", tol=TOLERANCE)


def _weighted_sum(lib, outputs, seed):
    """sum(w * out) (its real part) over the float64 and complex128 outputs that require grad,
    and the weights w: leaves that require grad, so that the backward's dependence on its
    incoming gradient is checked too (as torch's gradgradcheck does)."""
    rng = np.random.default_rng(seed)
    total, weights = None, []
    for out in outputs:
        if isinstance(out, lib.Tensor) and out.requires_grad and out.dtype in (
                lib.float64, lib.complex128):
            weight = rng.standard_normal(tuple(out.shape))
            if out.dtype == lib.complex128:
                weight = weight + 1j * rng.standard_normal(tuple(out.shape))
            weights.append(lib.tensor(weight, dtype=out.dtype, requires_grad=True))
            term = (out * weights[-1]).sum()
            term = term.real if out.dtype == lib.complex128 else term
            total = term if total is None else total + term
    return total, weights


def _second_loss(lib, grads, leaves):
    """sum(v * g) over the first derivatives that are themselves differentiable; v is drawn
    for every input, so both libraries weigh each input alike."""
    rng = np.random.default_rng(1)
    total = None
    for g, leaf in zip(grads, leaves):
        weight = lib.tensor(rng.standard_normal(tuple(leaf.shape)), dtype=lib.float64)
        if g is not None and g.requires_grad:
            term = (g * weight).sum()
            total = term if total is None else total + term
    return total


def _outputs(op, ours_fn, sample):
    """(torch's outputs, tinygen's processed for grad, tinygen's tensor per torch tensor id),
    or None where the forward pass is not this sweep's business: torch refuses the sample, it
    holds values tinygen has no counterpart for, or the values differ (the value sweeps')."""
    try:
        t_out = op.op(sample.input, *sample.args, **sample.kwargs)
    except Exception:  # a sample torch refuses says nothing about tinygen
        return None
    memo = {}
    try:
        o_args = to_tinygen((sample.input, sample.args, sample.kwargs), memo)
        o_out = ours_fn(o_args[0], *o_args[1], **o_args[2])
        if len(_flatten(o_out)) != len(_flatten(t_out)) or any(
                _compare_values(o, t, True) for o, t in zip(_flatten(o_out), _flatten(t_out))):
            return None
        # output_process_fn_grad is written for torch outputs; it may fail on tinygen's
        return t_out, _flatten(sample.output_process_fn_grad(o_out)), memo
    except Exception:  # also a sparse torch result, which has no dense values to compare
        return None


def _run_sample(op, ours_fn, sample):
    """None when the second derivatives agree (or the sample is another sweep's business),
    else what went wrong."""
    outputs = _outputs(op, ours_fn, sample)
    if outputs is None:
        return None
    t_out, o_processed, memo = outputs
    leaves = _tensor_leaves(sample)
    o_leaves = [memo[id(t)] for t in leaves]
    t_loss, t_w = _weighted_sum(torch, _flatten(sample.output_process_fn_grad(t_out)), 0)
    o_loss, o_w = _weighted_sum(tg, o_processed, 0)
    if t_loss is None or o_loss is None or len(t_w) != len(o_w):
        return None
    t_g = _grads(torch, t_loss, leaves, True)
    try:
        o_g = _grads(tg, o_loss, o_leaves, True)
    except Exception as exc:
        try:
            _grads(tg, o_loss, o_leaves, False)
        except Exception:  # it fails without create_graph too: the value sweep's business
            return None
        return f"backward with create_graph=True raised {type(exc).__name__}: {exc}"[:300]
    problem = _close(o_g, t_g, leaves)
    if problem:  # the value sweep's business, unless only the recorded backward is wrong
        plain = _close(_grads(tg, o_loss, o_leaves, False), t_g, leaves)
        return None if plain else f"first derivative with create_graph=True of {problem}"
    try:
        t_gg = _grads(torch, _second_loss(torch, t_g, leaves), leaves + t_w, False)
    except RuntimeError:  # torch has no double backward for this sample (a fused kernel's)
        return None
    try:
        o_gg = _grads(tg, _second_loss(tg, o_g, o_leaves), o_leaves + o_w, False)
    except Exception as exc:
        return f"double backward raised {type(exc).__name__}: {exc}"[:300]
    problem = _close(o_gg, t_gg, leaves + t_w)
    return problem and f"second derivative ({len(leaves)} inputs, then weights) of {problem}"


def check_gradgrad(op, skip=None):
    """Compare second derivatives on an OpInfo's first float64 samples; fail listing those
    that disagree. Samples for which `skip(sample)` is true are not run."""
    ours_fn = ours(op)
    torch.manual_seed(0)
    problems = []
    samples = op.sample_inputs("cpu", torch.float64, requires_grad=True)
    for i, sample in enumerate(samples):
        if i == MAX_SAMPLES:
            break
        if skip is not None and skip(sample):
            continue
        problem = _run_sample(op, ours_fn, sample)
        if problem:
            problems.append(f"sample {i}: {problem}")
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])


def _gradgrad_ops():
    params = []
    for op in op_db:
        if not (op.supports_autograd and op.supports_gradgrad) or resolve(op.name) is None:
            continue
        if any(word in op.name for word in RANDOM_OPS) and op.name != NOT_RANDOM:
            continue                                      # random results: nothing to compare
        if torch.float64 not in op.supported_dtypes("cpu"):
            continue
        marks = [pytest.mark.xfail(reason=DIVERGES[op_id(op)], strict=True)] \
            if op_id(op) in DIVERGES else []
        params.append(pytest.param(op, id=op_id(op), marks=marks))
    return params


@pytest.mark.parametrize("op", _gradgrad_ops())
def test_second_derivative_matches_torch(op):
    check_gradgrad(op, skip=SKIP.get(op_id(op)))

"""PyTorch's OpInfo error inputs (arguments torch refuses) run through tinygen: for every op
tinygen has, tinygen must refuse each of them with the same builtin error type as torch."""

import copy

import pytest

from tests.differential.opinfo import check_op_errors, op_db, op_id, resolve

torch = pytest.importorskip("torch")

DIVERGES = {}     # op id -> why tinygen refuses differently: none at present


def _tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return _tensors(list(value.values()))
    return []


def _lost_in_conversion(op, sample):
    """True where the harness's conversion (each torch tensor copied on its own) loses what
    torch refuses: a 'meta' tensor (tinygen has no meta device), more than 64 dims (NumPy's
    limit), an out= tensor that overlaps itself (expanded) or is a view sharing an input's
    memory (the copy shares nothing), or a Python number where torch calls a Tensor method
    on it (AttributeError in torch; tinygen's methods accept it, as with the TypeErrors that
    check_op_errors skips)."""
    method_only = getattr(torch, op.name, None) is None and hasattr(torch.Tensor, op.name)
    if method_only and not isinstance(sample.input, torch.Tensor):
        return True
    inputs = _tensors([sample.input, sample.args,
                       {k: v for k, v in sample.kwargs.items() if k != "out"}])
    if any(t.device.type == "meta" or t.ndim > 64 for t in inputs):
        return True
    for out in _tensors(sample.kwargs.get("out")):
        if 0 in out.stride() and out.numel() > 1:
            return True
        storage = out.untyped_storage().data_ptr()
        if any(t is not out and t.untyped_storage().data_ptr() == storage for t in inputs):
            return True
    return False


def _convertible(op):
    """`op` with only the error inputs that survive conversion to tinygen."""
    kept = copy.copy(op)
    kept.error_inputs_func = lambda info, device, **kw: (
        e for e in op.error_inputs_func(info, device, **kw)
        if not _lost_in_conversion(op, e.sample_input))
    return kept


@pytest.mark.parametrize("op", [
    pytest.param(op, id=op_id(op), marks=[pytest.mark.xfail(
        reason=DIVERGES[op_id(op)], strict=True)] if op_id(op) in DIVERGES else [])
    for op in op_db if op.error_inputs_func is not None and resolve(op.name) is not None])
def test_op_refuses_what_torch_refuses(op):
    check_op_errors(_convertible(op))

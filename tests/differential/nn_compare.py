"""Helpers for the differential tests of tinygen.nn.functional against PyTorch: run one call
on both libraries from the same NumPy arrays, then compare the outputs, the gradients of a
random weighted sum of the outputs, or the type of the error that both must raise."""

import builtins

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host


def builtin_error(exc):
    """The first builtin class in an exception's MRO (torch's errors subclass them)."""
    return next(c for c in type(exc).__mro__ if getattr(builtins, c.__name__, None) is c)


def _convert(lib, value, grad):
    """A NumPy array becomes a tensor of `lib` (a leaf with grad when `grad` and floating)."""
    if not isinstance(value, np.ndarray):
        return value
    floating = value.dtype.kind == "f"
    return lib.tensor(value, requires_grad=bool(grad and floating))


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _as_numpy(t):
    return host(t) if isinstance(t, tg.Tensor) else t.detach().numpy()


def compare(torch, ours_fn, theirs_fn, args, grad=True, rtol=1e-10, atol=1e-12, seed=0,
            also=()):
    """Call `ours_fn(*args)` with tinygen tensors and `theirs_fn(*args)` with torch tensors
    (NumPy arrays in `args` convert; other values pass as they are). If torch raises, tinygen
    must raise the same builtin error type; else outputs and input gradients must agree.
    `grad` is a bool or one bool per argument; `also` lists error types tinygen may raise
    instead (known, reported divergences)."""
    grads = [grad] * len(args) if isinstance(grad, bool) else list(grad)
    theirs = [_convert(torch, a, g) for a, g in zip(args, grads)]
    try:
        t_out = theirs_fn(*theirs)
    except Exception as exc:  # torch's verdict decides which error we expect
        ours = [_convert(tg, a, g) for a, g in zip(args, grads)]
        with pytest.raises((builtin_error(exc), *also)):
            ours_fn(*ours)
        return None
    ours = [_convert(tg, a, g) for a, g in zip(args, grads)]
    o_out = ours_fn(*ours)
    o_list, t_list = _outputs(o_out), _outputs(t_out)
    assert len(o_list) == len(t_list)
    rng = np.random.default_rng(seed)
    o_loss, t_loss = None, None
    for o, t in zip(o_list, t_list):
        assert tuple(o.shape) == tuple(t.shape), (o.shape, t.shape)
        assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (o.dtype, t.dtype)
        np.testing.assert_allclose(_as_numpy(o), _as_numpy(t), rtol=rtol, atol=atol)
        if t.requires_grad:
            assert o.requires_grad
            w = rng.standard_normal(t.shape)
            o_term = (o * tg.tensor(w, dtype=o.dtype)).sum()
            t_term = (t * torch.tensor(w, dtype=t.dtype)).sum()
            o_loss = o_term if o_loss is None else o_loss + o_term
            t_loss = t_term if t_loss is None else t_loss + t_term
    if t_loss is not None:
        t_loss.backward()
        o_loss.backward()
        for o, t in zip(ours, theirs):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                assert (o.grad is None) == (t.grad is None)
                if t.grad is not None:
                    np.testing.assert_allclose(host(o.grad), t.grad.numpy(), rtol=rtol,
                                               atol=atol)
    return o_out, t_out


def array(draw_rng, shape, dtype=np.float64):
    """A standard-normal array of `shape` (float64 unless told)."""
    return draw_rng.standard_normal(shape).astype(dtype)

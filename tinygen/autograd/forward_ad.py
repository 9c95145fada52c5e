"""Forward-mode automatic differentiation, as ``torch.autograd.forward_ad``.

Inside ``with dual_level():`` a tensor made by ``make_dual(x, v)`` carries a tangent ``v``; every
op computed from it carries the Jacobian-vector product ``J v`` of that op, and
``unpack_dual(y)`` returns ``(primal, tangent)``. Leaving the level drops every tangent. As in
PyTorch 2.13 one level is live at a time (nesting raises).

How: per-op JVP rules, not the double-vjp trick over the whole program. ``Function.apply``
checks one module global; while a level is live it hands the call to ``apply`` below, which runs
the op as usual and then computes the output tangents from the input tangents:

- with the op class's ``jvp(ctx, *tangents)`` staticmethod when it has one (tinygen's own ops:
  forward_ad_rules.py attaches them), where ``ctx.inputs`` are the op's arguments, ``ctx.outputs``
  its output Tensors, and each tangent is a Tensor or None (argument without a tangent);
- otherwise by the double-vjp trick on that one op: ``u -> J^T u`` is linear in ``u``, so its vjp
  with the tangents is ``J tangents``. Every op works, and ops with a rule are fast.

Rules are written in tensor ops and run with graph recording as the caller has it, so a tangent
is differentiable in reverse mode (reverse-over-forward), and backward passes run inside a level
propagate tangents through their ops (forward-over-reverse: Hessian-vector products). Why rules
and not one double-vjp at ``unpack_dual`` time: that costs two reverse passes per unpack, needs
every input to require grad, and gives no tangent for ops run under ``no_grad``; rules cost about
one extra op per op, and nothing at all outside a level.

Where tinygen differs: tangents live beside the tensors (a table keyed by tensor, and on the graph
node for outputs that backward re-creates), not inside them; in-place ops do not update tangents,
so inside a level an in-place op on or with a dual tensor raises (as does reading the tangent of
a dual tensor changed in place some other way); a user ``Function`` with a torch-style ``jvp``
gets the double-vjp trick instead (tinygen's ctx is not saved for it).
"""

import itertools
import weakref
from collections import namedtuple

from tinygen.autograd import function as _function
from tinygen.autograd.grad_mode import enable_grad, is_grad_enabled

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_levels = []                    # serial numbers of the live levels (at most one)
_serials = itertools.count()
_tangents = {}      # id(tensor) -> (weakref to it, tangent, version box, version), live level
_rules_installed = False


class JvpContext:
    """What a ``jvp`` rule sees: the op's arguments and its output Tensors."""

    __slots__ = ("inputs", "outputs")

    def __init__(self, inputs, outputs):
        self.inputs = inputs
        self.outputs = outputs


def enter_dual_level():
    """Open a forward AD level and return its index (0: one level at a time)."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    if not _rules_installed:
        _install_rules()
    _levels.append(next(_serials))
    _function._forward_ad = apply
    return len(_levels) - 1


def _install_rules():
    global _rules_installed
    from tinygen.autograd import forward_ad_rules     # imports the ops: not at import time
    forward_ad_rules.install()
    _rules_installed = True


def exit_dual_level(*, level=None):
    """Close the current level: every tangent made in it is dropped."""
    if not _levels or level not in (None, len(_levels) - 1):
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    _levels.pop()
    _tangents.clear()
    _function._forward_ad = None


class dual_level:
    """Context manager around ``enter_dual_level``/``exit_dual_level``; yields the level."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def _check_level(level, op):
    if not _levels:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if level not in (None, len(_levels) - 1):
        raise RuntimeError(f"Invalid level given to {op}")


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` whose tangent is ``tangent`` (same shape, floating point)."""
    _check_level(level, "_make_dual")
    for name, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual(): expected {name} to be a Tensor, got "
                            f"{type(t).__name__}")
        if t.dtype.kind not in "fc":
            raise ValueError(f"Expected {name} to be floating point or complex, but got: "
                             f"{t.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    if tensor.device != tangent.device:
        raise RuntimeError(f"make_dual(): the tangent is on {tangent.device} and the primal "
                           f"on {tensor.device}; they must be on the same device")
    with _suspended():
        dual = tensor.view_as(tensor)
    _set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """``UnpackedDualTensor(primal, tangent)``: a view of ``tensor`` without a tangent, and the
    tangent at the level (None when ``tensor`` is not dual there)."""
    if level is not None and level != len(_levels) - 1:
        raise RuntimeError("Invalid level given to _fw_primal")
    tangent = tangent_of(tensor) if _levels and isinstance(tensor, Tensor) else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    with _suspended():
        primal = tensor.view_as(tensor)
    return UnpackedDualTensor(primal, tangent)


def tangent_of(t):
    """The tangent of Tensor ``t`` at the live level, or None."""
    entry = _tangents.get(id(t))
    if entry is not None and entry[0]() is t:
        ref, tangent, box, version = entry
        if box[0] != version:
            raise RuntimeError(
                f"a dual tensor of shape {tuple(t.shape)} was changed by an in-place operation "
                f"after its tangent was set: tinygen's forward AD does not follow in-place "
                f"ops; use the out-of-place op (x = x * y instead of x *= y)")
        return tangent
    node = t._grad_fn
    on_node = getattr(node, "_fw_tangents", None) if node is not None else None
    if on_node is not None and on_node[0] == _levels[-1]:   # an output re-created by backward
        array, tangent = on_node[1].get(t._output_nr, (None, None))
        if array is t.array:
            return tangent
    return None


def is_dual(t):
    """Whether Tensor ``t`` carries a tangent at the live level (an op that skips the graph
    for inputs not requiring grad must not skip it for these)."""
    return bool(_levels) and tangent_of(t) is not None


def _set_tangent(t, tangent):
    key = id(t)
    box = t._shared_version()
    _tangents[key] = (weakref.ref(t, lambda _, key=key: _tangents.pop(key, None)), tangent,
                      box, box[0])
    node = t._grad_fn
    if node is not None:                # backward re-creates saved outputs: keep it there too
        serial, by_index = getattr(node, "_fw_tangents", (None, None))
        if serial != _levels[-1]:
            by_index = {}
            node._fw_tangents = (_levels[-1], by_index)
        by_index[t._output_nr] = (t.array, tangent)


class _suspended:
    """Run ops without tangent propagation (the primal op itself, and the rules)."""

    def __enter__(self):
        self.was = _function._forward_ad
        _function._forward_ad = None

    def __exit__(self, *exc):
        _function._forward_ad = self.was
        return False


def apply(cls, args, kwargs):
    """``cls.apply(*args, **kwargs)`` inside a live level: the op, then its output tangents."""
    if kwargs:
        args = _function._bind_keywords(cls, args, kwargs)
    tangents = [tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    with _suspended():
        result = cls.apply(*args)
        if all(t is None for t in tangents):
            return result
        outputs = result if type(result) is tuple else (result,)
        rule = cls.__dict__.get("jvp") if cls.forward_takes_arrays else None
        if rule is not None:
            out_tangents = rule(JvpContext(args, outputs), *tangents)
        else:
            out_tangents = _double_vjp(cls, args, tangents, outputs)
    out_tangents = out_tangents if type(out_tangents) in (tuple, list) else (out_tangents,)
    for out, tangent in zip(outputs, out_tangents):
        if tangent is not None and out.dtype.kind in "fc":
            _set_tangent(out, tangent)
    return result


def _double_vjp(cls, args, tangents, outputs):
    """The output tangents of one op without a rule: re-run it on lifted inputs, take the
    vjp ``g(u) = J^T u`` with ``u`` a leaf, then the vjp of ``g`` with the tangents."""
    keep = is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args) \
        or any(t is not None and t.requires_grad for t in tangents)
    with enable_grad():
        lifted = list(args)
        inputs, ins_tangents = [], []
        for i, (arg, tangent) in enumerate(zip(args, tangents)):
            if tangent is not None:
                lifted[i] = (arg.view_as(arg) if arg.requires_grad
                             else arg.detach().requires_grad_(True))
                inputs.append(lifted[i])
                ins_tangents.append(tangent)
        again = cls.apply(*lifted)
        again = again if type(again) is tuple else (again,)
        pairs = [(o, zeros_like(o).requires_grad_(True)) for o in again
                 if o.requires_grad and o.dtype.kind in "fc"]
        if not pairs:
            return (None,) * len(outputs)
        us = [u for _, u in pairs]
        back = _autograd_grad([o for o, _ in pairs], inputs, us, create_graph=True,
                              allow_unused=True)
        # g = J^T u is linear in u: a g that does not depend on u is 0 (a step function's)
        used = [(g, t) for g, t in zip(back, ins_tangents) if g is not None and g.requires_grad]
        if used:
            jvps = _autograd_grad([g for g, _ in used], us, [t for _, t in used],
                                  create_graph=keep, allow_unused=True, materialize_grads=True)
        else:
            jvps = [zeros_like(u) for u in us]
    by_output = dict(zip([id(o) for o, _ in pairs], jvps))
    return tuple(by_output.get(id(o)) for o in again)


from tinygen.autograd.engine import grad as _autograd_grad  # noqa: E402
from tinygen.creation import zeros_like  # noqa: E402
from tinygen.tensor import Tensor  # noqa: E402

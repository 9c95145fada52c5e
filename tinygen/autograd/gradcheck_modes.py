"""gradcheck's other modes, as PyTorch's: fast mode and the forward-mode (JVP) check.

Fast mode (``fast_mode=True``) checks one number per (input, output) pair instead of a whole
Jacobian. With random unit vectors u (shaped as the input) and v (as the output),

    v^T J u   (analytic: <J^T v, u> from one backward pass, or <v, J u> from forward AD)
      ~  <v, f(x + eps u) - f(x - eps u)> / (2 eps)

which costs two evaluations of f per input instead of two per input element. As in PyTorch,
u and v have uniform [0, 1) entries scaled to unit length, and atol is scaled by
sum(u) * sum(v): the v^T E u of an error matrix E whose entries are all atol.

The forward-mode check (``check_forward_ad=True``) compares J u from
``tinygen.autograd.forward_ad`` with the central difference along u: along every unit vector
(each column of J, element by element) in the full check, along one random u in fast mode.
Both are for real inputs and outputs (complex ones: the full backward check only).
"""

import numpy as np

from tinygen.autograd.engine import grad
from tinygen.autograd.gradcheck import GradcheckError, _as_tuple as as_tuple, _host as host
from tinygen.autograd.gradcheck import _like as like


def is_real(tensors):
    return all(t.dtype.kind != "c" for t in tensors)


def _unit(shape, rng):
    """Uniform [0, 1) entries scaled to unit length (PyTorch's fast-mode vectors)."""
    vec = rng.random(shape)
    norm = np.linalg.norm(vec)
    return vec / norm if norm else vec


def _float_outputs(outputs):
    return [j for j, out in enumerate(outputs) if out.dtype.kind == "f"]


def _directional(fn, inputs, i, direction, eps):
    """(f(x + eps d) - f(x - eps d)) / (2 eps) for every output, as float64 NumPy arrays, with
    only input ``i`` moved (along ``d``)."""
    x = inputs[i]
    original = x.array
    start = host(original).astype(np.float64)
    values = []
    try:
        for step in (eps, -eps):
            x.array = like(original, (start + step * direction).astype(original.dtype))
            values.append([host(o.array).astype(np.float64) for o in as_tuple(fn(*inputs))])
    finally:
        x.array = original
    return [(a - b) / (2 * eps) for a, b in zip(*values)]


def _jvp(fn, inputs, i, direction):
    """J d for every output (float64 NumPy arrays, zeros where an output has no tangent), by
    forward-mode AD with input ``i`` carrying the tangent ``d``."""
    from tinygen.autograd import forward_ad
    from tinygen.tensor import Tensor
    x = inputs[i]
    with forward_ad.dual_level():
        args = list(inputs)
        args[i] = forward_ad.make_dual(x, Tensor(like(x.array, direction.astype(x.dtype))))
        outs = as_tuple(fn(*args))
        tangents = [forward_ad.unpack_dual(o).tangent for o in outs]
    return [np.zeros(o.shape) if t is None else host(t.array).astype(np.float64)
            for o, t in zip(outs, tangents)]


def check_forward_full(fn, inputs, checked, eps, atol, rtol):
    """Every column of every input's Jacobian, by forward AD, against central differences."""
    for i in checked:
        shape = tuple(inputs[i].shape)
        for k in range(inputs[i].numel()):
            direction = np.zeros(inputs[i].numel())
            direction[k] = 1.0
            direction = direction.reshape(shape)
            numeric = _directional(fn, inputs, i, direction, eps)
            for j, (found, want) in enumerate(zip(_jvp(fn, inputs, i, direction), numeric)):
                error = np.abs(found - want) - (atol + rtol * np.abs(want))
                if error.size and error.max() > 0:
                    worst = np.unravel_index(int(np.argmax(error)), error.shape)
                    at = tuple(int(n) for n in np.unravel_index(k, shape))
                    raise GradcheckError(
                        f"gradcheck (forward AD) failed for input {i} (shape {shape}) and output "
                        f"{j}: along input element {at} the JVP at output index "
                        f"{tuple(int(n) for n in worst)} is {found[worst].item():.8g} but the "
                        f"numeric one is {want[worst].item():.8g} (atol={atol}, rtol={rtol}, "
                        f"eps={eps})")


def check_fast(fn, inputs, checked, outputs, eps, atol, rtol, rng, forward):
    """v^T J u for each (input, output) pair, from backward (or forward AD when ``forward``),
    against its central difference, with PyTorch's fast-mode tolerances."""
    wanted = _float_outputs(outputs)
    vs = {j: _unit(outputs[j].shape, rng) for j in wanted}
    us = {i: _unit(inputs[i].shape, rng) for i in checked}
    analytic = {}
    if forward:
        for i in checked:
            tangents = _jvp(fn, inputs, i, us[i])
            analytic.update({(i, j): float((vs[j] * tangents[j]).sum()) for j in wanted})
    else:
        for j in wanted:
            vjp = _vjp(outputs[j], vs[j], [inputs[i] for i in checked])
            analytic.update({(i, j): float((g * us[i]).sum()) for i, g in zip(checked, vjp)})
    mode = "forward AD" if forward else "backward"
    for i in checked:
        numeric = _directional(fn, inputs, i, us[i], eps)
        for j in wanted:
            want = float((vs[j] * numeric[j]).sum())
            found = analytic[(i, j)]
            tolerance = atol * float(us[i].sum()) * float(vs[j].sum()) + rtol * abs(want)
            if abs(found - want) > tolerance:
                raise GradcheckError(
                    f"gradcheck (fast mode, {mode}) failed for input {i} (shape "
                    f"{tuple(inputs[i].shape)}) and output {j}: v^T J u is {found:.8g} "
                    f"analytically but {want:.8g} numerically (allowed difference "
                    f"{tolerance:.3g} from atol={atol}, rtol={rtol}; eps={eps}); rerun with "
                    f"fast_mode=False to see which element")


def _vjp(output, v, inputs):
    """J^T v for each input (float64 NumPy arrays, zeros where unused or not differentiable)."""
    from tinygen.tensor import Tensor
    if not output.requires_grad:
        return [np.zeros(x.shape) for x in inputs]
    grads = grad([output], inputs, [Tensor(like(output.array, v.astype(output.dtype)))],
                 retain_graph=True, allow_unused=True)
    return [np.zeros(x.shape) if g is None else host(g.array).astype(np.float64)
            for x, g in zip(inputs, grads)]

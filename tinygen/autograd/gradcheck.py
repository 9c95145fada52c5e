"""Gradient checks: compare backward with central finite differences, in float64.

For a function f and random upstream gradients v (one per output), backward gives the
vector-Jacobian product J^T v. Finite differences give the same number for each input element e:

    (J^T v)[e]  ~  ( <v, f(x + eps e)> - <v, f(x - eps e)> ) / (2 eps)

A random v matters: with v = ones (the gradient of ``f(x).sum()``), softmax or a normalisation
whose outputs sum to a constant has J^T v = 0, so a backward returning zeros would pass.
``gradgradcheck`` runs gradcheck on the function (x, v) -> J^T v, computed with
``create_graph=True``: second derivatives are checked the same way. It first checks that this
recorded J^T v equals the plain one, since an op may use a fused backward normally and a
composite, differentiable one under ``create_graph``.

Complex inputs and outputs are checked as PyTorch checks them, in its convention (the
gradient of z = x + iy is dL/dx + i dL/dy): the real and the imaginary part of each complex
input are perturbed in turn, and a function with complex outputs is checked twice, with real
upstream gradients v and with imaginary ones iv, so both parts of every output are tested.
The inner product is then Re(sum(conj(v) f(x))).

Inputs should be float64 (or complex128): a float32 input gets PyTorch's warning, and its
finite differences (taken in float32) will most likely fail the check. ``fast_mode=True``,
``check_forward_ad=True`` and ``check_backward_ad=False`` work as in PyTorch (see
gradcheck_modes.py; fast mode falls back to the full check for complex inputs or outputs).
Of PyTorch's other keywords, these are accepted and have no effect: ``nondet_tol`` and
``check_undefined_grad`` (tinygen runs backward once, so it does not compare two runs, and does
not call backward with undefined output gradients), ``check_batched_grad`` and
``check_batched_forward_grad`` (tinygen's vmap is a loop over the batch, so a batched gradient is
the looped one by construction). ``seed`` picks the random upstream gradients.
"""

import warnings

import numpy as np

from tinygen.autograd.engine import grad
from tinygen.backend import get_array_module


class GradcheckError(RuntimeError):
    """An analytic gradient differs from its finite-difference estimate."""


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, seed=0):
    """True when backward (and, with ``check_forward_ad``, forward-mode AD) matches finite
    differences for every input that requires grad."""
    from tinygen.autograd import gradcheck_modes as modes
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if _requires_grad(x)]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          f"point ({inputs[i].dtype}). This check will likely fail if all the "
                          f"inputs are not float64 (use .double())", stacklevel=2)
    outputs = _as_tuple(fn(*inputs))
    real = modes.is_real([inputs[i] for i in checked] + list(outputs))
    if check_forward_ad and not real:
        raise NotImplementedError("gradcheck: check_forward_ad=True is not implemented in "
                                  "tinygen for complex inputs or outputs")
    rng = np.random.default_rng(seed)
    try:
        if check_backward_ad and fast_mode and real:
            modes.check_fast(fn, inputs, checked, outputs, eps, atol, rtol, rng, forward=False)
        elif check_backward_ad:
            _check_backward_full(fn, inputs, checked, outputs, eps, atol, rtol, rng)
        if check_forward_ad and fast_mode:
            modes.check_fast(fn, inputs, checked, outputs, eps, atol, rtol, rng, forward=True)
        elif check_forward_ad:
            modes.check_forward_full(fn, inputs, checked, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check_backward_full(fn, inputs, checked, outputs, eps, atol, rtol, rng):
    """Every element of J^T v, for random v, against central differences (see the top)."""
    upstream = [_random_like(out, rng) for out in outputs]
    passes = [("", upstream)]
    if any(out.dtype.kind == "c" for out in outputs):       # and the imaginary parts
        passes.append((" (imaginary part of the output)",
                       [_like(v, v * (1j if out.dtype.kind == "c" else 0))
                        for out, v in zip(outputs, upstream)]))
    for which, vs in passes:
        analytic = _analytic(outputs, vs, [inputs[i] for i in checked])
        for position, i in enumerate(checked):
            numeric = _numeric(fn, inputs, i, vs, eps)
            found = analytic[position]
            error = np.abs(found - numeric) - (atol + rtol * np.abs(numeric))
            if error.size and error.max() > 0:
                worst = np.unravel_index(int(np.argmax(error)), error.shape)
                raise GradcheckError(
                    f"gradcheck failed for input {i} (shape {tuple(inputs[i].shape)}){which}: "
                    f"at index {tuple(int(k) for k in worst)} the analytic gradient is "
                    f"{found[worst].item():.8g} but the numeric one is "
                    f"{numeric[worst].item():.8g} (atol={atol}, rtol={rtol}, eps={eps})")


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True,
                  fast_mode=False, seed=0):
    """True when second derivatives (the gradient of the gradient) match finite differences.

    ``grad_outputs``: the upstream gradients, one per output that requires grad (random when
    None), as in PyTorch. The first derivatives are checked with gradcheck: in reverse mode
    (``check_rev_over_rev``), with forward AD (``check_fwd_over_rev``), in fast mode or not.
    """
    from tinygen.tensor import Tensor
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if _requires_grad(x)]
    rng = np.random.default_rng(seed + 1)
    outputs = [out for out in _as_tuple(fn(*inputs)) if _requires_grad(out)]
    if grad_outputs is None:
        upstream = [Tensor(_random_like(out, rng), requires_grad=True) for out in outputs]
    else:
        upstream = [Tensor(g.detach().array, requires_grad=True) for g in _as_tuple(grad_outputs)]
    n = len(inputs)

    def derivatives(xs, vs, create_graph):
        outs = [out for out in _as_tuple(fn(*xs)) if _requires_grad(out)]
        return grad(outs, [xs[i] for i in checked], vs, create_graph=create_graph,
                    allow_unused=True)

    def first_derivatives(*args):
        grads = derivatives(args[:n], args[n:], create_graph=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    recorded = derivatives(inputs, upstream, create_graph=True)
    plain = derivatives(inputs, upstream, create_graph=False)
    for i, r, p in zip(checked, recorded, plain):
        if r is not None and not _agree(r, p, atol, rtol):
            message = (f"gradgradcheck: the gradient of input {i} computed with create_graph=True "
                       f"differs from the one without it (by up to {_max_difference(r, p):.3g}): "
                       f"the op's differentiable backward and its plain backward disagree")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return gradcheck(first_derivatives, inputs + tuple(upstream), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, fast_mode=fast_mode, seed=seed)


def _agree(a, b, atol, rtol):
    return np.allclose(_host(a.array), _host(b.array), atol=atol, rtol=rtol, equal_nan=True)


def _max_difference(a, b):
    return float(np.abs(_host(a.array).astype(_wide(a.dtype)) - _host(b.array)).max())


def _as_tuple(values):
    return tuple(values) if isinstance(values, (tuple, list)) else (values,)


def _requires_grad(x):
    return getattr(x, "requires_grad", False)


def _wide(dtype):
    """float64, or complex128 for a complex dtype: what the checks compute in."""
    return np.complex128 if dtype.kind == "c" else np.float64


def _host(array):
    return array if isinstance(array, np.ndarray) else array.get()


def _random_like(tensor, rng):
    """A random upstream gradient on the tensor's device (never all ones)."""
    return _like(tensor.array, rng.standard_normal(tensor.shape).astype(tensor.dtype))


def _like(array, values):
    """``values`` (a NumPy array) on the device of ``array``."""
    return get_array_module(array).asarray(values)


def _analytic(outputs, upstream, inputs):
    """J^T v for each input, as float64 NumPy arrays (zeros where an input was unused)."""
    from tinygen.tensor import Tensor
    pairs = [(out, Tensor(v)) for out, v in zip(outputs, upstream) if _requires_grad(out)]
    if not pairs:
        return [np.zeros(x.shape) for x in inputs]
    grads = grad([p[0] for p in pairs], inputs, [p[1] for p in pairs], retain_graph=True,
                 allow_unused=True)
    return [np.zeros(x.shape, _wide(x.dtype)) if g is None else _host(g.array).astype(
        _wide(x.dtype)) for x, g in zip(inputs, grads)]


def _numeric(fn, inputs, i, upstream, eps):
    """Central differences of Re <v, f(x)> with respect to every element of input ``i`` (for a
    complex input, to its real part plus i times to its imaginary part)."""
    x = inputs[i]
    original = x.array
    flat = _host(original).astype(_wide(x.dtype)).reshape(-1)
    result = np.zeros(flat.size, flat.dtype)
    units = (1, 1j) if flat.dtype.kind == "c" else (1,)
    try:
        for k in range(flat.size):
            for unit in units:
                values = []
                for step in (eps, -eps):
                    perturbed = flat.copy()
                    perturbed[k] += step * unit
                    perturbed_array = perturbed.reshape(original.shape).astype(original.dtype)
                    x.array = _like(original, perturbed_array)   # the input's dtype, as PyTorch
                    outs = _as_tuple(fn(*inputs))     # grad on: fn may itself call grad()
                    values.append(sum(_inner(o, v) for o, v in zip(outs, upstream)))
                result[k] += unit * (values[0] - values[1]) / (2 * eps)
    finally:
        x.array = original
    return result.reshape(x.shape)


def _inner(output, v):
    """Re(sum(conj(v) * output)): the real loss whose output gradient is v."""
    o = _host(output.array).astype(_wide(output.dtype))
    return float((np.conj(_host(v)) * o).real.sum())

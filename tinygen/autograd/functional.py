"""tg.autograd.functional, as torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp and hvp
of a function of tensors, built on ``tinygen.autograd.grad``.

The results take PyTorch's structures: a function of one tensor gets one tensor back, of a
tuple of tensors a tuple, and a Jacobian of a tuple of outputs by a tuple of inputs is a tuple
(one per output) of tuples (one per input). jvp uses the double-vjp trick: the vjp
u -> J^T u is linear in u, so its own vjp with v is J v. The Jacobian is built row by row from
vjps (``vectorize=True`` is accepted and runs the same loop).
"""

from tinygen.autograd.engine import grad as _autograd_grad
from tinygen.autograd.grad_mode import enable_grad
from tinygen.creation import ones_like, zeros_like
from tinygen.ops.shape import stack
from tinygen.tensor import Tensor


def _as_tuple(values, name, fn_name):
    """(True, values) for a tuple or list of tensors, (False, (values,)) for one tensor."""
    is_tuple = isinstance(values, (tuple, list))
    values = tuple(values) if is_tuple else (values,)
    for i, value in enumerate(values):
        if not isinstance(value, Tensor):
            if is_tuple:
                raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a "
                                f"tuple of Tensors but the value at index {i} has type "
                                f"{type(value)}.")
            raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the given {name} has type {type(value)}.")
    return is_tuple, values


def _postprocess(values, is_tuple):
    """A tuple back to one tensor unless it was given as a tuple; ``is_tuple`` may be a pair
    (outer, inner) for a nested (Jacobian-shaped) tuple."""
    if isinstance(is_tuple, tuple):
        outer, inner = is_tuple
        if not inner:
            values = tuple(row[0] for row in values)
        return values if outer else values[0]
    return values if is_tuple else values[0]


def _prepare(inputs, create_graph):
    """Inputs that require grad and belong to a graph of their own: detached copies, or (with
    create_graph, for inputs that already require grad) views, so the results stay connected
    to the caller's graph."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(True) for t in inputs)


def _finish(values, create_graph):
    """Detach results unless the caller asked for a graph."""
    if isinstance(values, tuple):
        return tuple(_finish(v, create_graph) for v in values)
    if values is None or create_graph:
        return values
    return values.detach()


def _validate_v(v, other, is_other_tuple, role):
    """v as a tuple matching ``other`` (the outputs for vjp, the inputs for jvp) in length and
    shapes."""
    _, v = _as_tuple(v, "v", role)
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: v[{i}] has a shape of {tuple(a.shape)} and "
                               f"the corresponding tensor has a shape of {tuple(b.shape)}.")
    return v


def _default_v(values, what):
    """The implicit v = 1 for a single tensor of a single element."""
    if len(values) != 1 or values[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if the {what} is a single Tensor "
                           f"with a single element.")
    return (ones_like(values[0]),)


def _grad(outputs, inputs, grad_outputs, create_graph):
    """grad() of the outputs that require grad; None for the inputs they do not reach."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                          retain_graph=True, create_graph=create_graph, allow_unused=True)


def _fill_zeros(grads, refs, strict, refs_are_inputs, stage="back"):
    """Zeros for the None gradients; in strict mode a missing gradient is an error."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict and refs_are_inputs:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode.")
            if strict:
                raise RuntimeError(f"The gradient with respect to the input is independent of "
                                   f"entry {i} in the grad_outputs when using the double "
                                   f"backward trick to compute forward mode gradients. This "
                                   f"is not allowed in strict mode.")
            g = zeros_like(ref)
        out.append(g)
    return tuple(out)


def _check_outputs_require_grad(outputs, strict, what="outputs"):
    if strict:
        for i, out in enumerate(outputs):
            if not out.requires_grad:
                raise RuntimeError(f"The {what} of the user-provided function given to the "
                                   f"functional API (output {i}) does not require gradients. "
                                   f"The outputs must be computed in a differentiable manner "
                                   f"from the input when running in strict mode.")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        raw = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(raw, "outputs of the user-provided function",
                                              "vjp")
        _check_outputs_require_grad(outputs, strict)
        v = (_default_v(outputs, "user-provided function returns")
             if v is None else _validate_v(v, outputs, is_outputs_tuple, "vjp"))
        grads = _grad(outputs, inputs, v, create_graph)
        grads = _fill_zeros(grads, inputs, strict, True)
    return (_postprocess(_finish(outputs, create_graph), is_outputs_tuple),
            _postprocess(_finish(grads, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-vjp trick."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        v = (_default_v(inputs, "input to the user-provided function")
             if v is None else _validate_v(v, inputs, is_inputs_tuple, "jvp"))
        is_outputs_tuple, outputs = _as_tuple(func(*inputs),
                                              "outputs of the user-provided function", "jvp")
        _check_outputs_require_grad(outputs, strict)
        # u -> J^T u at a u that requires grad, then the vjp of that (linear) map with v
        us = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, us, create_graph=True)
        _fill_zeros(grad_inputs, inputs, strict, True)
        used = [(g, w) for g, w in zip(grad_inputs, v) if g is not None and g.requires_grad]
        if used:
            grads = _autograd_grad([g for g, _ in used], us, [w for _, w in used],
                                   retain_graph=True, create_graph=create_graph,
                                   allow_unused=True)
        else:
            grads = (None,) * len(us)
        grads = _fill_zeros(grads, outputs, strict, False)
    return (_postprocess(_finish(outputs, create_graph), is_outputs_tuple),
            _postprocess(_finish(grads, create_graph), is_outputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at ``inputs``: entry [i][j] has shape outputs[i].shape +
    inputs[j].shape, nested as PyTorch nests it."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         'Hint: If your function has more outputs than inputs, "forward-mode" '
                         'tends to be more performant. Otherwise, prefer to use '
                         '"reverse-mode".')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("torch.autograd.functional.jacobian: `strategy=\"forward-"
                                  "mode\"` is only implemented for `vectorize=True`.")
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorize=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", "jacobian")
        rows = tuple(_jacobian_rows(out, i, inputs, create_graph, strict)
                     for i, out in enumerate(outputs))
    return _postprocess(_finish(rows, create_graph), (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(out, i, inputs, create_graph, strict):
    """d out / d inputs[j] for each j, one vjp per element of ``out``."""
    flat = out.reshape(-1)
    columns = [[] for _ in inputs]
    for k in range(flat.numel()):
        grads = (_grad((flat[k],), inputs, (None,), create_graph) if flat.requires_grad
                 else (None,) * len(inputs))
        for j, (g, inp) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {j}. This is not allowed in "
                                       f"strict mode.")
                g = zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {j}. This is not allowed in strict mode when "
                                   f"create_graph=True.")
            columns[j].append(g)
    return tuple(
        (stack(col) if col else zeros_like(inp).reshape(0, *inp.shape)).reshape(
            *out.shape, *inp.shape)
        for col, inp in zip(columns, inputs))


def _single_output(func, inputs, fn_name):
    """func(*inputs), checked to be one tensor of one element (hessian, vhp, hvp)."""
    out = func(*inputs)
    is_tuple, outputs = _as_tuple(out, "outputs of the user-provided function", fn_name)
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           f"contain a single element")
    return outputs[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient. Entry [i][j] has shape
    inputs[i].shape + inputs[j].shape (a single tensor for a single input)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = _single_output(func, xs, "hessian")
        _check_outputs_require_grad((out,), strict)
        grads = _grad((out.reshape(()),), xs, (None,), create_graph=True)
        return _fill_zeros(grads, xs, strict, True)

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _postprocess(result, (is_inputs_tuple, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph)
        v = (_default_v(inputs, "input to the user-provided function")
             if v is None else _validate_v(v, inputs, is_inputs_tuple, "vhp"))
        out = _single_output(func, inputs, "vhp")
        _check_outputs_require_grad((out,), strict)
        jac = _fill_zeros(_grad((out.reshape(()),), inputs, (None,), True), inputs, strict, True)
        pairs = [(g, w) for g, w in zip(jac, v) if g.requires_grad]
        grads = (_autograd_grad([g for g, _ in pairs], inputs, [w for _, w in pairs],
                                retain_graph=True, create_graph=create_graph,
                                allow_unused=True)
                 if pairs else (None,) * len(inputs))
        grads = _fill_zeros(grads, inputs, strict, True)
    return (_finish(out, create_graph), _postprocess(_finish(grads, create_graph),
                                                     is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function; H is symmetric, so this is vhp's product."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)

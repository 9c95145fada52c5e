"""Matrix products: ``matmul`` with NumPy's rules for 1-D, 2-D, batched and broadcast operands,
its strict forms ``mm``, ``bmm``, ``dot``, and ``outer``, ``einsum``, ``tensordot``, ``kron``,
``cross`` and ``cdist``. As in PyTorch, the operands of a product (not of ``outer``, a broadcast
multiply) must share one dtype."""

import math

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.complex_ops import conj
from tinygen.ops.convert import binary_operands, write_out
from tinygen.ops.shape import expand, permute, reshape, squeeze, transpose, unsqueeze
from tinygen.tensor import Tensor


class MatMul(ArrayFunction):
    """y = a @ b;  da = dy @ b^T,  db = a^T @ dy (batch dims broadcast, then summed back).

    A 1-D operand is a row (for a) or column (for b) vector whose added dim is dropped from y,
    so backward puts that dim back on dy and takes it off the gradient again.
    """
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, -1) if b.ndim == 1 else b
        # b's dim first, so that the 0-d grad_y of 1-D @ 1-D becomes (1, 1)
        g = unsqueeze(grad_y, -1) if b.ndim == 1 else grad_y
        g = unsqueeze(g, -2) if a.ndim == 1 else g
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = g @ conj(transpose(b2, -1, -2))
            grad_a = squeeze(grad_a, -2) if a.ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            grad_b = conj(transpose(a2, -1, -2)) @ g
            grad_b = squeeze(grad_b, -1) if b.ndim == 1 else grad_b
        return grad_a, grad_b


def matmul(input, other, *, out=None):
    """input @ other with NumPy's rules for 1-D, batched and broadcast operands. Both tensors
    must have one dtype, as in PyTorch (a NumPy array or list operand is converted first)."""
    if getattr(input, "is_sparse", False):           # sparse @ dense: tinygen/sparse/ops.py
        from tinygen.sparse import ops as sparse_ops
        return write_out(sparse_ops.matmul(input, other), out, "matmul")
    a, b = input, other
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b = binary_operands(a, b)
    return write_out(_product("matmul", a, b), out, "matmul")


def _product(op, a, b):
    """``MatMul`` of two tensors, after checking their dtypes and shapes."""
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype} != {b.dtype}; cast one of them, e.g. b.to(a.dtype)")
    if a.dtype.kind == "b":
        raise NotImplementedError(f"{op}: not implemented for bool tensors; convert them "
                                  f"with .long() or .float()")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"{op}: both arguments need at least 1 dim, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                           f"multiplied ({inner_a} != {inner_b})")
    return MatMul.apply(a, b)


def mm(input, mat2):
    """(n, m) @ (m, p): matmul for 2-D tensors only, as ``torch.mm``."""
    if getattr(input, "is_sparse", False):           # sparse @ dense: tinygen/sparse/ops.py
        from tinygen.sparse import ops as sparse_ops
        return sparse_ops.mm(input, mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}; use matmul for other shapes")
    return _product("mm", input, mat2)


def bmm(input, mat2):
    """(b, n, m) @ (b, m, p), with the same b on both sides (no broadcasting, as ``torch.bmm``)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: expected 3-D tensors with the same batch size, got shapes "
                           f"{tuple(input.shape)} and {tuple(mat2.shape)}")
    return _product("bmm", input, mat2)


def dot(input, other):
    """The inner product of two 1-D tensors of the same length (a 0-d tensor)."""
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise RuntimeError(f"dot: expected two 1-D tensors of the same length, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    return _product("dot", input, other)


def outer(input, vec2):
    """y[i, j] = input[i] * vec2[j] for 1-D tensors."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {tuple(input.shape)} "
                           f"and {tuple(vec2.shape)}")
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


class Einsum(ArrayFunction):
    """y = einsum(subscripts of the inputs -> output) (NumPy's einsum).

    The gradient of operand k is again an einsum: of grad_y with the other operands, giving k's
    subscripts. Letters only k has (summed away in forward) are absent from that product, so it
    yields the remaining letters and the result is broadcast over the missing ones.
    """
    @staticmethod
    def forward(ctx, inputs, output, *arrays):
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*arrays)
        return get_array_module(arrays[0]).einsum(
            ",".join(inputs) + "->" + output, *arrays, optimize=True)   # BLAS where it can

    @staticmethod
    def backward(ctx, grad_y):
        operands = ctx.saved_tensors
        grads = [None, None]
        for k, (subs, x) in enumerate(zip(ctx.inputs, operands)):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            others = [i for i in range(len(operands)) if i != k]
            available = set(ctx.output).union(*(ctx.inputs[i] for i in others))
            kept = "".join(c for c in subs if c in available)
            equation = ",".join([ctx.output] + [ctx.inputs[i] for i in others]) + "->" + kept
            g = einsum(equation, grad_y, *(operands[i] for i in others))
            g = reshape(g, tuple(n if c in available else 1 for c, n in zip(subs, x.shape)))
            grads.append(expand(g, x.shape))
        return tuple(grads)


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``. Letters and '...' (the
    dims it stands for broadcast against each other, as PyTorch); a letter twice in one
    operand takes its diagonal first ('ii->', 'NMKK->NMK'); without '->' the output is the
    '...' dims, then the letters used once in alphabetical order (as PyTorch).
    Operands may be a list; they must share one dtype."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation, operands = _expand_ellipsis(equation.replace(" ", ""), operands)
    equation, operands = _take_diagonals(equation, operands)
    inputs, output = _parse_einsum(equation, operands)
    if any(x.dtype != operands[0].dtype for x in operands):
        raise RuntimeError(f"einsum: expected operands of one dtype, as PyTorch does, but got "
                           f"{', '.join(str(x.dtype) for x in operands)}; cast them to one")
    if operands[0].dtype.kind in "iub" and _sums_alone(inputs, output):
        operands = tuple(x.long() for x in operands)    # as torch.sum: ints give int64
    return Einsum.apply(inputs, output, *operands)


def _sums_alone(inputs, output):
    """Whether some operand has a letter found nowhere else: PyTorch sums it out of that operand
    first, with torch.sum, whose integer result is int64."""
    return any(set(subs) - set(output) - set("".join(inputs[:k] + inputs[k + 1:]))
               for k, subs in enumerate(inputs))


def _expand_ellipsis(equation, operands):
    """The equation with each '...' written out in unused letters, and the operands with the
    dims under it broadcast to one shape (right-aligned); without '->' the output is those
    dims first, then the letters used once in alphabetical order (as PyTorch)."""
    if "." not in equation:
        return equation, operands
    lhs, arrow, output = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands) or any(s.replace("...", "", 1).count(".")
                                           for s in inputs + [output]):
        raise ValueError(f"einsum: malformed equation {equation!r} for {len(operands)} operands")
    counts = [x.ndim - len(s) + 3 if "..." in s else 0 for s, x in zip(inputs, operands)]
    if min(counts) < 0:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation {equation!r} "
                           f"exceeds the number of dimensions of an operand")
    shapes = [x.shape[s.index("..."):s.index("...") + n] if "..." in s else ()
              for s, x, n in zip(inputs, operands, counts)]
    try:
        batch = tuple(get_array_module(operands[0].array).broadcast_shapes(*shapes))
    except ValueError as error:
        raise RuntimeError(f"einsum(): operands do not broadcast in '...': {shapes}") from error
    spare = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    if c not in equation)[:len(batch)]
    if not arrow:
        letters = lhs.replace("...", "").replace(",", "")
        output = "..." + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    new_ops = []
    for k, (subs, x, n) in enumerate(zip(inputs, operands, counts)):
        if "..." in subs:
            at = subs.index("...")
            want = x.shape[:at] + batch[len(batch) - n:] + x.shape[at + n:]
            x = x if tuple(x.shape) == want else expand(x, want)
            inputs[k] = subs.replace("...", spare[len(spare) - n:] if n else "")
        new_ops.append(x)
    return ",".join(inputs) + "->" + output.replace("...", spare), tuple(new_ops)


def _take_diagonals(equation, operands):
    """The equation and operands with each letter repeated inside one operand replaced by
    that operand's diagonal (moved last, as ``diagonal`` puts it)."""
    from tinygen.ops.rearrange import diagonal
    lhs, arrow, output = equation.partition("->")
    inputs = lhs.split(",")
    if not arrow:               # the implicit output counts letters before the diagonals
        output = "".join(sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1))
    if len(inputs) != len(operands) or all(len(set(s)) == len(s) for s in inputs):
        return equation, operands
    operands = list(operands)
    for k, subs in enumerate(inputs):
        for c in sorted(set(subs), key=subs.index):
            while subs.count(c) > 1 and len(subs) == operands[k].ndim:
                i, j = subs.index(c), subs.index(c, subs.index(c) + 1)
                if operands[k].shape[i] != operands[k].shape[j]:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} "
                                       f"but the sizes don't match, {operands[k].shape[i]} != "
                                       f"{operands[k].shape[j]}")
                operands[k] = diagonal(operands[k], 0, i, j)
                subs = subs[:i] + subs[i + 1:j] + subs[j + 1:] + c
        inputs[k] = subs
    return ",".join(inputs) + "->" + output, tuple(operands)


def _parse_einsum(equation, operands):
    equation = equation.replace(" ", "")
    if "." in equation:
        raise ValueError(f"einsum: '...' (ellipsis) is not supported in {equation!r}; write "
                         f"out every dim with a letter")
    lhs, arrow, output = equation.partition("->")
    inputs = lhs.split(",")
    letters = "".join(inputs)
    if not arrow:
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if not all(c.isalpha() for c in letters + output):
        raise ValueError(f"einsum: subscripts must be letters, got {equation!r}")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: {equation!r} names {len(inputs)} operands but "
                         f"{len(operands)} were given")
    sizes = {}
    for subs, x in zip(inputs, operands):
        if len(subs) != x.ndim:         # (repeated letters are gone: see _take_diagonals)
            raise ValueError(f"einsum: subscripts {subs!r} name {len(subs)} dims, but the "
                             f"operand has shape {tuple(x.shape)}")
        for c, n in zip(subs, x.shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: letter {c!r} has size {sizes[c]} in one operand and "
                                 f"{n} in another ({equation!r})")
    if len(set(output)) != len(output) or not set(output) <= set(letters):
        raise ValueError(f"einsum: output subscripts {output!r} must be distinct letters of "
                         f"the inputs")
    return tuple(inputs), output


def tensordot(a, b, dims=2):
    """Sum of a * b over pairs of dims: the last ``dims`` of a with the first ``dims`` of b (an
    int), or the listed dims ``([a dims], [b dims])``; one matmul after a permute. A paired dim
    of size 1 broadcasts, as in PyTorch: the other side is summed over its dim first."""
    if isinstance(dims, int):
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [d % a.ndim for d in dims_a]
    dims_b = [d % b.ndim for d in dims_b]
    for i, j in zip(dims_a, dims_b):
        if a.shape[i] == 1 and b.shape[j] != 1:
            b = b.sum(j, keepdim=True, dtype=b.dtype)
        elif b.shape[j] == 1 and a.shape[i] != 1:
            a = a.sum(i, keepdim=True, dtype=a.dtype)
        elif a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has "
                               f"size {a.shape[i]} in dim {i} and second has size "
                               f"{b.shape[j]} in dim {j}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    inner = math.prod(a.shape[d] for d in dims_a)
    rows = math.prod(a.shape[d] for d in free_a)      # not -1: ambiguous with a size-0 dim
    cols = math.prod(b.shape[d] for d in free_b)
    left = reshape(permute(a, *free_a, *dims_a), (rows, inner))
    right = reshape(permute(b, *dims_b, *free_b), (inner, cols))
    out_shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return reshape(_product("tensordot", left, right), out_shape)


def kron(input, other):
    """The Kronecker product: out[i*m + k] = input[i] * other[k] in every dim (the shorter
    operand is padded with leading 1s)."""
    n = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (n - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (n - other.ndim) + tuple(other.shape))
    # a's dims interleaved with b's: (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...)
    spread_a = reshape(a, tuple(x for d in a.shape for x in (d, 1)))
    spread_b = reshape(b, tuple(x for d in b.shape for x in (1, d)))
    return reshape(spread_a * spread_b, tuple(p * q for p, q in zip(a.shape, b.shape)))


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (inputs broadcast); dim None takes the first
    dim of size 3, as torch.cross (torch.linalg.cross takes -1)."""
    from tinygen.ops.shape import broadcast_to, normalize_dim, stack
    a, b = binary_operands(input, other)
    if a.ndim != b.ndim:            # sizes broadcast, ranks do not (PyTorch)
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"shapes {tuple(a.shape)} and {tuple(b.shape)}")
    shape = get_array_module(a.array).broadcast_shapes(a.shape, b.shape)
    if dim is None:
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input shape {tuple(shape)}")
    axis = normalize_dim(dim, len(shape), "cross")
    if a.shape[axis] != 3 or b.shape[axis] != 3:        # that dim does not broadcast
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[axis]} and {b.shape[axis]}")
    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    (a0, a1, a2), (b0, b1, b2) = a.unbind(axis), b.unbind(axis)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    (..., P, R). The gradient at a zero distance is 0, as in PyTorch. ``compute_mode`` is
    accepted and ignored: distances are taken from the differences, never through the faster
    but less exact matmul expansion."""
    from tinygen.ops.norm import vector_norm
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must be at least 2-D with the same number of "
                           f"columns, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    return vector_norm(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, dim=-1)

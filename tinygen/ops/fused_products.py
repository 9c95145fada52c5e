"""Products with a scaled sum attached, as BLAS writes them: ``beta * input + alpha * (a @ b)``
(addmm, addmv, addbmm, baddbmm, addr) and ``input + value * a * b`` (addcmul, addcdiv); and
the smaller products mv, inner, vdot, dist, chain_matmul and linalg.multi_dot.

Each is composed of matmul, multiply and add, so gradients of every order are theirs. With
``beta=0`` the input is ignored, as in PyTorch: NaN or inf in it does not reach the result.
"""

from tinygen.ops.linalg import bmm, matmul, mm, outer
from tinygen.ops.shape import reshape, unsqueeze


def _scaled_sum(op, input, product, beta, alpha):
    """beta * input + alpha * product, where input must broadcast to product's shape. Integer
    products keep their dtype (alpha and beta truncated to ints, as PyTorch); boolean ones are
    logical: (beta and input) or (alpha and product)."""
    shape = tuple(input.shape)
    if len(shape) > product.ndim or any(n not in (1, m) for n, m in zip(
            shape[::-1], product.shape[::-1])):
        raise RuntimeError(f"{op}: input of shape {shape} cannot be broadcast to the product's "
                           f"shape {tuple(product.shape)}")
    if product.dtype.kind == "b":
        return (product & bool(alpha)) | (input & bool(beta))
    if product.dtype.kind in "iu":
        alpha, beta = int(alpha), int(beta)
    product = product if alpha == 1 else product * alpha
    if beta == 0:
        return product
    return product + (input if beta == 1 else input * beta)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2) for matrices (n, m) and (m, p); input broadcasts to
    (n, p)."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec) for a matrix (n, m) and a vector (m,)."""
    return _scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]: the batch of products summed."""
    products = bmm(batch1, batch2)
    return _scaled_sum("addbmm", input, products.sum(0, dtype=products.dtype), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2) for batches (b, n, m) and (b, m, p)."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_sum("addr", input, outer(vec1, vec2), beta, alpha)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 (all three broadcast)."""
    product = tensor1 * tensor2
    return input + (product if value == 1 else product * value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (all three broadcast); integer division is refused,
    as in PyTorch."""
    if tensor1.dtype.kind in "biu" and tensor2.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported; divide the "
                           "tensors with tg.div (e.g. rounding_mode='trunc') and use addcmul")
    quotient = tensor1 / tensor2
    return input + (quotient if value == 1 else quotient * value)


def mv(input, vec):
    """The matrix (n, m) times the vector (m,): an (n,) vector."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes "
                           f"{tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


ger = outer


def inner(input, other):
    """The sum of products over the last dim of both: shape input.shape[:-1] +
    other.shape[:-1]; a 0-d operand multiplies instead."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {tuple(input.shape)} and {tuple(other.shape)}")
    n = input.shape[-1]
    flat = matmul(reshape(input, (-1, n)), reshape(other, (-1, n)).T)
    return reshape(flat, input.shape[:-1] + other.shape[:-1])


def vdot(input, other):
    """The dot product of two 1-D tensors, the first conjugated: sum(conj(input) * other)."""
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise RuntimeError(f"vdot: expected two 1-D tensors of the same length, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    return matmul(input.conj() if input.dtype.kind == "c" else input, other)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), over all elements."""
    from tinygen.ops.norm import vector_norm
    return vector_norm(input - other, p)


def multi_dot(tensors):
    """The product of a chain of matrices, left to right; the first may be a 1-D row vector
    and the last a 1-D column vector, as in ``torch.linalg.multi_dot``. (PyTorch also picks
    the cheapest order of the products; here the order is always left to right.)"""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = list(tensors)
    if first_vector:
        mats[0] = unsqueeze(mats[0], 0)
    if last_vector:
        mats[-1] = unsqueeze(mats[-1], 1)
    for i, m in enumerate(mats):
        if m.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2-D (the first and last may be "
                               f"1-D), got shape {tuple(tensors[i].shape)}")
    out = mats[0]
    for m in mats[1:]:
        out = mm(out, m)
    return reshape(out, out.shape[int(first_vector):out.ndim - int(last_vector)])


def chain_matmul(*matrices):
    """The product of 2-D matrices, left to right (deprecated in PyTorch for multi_dot)."""
    if len(matrices) == 1:
        return matrices[0]
    if any(m.ndim != 2 for m in matrices):
        raise RuntimeError(f"chain_matmul(): expected 2-D tensors, got shapes "
                           f"{[tuple(m.shape) for m in matrices]}")
    return multi_dot(matrices)

"""Matrix products: ``matmul`` with NumPy's rules for 1-D, 2-D, batched and broadcast operands."""

from tinygen.autograd.function import Function
from tinygen.ops.convert import binary_operands
from tinygen.ops.shape import squeeze, transpose, unsqueeze


class MatMul(Function):
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
            grad_a = g @ transpose(b2, -1, -2)
            grad_a = squeeze(grad_a, -2) if a.ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            grad_b = transpose(a2, -1, -2) @ g
            grad_b = squeeze(grad_b, -1) if b.ndim == 1 else grad_b
        return grad_a, grad_b


def matmul(a, b):
    a, b = binary_operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dim, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                           f"multiplied ({inner_a} != {inner_b})")
    return MatMul.apply(a, b)

"""PyTorch's second names for ops: ``tg.divide`` is ``tg.div``, ``tg.arcsin`` is ``tg.asin``,
``tg.fix`` is ``tg.trunc`` ... (the same function objects, so nothing is written twice)."""

from tinygen.ops.compare import ge, gt, le, lt, ne
from tinygen.ops.elementwise import abs, div, mul, neg, sub
from tinygen.ops.pointwise import trunc
from tinygen.ops.shape import cat
from tinygen.ops.special import atan2
from tinygen.ops.trig import acos, acosh, asin, asinh, atan, atanh

divide = true_divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs
fix = trunc
concat = cat
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh

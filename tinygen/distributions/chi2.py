"""The chi-squared distribution: Gamma(df / 2, 1 / 2)."""

from tinygen.ops import broadcast_to
from . import constraints
from .gamma import Gamma
from .utils import broadcast_all


class Chi2(Gamma):
    """Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self):
        return self.concentration * 2

    def expand(self, batch_shape, _instance=None):
        return Chi2(broadcast_to(self.df, tuple(batch_shape)), validate_args=False)

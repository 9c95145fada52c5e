"""``detect_anomaly``: find the op that first produced a NaN or inf.

Inside the context every op remembers where it was created (the first file:line outside
tinygen) and checks its outputs in forward and its gradients in backward; the first non-finite
value raises a RuntimeError naming the op and that place. It slows every op, so use it to debug,
not to train.
"""

import functools

from tinygen.autograd.grad_mode import state


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = state.anomaly_enabled
        state.anomaly_enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        state.anomaly_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def is_anomaly_enabled():
    return state.anomaly_enabled

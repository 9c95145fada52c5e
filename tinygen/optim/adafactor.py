"""Adafactor (Shazeer & Stern 2018, "Adaptive Learning Rates with Sublinear Memory Cost"), in
PyTorch's form (``torch.optim.Adafactor``), exactly as PyTorch updates at step t:

    g = grad                                      (negated when maximize)
    beta2_t = 1 - t^beta2_decay;  rho = min(lr, 1 / sqrt(t))
    alpha = max(eps2, RMS(param)) rho             (RMS of the parameter before this step)
    param *= 1 - lr weight_decay
    >= 2-D: R = lerp(R, mean(g^2 over the last dim), 1 - beta2_t)    (row_var, ...x1)
            C = lerp(C, mean(g^2 over dim -2), 1 - beta2_t)           (col_var, ...1xn)
            V = R @ C / max(mean of R over dim -2, eps1)              (rank-1 estimate)
    else:   V = lerp(V, g^2, 1 - beta2_t)                             (variance)
    U = g / sqrt(max(V, eps1^2));  param -= alpha / max(1, RMS(U) / d) U

So a matrix keeps one row and one column of second moments, not a full copy; there is no first
moment. eps1 defaults to the machine epsilon of the parameter's dtype.
"""

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import Optimizer, count_step, new_step
from tinygen.tensor import Tensor


class Adafactor(Optimizer):
    """``Adafactor(params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
    weight_decay=0.0, *, foreach=None, maximize=False)``; state per parameter: ``step`` (a
    float32 CPU scalar), and ``row_var`` and ``col_var`` for parameters of 2 or more
    dimensions, ``variance`` for the others."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        xp = get_array_module(grad)
        if xp.iscomplexobj(param.array):
            raise RuntimeError("Adafactor does not support complex parameters")
        if not state:
            _init_state(state, grad, xp)
        step = count_step(state)
        p, lr = param.array, group["lr"]
        g = -grad if group["maximize"] else grad
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(xp.finfo(p.dtype).eps)
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, _rms(p, xp)) * rho
        if group["weight_decay"] != 0:
            p *= 1 - lr * group["weight_decay"]
        if g.ndim > 1:
            row_var, col_var = state["row_var"].array, state["col_var"].array
            row_var += (xp.mean(g * g, axis=-1, keepdims=True) - row_var) * one_minus_beta2
            col_var += (xp.mean(g * g, axis=-2, keepdims=True) - col_var) * one_minus_beta2
            var_estimate = xp.matmul(row_var, col_var)
            var_estimate /= xp.maximum(xp.mean(row_var, axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"].array
            variance += (g * g - variance) * one_minus_beta2
            var_estimate = variance.copy()
        update = g / xp.sqrt(xp.maximum(var_estimate, eps1 * eps1))
        denom = max(1.0, _rms(update, xp) / group["d"])
        p -= (alpha / denom) * update

    def load_state_dict(self, state_dict):
        """As ``Optimizer.load_state_dict``; ``row_var`` and ``col_var`` (shaped unlike their
        parameter) are cast to its dtype and device here."""
        factored = {}
        state = {}
        for key, values in state_dict["state"].items():
            factored[key] = {k: v for k, v in values.items() if k in ("row_var", "col_var")}
            state[key] = {k: v for k, v in values.items() if k not in factored[key]}
        super().load_state_dict({**state_dict, "state": state})
        by_index = {int(saved_index): p
                    for group, saved in zip(self.param_groups, state_dict["param_groups"])
                    for saved_index, p in zip(saved["params"], group["params"])}
        for key, values in factored.items():
            p = by_index[int(key)]
            for name, value in values.items():
                self.state[p][name] = Tensor(value.to(p.device, p.dtype).array.copy())


def _init_state(state, grad, xp):
    state["step"] = new_step()
    if grad.ndim > 1:
        state["row_var"] = Tensor(xp.zeros(grad.shape[:-1] + (1,), grad.dtype))
        state["col_var"] = Tensor(xp.zeros(grad.shape[:-2] + (1, grad.shape[-1]), grad.dtype))
    else:
        state["variance"] = Tensor(xp.zeros_like(grad))


def _rms(a, xp):
    """The root mean square of the array ``a``, as a float (the 2-norm over sqrt(size))."""
    return float(xp.linalg.norm(a.ravel())) / a.size ** 0.5

"""L-BFGS (Liu & Nocedal 1989; Nocedal & Wright 2006, algorithm 7.4), exactly as PyTorch runs it
(after minFunc). ``step(closure)`` runs up to ``max_iter`` iterations, each re-evaluating the loss
through ``closure``, on all parameters as one flat vector x with flat gradient g:

    s_k = x_{k+1} - x_k = t d;   y_k = g_{k+1} - g_k;   rho_k = 1 / (y_k . s_k)
    (the pair is kept, of the last ``history_size``, only when y_k . s_k > 1e-10)
    two-loop recursion: q = -g;  for k newest to oldest: a_k = rho_k s_k . q;  q -= a_k y_k
                        r = H_diag q, H_diag = y . s / y . y (newest pair)
                        for k oldest to newest: b = rho_k y_k . r;  r += (a_k - b) s_k
    d = r;  x += t d

with t = lr (the first iteration ever: min(1, 1 / |g|_1) lr), or the step that
``line_search.strong_wolfe`` finds. It stops at ``max_iter`` iterations, ``max_eval``
evaluations, max |g| <= tolerance_grad, or changes in x or the loss below tolerance_change.
"""

import copy

from tinygen.autograd.grad_mode import enable_grad, no_grad
from tinygen.backend import get_array_module
from tinygen.optim.line_search import strong_wolfe
from tinygen.optim.optimizer import Optimizer, _as_numbers, check_nonnegative
from tinygen.tensor import Tensor

_ARRAY_STATE = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al")


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None (max_iter * 5 // 4),
    tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100, line_search_fn=None)``, with
    ``line_search_fn`` None (a fixed step of lr) or ``"strong_wolfe"``. One parameter group
    only. The state, one for all parameters, is kept under the first parameter, as in PyTorch:
    ``func_evals``, ``n_iter``, the last direction ``d`` and step ``t``, the history
    ``old_dirs`` (y), ``old_stps`` (s) and ``ro``, ``H_diag``, ``prev_flat_grad``,
    ``prev_loss`` and ``al``."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_nonnegative(("learning rate", lr))
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def _gather_flat_grad(self):
        """All gradients as one flat array (zeros for a parameter without one)."""
        xp = get_array_module(self._params[0].array)
        return xp.concatenate([xp.zeros(p.array.size, p.array.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update):
        """x += step_size * update, each parameter its slice of the flat ``update``."""
        offset = 0
        for p in self._params:
            p.array[...] += step_size * update[offset:offset + p.array.size].reshape(p.shape)
            p._shared_version()[0] += 1        # as inplace.py does for x.add_(...)
            offset += p.array.size

    def _set_param(self, arrays):
        for p, array in zip(self._params, arrays):
            p.array[...] = array
            p._shared_version()[0] += 1

    def _directional_evaluate(self, closure, x, t, d):
        """The loss and flat gradient at x + t d; the parameters are left at x."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure):
        """Run L-BFGS iterations; ``closure`` (required) zeroes the gradients, computes the
        loss, calls backward and returns the loss. Returns the loss of the first evaluation."""
        with no_grad():
            return self._step(enable_grad()(closure))

    def _step(self, closure):
        group = _as_numbers(self.param_groups[0])
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        xp = get_array_module(flat_grad)
        if xp.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss                       # already optimal

        d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, al = (
            _arrays(state.get(name)) for name in _ARRAY_STATE)
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # The direction: steepest descent at first, then the two-loop recursion.
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:                     # keep the pair only when curvature is >0
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # The step length.
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break                              # not a descent direction any more

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p.array.copy() for p in self._params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:             # the last iteration's loss goes unused
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break                              # lack of progress

        lr_tensor = self.param_groups[0]["lr"]
        if isinstance(lr_tensor, Tensor):          # PyTorch's t is then a tensor: lr itself, or
            dtype = lr_tensor.array.dtype if t == lr else "float64"   # lr scaled, in float64
            t = Tensor(get_array_module(lr_tensor.array).asarray(t, dtype))
        for name, value in zip(_ARRAY_STATE, (d, t, old_dirs, old_stps, ro, H_diag,
                                              prev_flat_grad, al)):
            state[name] = _tensors(value)
        state["prev_loss"] = prev_loss
        return orig_loss

    def load_state_dict(self, state_dict):
        """As ``Optimizer.load_state_dict`` for the options; the state (flat vectors, not
        parameter-shaped) is copied under the first parameter, its floating arrays moved to
        that parameter's device and dtype, as PyTorch casts them."""
        super().load_state_dict({"state": {}, "param_groups": state_dict["param_groups"]})
        for key, values in state_dict["state"].items():
            if int(key) != 0:
                raise ValueError(f"loaded state dict has state for parameter {key}; LBFGS "
                                 f"keeps its state under parameter 0")
            first = self._params[0]
            self.state[first] = {name: _moved(value, first) for name, value in values.items()}


def _arrays(value):
    """A state value with its tensors (also inside lists) read as arrays."""
    if isinstance(value, list):
        return [_arrays(v) for v in value]
    return value.array if isinstance(value, Tensor) else value


def _tensors(value):
    """A state value with its arrays (also inside lists) wrapped as tensors."""
    if isinstance(value, list):
        return [_tensors(v) for v in value]
    if value is None or type(value) in (int, float) or isinstance(value, Tensor):
        return value                             # numbers stay numbers, as PyTorch keeps them
    return Tensor(get_array_module(value).asarray(value))


def _moved(value, param):
    """A copy of a loaded state value, floating tensors on ``param``'s device and dtype."""
    if isinstance(value, list):
        return [_moved(v, param) for v in value]
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    moved = value.to(param.device, param.dtype) if value.is_floating_point() else value.to(
        param.device)
    return Tensor(moved.array.copy())

"""The strong-Wolfe line search of ``LBFGS(line_search_fn="strong_wolfe")``, as PyTorch ports it
from Torch7's ``lswolfe.lua`` (after minFunc; Nocedal & Wright 2006, algorithms 3.5 and 3.6).

Along the direction d from x, with f(t) = loss(x + t d) and f'(t) = grad(x + t d) . d, a step t
is accepted when it satisfies the strong Wolfe conditions

    f(t) <= f(0) + c1 t f'(0)          (sufficient decrease, Armijo)
    |f'(t)| <= -c2 f'(0)               (curvature)

The search first brackets such a step, then zooms into the bracket, each trial the minimiser of
the cubic that matches f and f' at the two ends (``cubic_interpolate``).

Values are a backend's arrays (flat vectors d and g; 0-d results of their dot products); losses
are Python floats.
"""

from tinygen.backend import get_array_module


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser, clamped to ``bounds`` (default: [x1, x2] in order), of the cubic through
    (x1, f1) and (x2, f2) with slopes g1 and g2 there:

        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2);   d2 = sqrt(d1^2 - g1 g2)
        min_pos = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)        (for x1 <= x2)

    The bounds' midpoint when d1^2 < g1 g2 (the cubic has no minimiser)."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = get_array_module(d2_square).sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """A step along ``d`` from the parameters ``x`` (where the loss is ``f``, the flat gradient
    ``g`` and the slope ``gtd`` = g . d) that satisfies the strong Wolfe conditions, starting
    from the trial step ``t``; ``obj_func(x, t, d)`` returns the loss and flat gradient at
    x + t d. At most ``max_ls`` evaluations after the first. Returns (loss, flat gradient, step,
    number of evaluations) at the step taken."""
    xp = get_array_module(d)
    d_norm = xp.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # Bracket an interval that holds a point satisfying the conditions.
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # Extrapolate: the cubic's minimiser, between 1.01 t and 10 t.
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        t_prev, t = t, cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                         bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:                         # out of evaluations: settle for [0, t]
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # Zoom: shrink the bracket until a point in it satisfies the conditions.
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break                                 # the bracket is too small to split
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                              bracket[1], bracket_f[1], bracket_gtd[1])
        # A trial within 10% of an end makes little progress: when the last one did too, or
        # the trial is at (or past) an end, move it 10% of the bracket in from the nearer end.
        high, low = max(bracket), min(bracket)
        eps = 0.1 * (high - low)
        if min(high - t, t - low) < eps:
            if insuf_progress or t >= high or t <= low:
                t = high - eps if abs(t - high) < abs(t - low) else low + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # No sufficient decrease, or above the low end: t becomes the high end.
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True                       # the strong Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # The slope points back past the low end: the old low becomes the high end.
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals

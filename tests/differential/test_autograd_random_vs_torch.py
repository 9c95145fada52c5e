"""Random autograd programs against PyTorch, drawn by hypothesis (derandomized).

1. A chain of out-of-place ops and in-place ops on views of an intermediate (rows, columns,
   slices, transposes, flat views, item assignment), some after a value was saved for backward,
   then one backward: the final values and gradients, or the error type, must match.
2. A random composition of smooth ops: first, second and third derivatives by
   ``autograd.grad(create_graph=True)`` must match.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential.test_autograd_vs_torch import assert_same, outcome

torch = pytest.importorskip("torch")

X = np.array([[0.3, -1.2, 0.8, 0.5], [1.1, -0.4, -0.9, 0.2], [0.6, 0.1, -0.7, 1.3]])
Y = np.array([0.9, -0.5, 1.4, 0.7])

VIEWS = {
    "row": lambda h, i: h[i % 3],
    "column": lambda h, i: h[:, i % 4],
    "slice": lambda h, i: h[1:, i % 2:],
    "transpose": lambda h, i: h.t(),
    "flat": lambda h, i: h.view(-1),
    "element": lambda h, i: h[i % 3, i % 4],
    "view_of_view": lambda h, i: h[1:].t()[i % 4],
}
UNARY = ["sin", "tanh", "sigmoid", "neg", "abs", "exp"]
INPLACE = ["add_", "mul_", "sub_", "div_", "tanh_", "sigmoid_", "zero_", "neg_"]

steps = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(UNARY)),
    st.tuples(st.just("times_x"), st.none()),
    st.tuples(st.just("inplace"), st.sampled_from(INPLACE), st.sampled_from(list(VIEWS) + [None]),
              st.integers(0, 3), st.sampled_from([0.5, 2.0, "y", "x_row"])),
    st.tuples(st.just("setitem"), st.sampled_from(["row", "column", "element"]),
              st.integers(0, 3), st.sampled_from([1.5, "y"])),
    st.tuples(st.just("save"), st.sampled_from(["sin", "mul", "exp"])),
)


def operand(lib, kind, x, y, view):
    """The second argument of an in-place op, broadcastable to ``view``'s shape."""
    if isinstance(kind, float):
        return kind
    source = y if kind == "y" else x[0]
    if view.ndim == 0:
        return source[1]
    return source[: view.shape[-1]] if view.shape[-1] <= 4 else source.sum()


def apply_inplace(lib, target, name, arg):
    method = getattr(target, name)
    if name in ("tanh_", "sigmoid_", "zero_", "neg_"):
        return method()
    if name == "div_" and not isinstance(arg, float):
        arg = arg * arg + 1             # away from zero
    return method(arg)


def run_program(program):
    def scenario(lib):
        x = lib.tensor(X, requires_grad=True)
        y = lib.tensor(Y, requires_grad=True)
        h = x * 1
        saved = []
        for step in program:
            kind = step[0]
            if kind == "unary":
                h = getattr(h, step[1])()
            elif kind == "times_x":
                h = h * x
            elif kind == "inplace":
                _, name, view_name, i, arg = step
                target = h if view_name is None else VIEWS[view_name](h, i)
                apply_inplace(lib, target, name, operand(lib, arg, x, y, target))
            elif kind == "setitem":
                _, where, i, value = step
                index = {"row": i % 3, "column": (slice(None), i % 4), "element": (i % 3, 1)}
                value = value if isinstance(value, float) else y.sum() * 0.1
                h[index[where]] = value
            else:
                saved.append({"sin": h.sin, "exp": h.exp, "mul": lambda: h * h}[step[1]]())
        loss = (h * h).sum() + sum(s.sum() for s in saved)
        loss.backward()
        return h, x.grad, y.grad
    return scenario


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(steps, min_size=1, max_size=6))
def test_random_inplace_programs_match_torch(program):
    scenario = run_program(program)
    assert_same(outcome(scenario, tg), outcome(scenario, torch))


SMOOTH = {
    "sin": lambda lib, t, x: t.sin(),
    "cos": lambda lib, t, x: t.cos(),
    "tanh": lambda lib, t, x: t.tanh(),
    "sigmoid": lambda lib, t, x: t.sigmoid(),
    "exp_half": lambda lib, t, x: (t * 0.5).exp(),
    "square": lambda lib, t, x: t * t,
    "cube": lambda lib, t, x: t ** 3,
    "times_x": lambda lib, t, x: t * x,
    "plus_x": lambda lib, t, x: t + x,
    "log1p_sq": lambda lib, t, x: (t * t + 1).log(),
    "div": lambda lib, t, x: t / (x * x + 1),
    "sum_bcast": lambda lib, t, x: t + t.sum(0, keepdim=True),
    "softplus": lambda lib, t, x: lib.nn.functional.softplus(t),
    "mean_sqrt": lambda lib, t, x: (t * t + 1).sqrt().mean() * t,
}


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(sorted(SMOOTH)), min_size=1, max_size=4))
def test_random_compositions_third_derivative_matches_torch(names):
    def scenario(lib):
        x = lib.tensor(X[:2, :3], requires_grad=True)
        t = x
        for name in names:
            t = SMOOTH[name](lib, t, x)
        (g1,) = lib.autograd.grad(t.sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * g1).sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x, allow_unused=True, materialize_grads=True)
        return t, g1, g2, g3
    assert_same(outcome(scenario, tg), outcome(scenario, torch))

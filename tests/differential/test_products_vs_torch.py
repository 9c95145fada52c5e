"""Products against PyTorch: matmul over every pairing of ranks 1-4 with broadcast batch dims,
bmm, random einsum equations (ellipsis, repeated and summed labels, implicit output), outer,
kron, tensordot, cross and cdist; values, dtypes, shape errors and float64 gradients."""

import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")

FAST = settings(max_examples=40, deadline=None, derandomize=True)
MATMUL_DTYPES = ("float64", "float64", "float32", "int64")


@FAST
@given(ranks=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=S.seeds,
       dtype=st.sampled_from(MATMUL_DTYPES), mismatch=st.integers(0, 9), data=st.data())
def test_matmul_matches_torch(ranks, seed, dtype, mismatch, data):
    n, k, m = (data.draw(st.integers(0, 3)) for _ in range(3))
    batch = data.draw(S.broadcast_pairs())
    a = batch[0][:max(ranks[0] - 2, 0)] + ((n, k) if ranks[0] > 1 else (k,))
    b = batch[1][:max(ranks[1] - 2, 0)] + ((k + (mismatch == 0), m) if ranks[1] > 1 else (k,))
    x, y = S.array(seed, a, dtype), S.array(seed + 1, b, dtype)
    use = data.draw(st.sampled_from(["matmul", "operator", "bmm", "mm", "mv", "dot"]))

    def run(L):
        return (lambda p, q: p @ q) if use == "operator" else getattr(L, use)
    S.compare(torch, run(tg), run(torch), [x, y], seed, what=f"{use} {a} {b}")


def _equation(draw):
    """A valid einsum equation over 1-2 operands and the operand shapes."""
    letters = string.ascii_letters[:5]
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    n_ops = draw(st.integers(1, 2))
    ellipsis = draw(st.booleans())
    batch = draw(S.broadcast_pairs(min_side=1)) if ellipsis else ((), ())
    terms, shapes, used = [], [], []
    for i in range(n_ops):
        labels = draw(st.lists(st.sampled_from(letters), max_size=3))
        term = "".join(labels)
        shape = tuple(sizes[c] for c in labels)
        if ellipsis:
            at = draw(st.integers(0, len(term)))
            term = term[:at] + "..." + term[at:]
            shape = shape[:at] + batch[i] + shape[at:]
        terms.append(term)
        shapes.append(shape)
        used += labels
    lhs = ",".join(terms)
    if draw(st.booleans()):                 # implicit output
        return lhs, shapes
    counts = {c: used.count(c) for c in set(used)}
    out = draw(st.lists(st.sampled_from(sorted(counts) or ["a"]), unique=True, max_size=3)) \
        if counts else []
    out = [c for c in out if c in counts]
    rhs = "".join(out)
    if ellipsis:
        rhs = "..." + rhs if draw(st.booleans()) else rhs + "..."
    return f"{lhs}->{rhs}", shapes


@FAST
@given(seed=S.seeds, data=st.data())
def test_einsum_matches_torch(seed, data):
    equation, shapes = _equation(data.draw)
    arrays = [S.array(seed + i, s, "float64") for i, s in enumerate(shapes)]
    S.compare(torch, lambda *a: tg.einsum(equation, *a), lambda *a: torch.einsum(equation, *a),
              arrays, seed, what=f"einsum {equation} {shapes}")


@FAST
@given(name=st.sampled_from(["outer", "kron", "tensordot", "cross", "cdist"]),
       seed=S.seeds, dtype=st.sampled_from(["float64", "float64", "int64"]), data=st.data())
def test_other_products_match_torch(name, seed, dtype, data):
    draw = data.draw
    if name == "outer":
        shapes = [(draw(st.integers(0, 3)),), (draw(st.integers(0, 3)),)]
        op = (lambda L: lambda a, b: L.outer(a, b))
    elif name == "kron":
        shapes = [draw(S.shapes(max_dims=3)), draw(S.shapes(max_dims=3))]
        op = (lambda L: lambda a, b: L.kron(a, b))
    elif name == "tensordot":
        k = draw(st.integers(0, 2))
        shared = draw(S.shapes(min_dims=k, max_dims=k))
        a = draw(S.shapes(max_dims=2)) + shared
        b = shared + draw(S.shapes(max_dims=2))
        form = draw(st.sampled_from(["int", "lists"]))
        dims = k if form == "int" else (list(range(len(a) - k, len(a))), list(range(k)))
        shapes = [a, b]
        op = (lambda L: lambda p, q: L.tensordot(p, q, dims=dims))
    elif name == "cross":
        pair = draw(S.broadcast_pairs(min_side=1))
        at = draw(st.integers(0, min(len(pair[0]), len(pair[1]))))
        shapes = [p[:len(p) - at] + (3,) + p[len(p) - at:] for p in pair]
        dim = -at - 1
        op = (lambda L: lambda a, b: L.linalg.cross(a, b, dim=dim))
    else:
        dtype = "float64"
        batch = draw(S.broadcast_pairs(min_side=1))[:1] * 2
        m = draw(st.integers(1, 3))
        shapes = [batch[0][:1] + (draw(st.integers(1, 3)), m),
                  batch[1][:1] + (draw(st.integers(1, 3)), m)]
        p = draw(st.sampled_from([1.0, 2.0, 3.0, 0.0, float("inf")]))
        op = (lambda L: lambda a, b: L.cdist(a, b, p=p))
    arrays = [S.array(seed + i, s, dtype) for i, s in enumerate(shapes)]
    S.compare(torch, op(tg), op(torch), arrays, seed, what=f"{name} {shapes}")


# ---- the mismatches these tests found, pinned (each fixed in tinygen) --------------------------

def _same(op, *arrays):
    return S.compare(torch, lambda *a: op(tg, *a), lambda *a: op(torch, *a),
                     [np.asarray(a) for a in arrays])


@pytest.mark.parametrize("equation, shapes", [
    ("...", [(3, 1, 1)]), ("ba...", [(2, 3, 4)]), ("...a,...a", [(2, 3), (3,)]),
    ("a...b,...bc->...ac", [(2, 1, 3), (4, 3, 5)]), ("...ii->...i", [(2, 3, 3)]),
    ("i...,j...->ij", [(2, 3), (4, 1)]), ("...ab", [(2,)])])
def test_einsum_with_ellipsis(equation, shapes):
    arrays = [np.random.default_rng(i).standard_normal(s) for i, s in enumerate(shapes)]
    _same(lambda L, *a: L.einsum(equation, *a), *arrays)


def test_tensordot_with_empty_dims_and_cross_ranks():
    _same(lambda L, a, b: L.tensordot(a, b, dims=1), np.zeros((0, 2)), np.ones((2, 0)))
    _same(lambda L, a, b: L.tensordot(a, b, dims=1), np.zeros((0,)), np.ones((0,)))
    assert _same(lambda L, a, b: L.linalg.cross(a, b), np.ones((1, 3)), np.ones(3)) is None
    _same(lambda L, a, b: L.linalg.cross(a, b), np.ones((2, 3)), np.arange(3.0)[None])

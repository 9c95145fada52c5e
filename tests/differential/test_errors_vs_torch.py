"""Bad calls raise the same exception class in tinygen as in PyTorch: tensor ops half of the table.

A ported script's ``except RuntimeError:`` must keep working, so each row is one bad call written
once as a function of the library module (``tinygen`` or ``torch``) and run on both. tinygen's
class may subclass torch's (e.g. an error that is both RuntimeError and ValueError). Where the
messages are meant to say the same thing a key phrase is checked in both. The nn, optim and
autograd half lives in test_errors_vs_torch_nn.py."""

import warnings

import pytest

import tinygen as tg

torch = pytest.importorskip("torch")


def base_class(exc):
    """The first builtin exception class of ``exc`` (torch's own subclasses map to their base)."""
    return next(k for k in type(exc).__mro__ if k.__module__ == "builtins")


def raised(fn, lib):
    """The exception that ``fn(lib)`` raises; fails the test if it raises nothing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(lib)
    except Exception as exc:        # noqa: BLE001 - the class is what is being compared
        return exc
    pytest.fail(f"{lib.__name__} raised nothing")


def assert_same_error(fn, phrase):
    """``fn`` fails on torch and on tinygen with a compatible class (and ``phrase`` in both)."""
    want, got = raised(fn, torch), raised(fn, tg)
    assert isinstance(got, base_class(want)), (
        f"torch: {type(want).__name__}: {want}\ntinygen: {type(got).__name__}: {got}")
    if phrase is not None:
        assert phrase.lower() in str(want).lower(), f"torch says: {want}"
        assert phrase.lower() in str(got).lower(), f"tinygen says: {got}"


def rows(*table):
    """pytest params from ``(id, fn, phrase)`` rows; a fourth item is the reason for a known
    difference, pinned as a strict xfail so that fixing it shows up."""
    return [pytest.param(*row[1:3], id=row[0], marks=[pytest.mark.xfail(
        reason=row[3], strict=True)] if len(row) > 3 else []) for row in table]


SETATTR = "requires_grad is a plain slot: checking assignments would slow every op"


def assign(x, index, value):
    x[index] = value


def _index_put(L, index, dtype):
    assign(L.zeros(3), index(L), L.ones(2 if index(L).dtype == L.bool else 1, dtype=dtype))


ELEMENTWISE = rows(
    ("add", lambda L: L.ones(2, 3) + L.ones(4, 3), "must match the size"),
    ("sub", lambda L: L.ones(2, 3) - L.ones(3, 2), None),
    ("mul", lambda L: L.ones(2) * L.ones(3), None),
    ("div", lambda L: L.ones(2, 3) / L.ones(2, 2), None),
    ("maximum", lambda L: L.maximum(L.ones(2), L.ones(3)), None),
    ("where", lambda L: L.where(L.ones(3, dtype=L.bool), L.ones(2), L.ones(3)), None),
    ("eq", lambda L: L.ones(2, 3) == L.ones(4, 3), None),
    ("add_ broadcasts self", lambda L: L.ones(3).add_(L.ones(2, 3)), None),
    ("pow", lambda L: L.ones(2) ** L.ones(3), None),
)

PRODUCTS = rows(
    ("matmul", lambda L: L.ones(2, 3) @ L.ones(2, 3), None),
    ("matmul 0-d", lambda L: L.matmul(L.ones(()), L.ones(3)), None),
    ("mm", lambda L: L.mm(L.ones(2, 3), L.ones(4, 5)), None),
    ("mm 1-d", lambda L: L.mm(L.ones(3), L.ones(3, 2)), None),
    ("mm dtypes", lambda L: L.mm(L.ones(2, 2), L.ones(2, 2, dtype=L.float64)), None),
    ("bmm batch", lambda L: L.bmm(L.ones(2, 3, 4), L.ones(3, 4, 5)), None),
    ("bmm 2-d", lambda L: L.bmm(L.ones(3, 4), L.ones(4, 5)), None),
    ("dot sizes", lambda L: L.dot(L.ones(3), L.ones(4)), None),
    ("dot 2-d", lambda L: L.dot(L.ones(2, 2), L.ones(2, 2)), None),
    ("dot dtypes", lambda L: L.dot(L.ones(2, dtype=L.int64), L.ones(2)), None),
    ("outer 2-d", lambda L: L.outer(L.ones(2, 2), L.ones(2)), None),
    ("linear", lambda L: L.nn.functional.linear(L.ones(2, 3), L.ones(4, 5)), None),
    ("linear bias", lambda L: L.nn.functional.linear(L.ones(2, 3), L.ones(4, 3), L.ones(5)),
     None),
    ("Linear", lambda L: L.nn.Linear(3, 4)(L.ones(2, 5)), None),
)

JOIN_SPLIT = rows(
    ("cat sizes", lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)], 0), "Sizes of tensors must match"),
    ("cat ranks", lambda L: L.cat([L.ones(2, 3), L.ones(2, 3, 1)]), None),
    ("cat empty", lambda L: L.cat([], 0), None),
    ("cat dim", lambda L: L.cat([L.ones(2)], 2), "Dimension out of range"),
    ("stack sizes", lambda L: L.stack([L.ones(2), L.ones(3)]), None),
    ("stack empty", lambda L: L.stack([]), None),
    ("stack dim", lambda L: L.stack([L.ones(2)], 3), "Dimension out of range"),
    ("chunk 0", lambda L: L.ones(4).chunk(0), None),
    ("split sizes", lambda L: L.ones(3).split([1, 1]), None),
)

SHAPES = rows(
    ("view size", lambda L: L.ones(6).view(4), "is invalid for input of size 6"),
    ("reshape size", lambda L: L.ones(6).reshape(4, 2), "is invalid for input of size 6"),
    ("view two -1", lambda L: L.ones(6).view(-1, -1), "only one dimension can be inferred"),
    ("view -1 bad", lambda L: L.ones(6).view(-1, 4), None),
    ("view -2", lambda L: L.ones(6).view(-2, 3), None),
    ("view float", lambda L: L.ones(6).view(2.0, 3), None, "tinygen accepts float sizes"),
    ("view non-contiguous", lambda L: L.ones(2, 3).t().view(6), None),
    ("permute count", lambda L: L.ones(2, 3).permute(0), None),
    ("permute repeat", lambda L: L.ones(2, 3).permute(0, 0), None),
    ("transpose dim", lambda L: L.ones(2, 3).transpose(0, 2), "Dimension out of range"),
    ("squeeze dim", lambda L: L.ones(2, 3).squeeze(2), "Dimension out of range"),
    ("unsqueeze dim", lambda L: L.ones(2, 3).unsqueeze(3), "Dimension out of range"),
    ("flatten order", lambda L: L.ones(2, 3).flatten(1, 0), None),
    ("unflatten", lambda L: L.ones(2, 3).unflatten(1, (2, 2)), None),
    ("narrow", lambda L: L.ones(2, 3).narrow(1, 2, 2), None),
    ("repeat rank", lambda L: L.ones(2, 3).repeat(2), None),
    ("flip dim", lambda L: L.ones(3).flip(1), "Dimension out of range"),
    ("movedim", lambda L: L.ones(2, 3).movedim(0, 2), "Dimension out of range"),
    ("unfold", lambda L: L.ones(3).unfold(0, 4, 1), None),
    ("diagonal dims", lambda L: L.ones(2, 3).diagonal(0, 0, 0), None),
    ("tril 1-d", lambda L: L.ones(3).tril(), None),
    ("size dim", lambda L: L.ones(2, 3).size(2), "Dimension out of range"),
    ("expand size", lambda L: L.ones(2, 3).expand(4, 3), None),
    ("expand rank", lambda L: L.ones(2, 3).expand(3), None),
    ("expand -1 new", lambda L: L.ones(1, 3).expand(-1, -1, 3), None),
    ("expand_as", lambda L: L.ones(2, 3).expand_as(L.ones(3, 3)), None),
    ("copy_ shape", lambda L: L.ones(2).copy_(L.ones(3)), None),
)

INDEXING = rows(
    ("int", lambda L: L.ones(3)[3], "index 3 is out of bounds"),
    ("negative int", lambda L: L.ones(3)[-4], None),
    ("second int", lambda L: L.ones(2, 3)[0, 5], None),
    ("too many", lambda L: L.ones(2, 3)[0, 0, 0], "too many indices"),
    ("float", lambda L: L.ones(3)[1.0], None),
    ("tensor", lambda L: L.ones(3)[L.tensor([3])], None),
    ("negative tensor", lambda L: L.ones(3)[L.tensor([-4])], None),
    ("float tensor", lambda L: L.ones(3)[L.tensor([0.0])], None),
    ("mask shape", lambda L: L.ones(3)[L.tensor([True, False])], None),
    ("broadcast", lambda L: L.ones(2, 3)[L.tensor([0, 1]), L.tensor([0, 1, 2])], None),
    ("setitem int", lambda L: assign(L.ones(3), 3, 1.0), None),
    ("setitem value shape", lambda L: assign(L.zeros(3), L.tensor([0, 1]), L.ones(3)), None),
    ("setitem slice shape", lambda L: assign(L.zeros(3), slice(0, 2), L.ones(3)), None),
    ("index_put dtype", lambda L: _index_put(L, lambda L: L.tensor([0]), L.float64),
     "Index put requires the source and destination dtypes match"),
    ("index_put mask dtype",
     lambda L: _index_put(L, lambda L: L.tensor([True, False, True]), L.float64),
     "Index put requires the source and destination dtypes match"),
    ("index_select", lambda L: L.ones(3).index_select(0, L.tensor([3])), None),
    ("index_select float", lambda L: L.ones(3).index_select(0, L.tensor([0.0])), None),
    ("select", lambda L: L.ones(3).select(0, 5), None),
    ("take", lambda L: L.ones(3).take(L.tensor([5])), None),
    ("item", lambda L: L.ones(2).item(), None),
    ("gather float", lambda L: L.ones(2, 3).gather(1, L.tensor([[0.0]])), None),
    ("gather range", lambda L: L.ones(2, 3).gather(1, L.tensor([[3]])), None),
    ("gather rank", lambda L: L.ones(2, 3).gather(1, L.tensor([0, 1])), None),
    ("gather size", lambda L: L.ones(2, 3).gather(1, L.zeros(3, 1, dtype=L.int64)), None),
    ("gather dim", lambda L: L.ones(2, 3).gather(2, L.zeros(2, 1, dtype=L.int64)), None),
    ("scatter float", lambda L: L.zeros(2, 3).scatter(1, L.tensor([[0.0]]), 1.0), None),
    ("scatter range", lambda L: L.zeros(2, 3).scatter(1, L.tensor([[3]]), 1.0), None),
    # negative positions: NumPy would wrap them round, PyTorch refuses them
    ("gather negative", lambda L: L.ones(2, 3).gather(1, L.tensor([[-1]])), "out of bounds"),
    ("scatter negative", lambda L: L.zeros(2, 3).scatter(1, L.tensor([[-1]]), 1.0),
     "out of bounds"),
    ("scatter_add negative",
     lambda L: L.zeros(2, 3).scatter_add(1, L.tensor([[-1]]), L.ones(1, 1)), "out of bounds"),
    ("scatter_reduce negative", lambda L: L.zeros(2, 3).scatter_reduce(
        1, L.tensor([[-1]]), L.ones(1, 1), "amax"), "out of bounds"),
    ("index_select negative", lambda L: L.ones(2, 3).index_select(1, L.tensor([-1])), None),
    ("index_add negative",
     lambda L: L.zeros(2, 3).index_add(1, L.tensor([-1]), L.ones(2, 1)), "out of bounds"),
    ("index_copy negative",
     lambda L: L.zeros(2, 3).index_copy(1, L.tensor([-1]), L.ones(2, 1)), "out of bounds"),
    ("index_add dtype", lambda L: L.zeros(2, 3).index_add(
        1, L.tensor([0]), L.ones(2, 1, dtype=L.float64)), None),
    ("index_copy dtype", lambda L: L.zeros(2, 3).index_copy(
        1, L.tensor([0]), L.ones(2, 1, dtype=L.float64)), "same dtype"),
    ("scatter rank", lambda L: L.zeros(2, 3).scatter(1, L.tensor([0]), 1.0), None),
    ("scatter src dtype",
     lambda L: L.zeros(2, 3).scatter(1, L.tensor([[0]]), L.ones(1, 1, dtype=L.float64)), None),
    ("scatter_add dtype",
     lambda L: L.zeros(2, 3).scatter_add(1, L.tensor([[0]]), L.ones(1, 1, dtype=L.float64)),
     None),
    ("scatter_add float",
     lambda L: L.zeros(2, 3).scatter_add(1, L.tensor([[0.0]]), L.ones(1, 1)), None),
    ("masked_fill float", lambda L: L.zeros(2).masked_fill(L.ones(2), 1.0), None),
    ("masked_fill shape",
     lambda L: L.zeros(2).masked_fill(L.tensor([True, False, True]), 1.0), None),
    ("where float cond", lambda L: L.where(L.ones(2), L.ones(2), L.ones(2)), None),
)

REDUCTIONS = rows(
    ("softmax", lambda L: L.nn.functional.softmax(L.ones(2, 3), dim=2), "Dimension out of range"),
    ("softmax method", lambda L: L.ones(2, 3).softmax(-3), "Dimension out of range"),
    ("log_softmax", lambda L: L.nn.functional.log_softmax(L.ones(2, 3), dim=5), None),
    ("argmax", lambda L: L.ones(2, 3).argmax(2), None),
    ("cumsum", lambda L: L.ones(2, 3).cumsum(2), None),
    ("max", lambda L: L.ones(2, 3).max(dim=2), None),
    ("sum", lambda L: L.ones(2, 3).sum(2), "Dimension out of range"),
    ("sum repeated", lambda L: L.ones(2, 3).sum((0, 0)), "appears multiple times"),
    ("mean", lambda L: L.ones(2, 3).mean(-3), "Dimension out of range"),
    ("var", lambda L: L.ones(2, 3).var(5), None),
    ("sum float dim", lambda L: L.ones(2, 3).sum(dim=0.5), None),
    ("logsumexp", lambda L: L.ones(2, 3).logsumexp(2), None),
    ("topk", lambda L: L.ones(3).topk(5), None),
    ("normalize", lambda L: L.nn.functional.normalize(L.ones(2, 3), dim=2), None),
    ("clamp none", lambda L: L.clamp(L.ones(2)), None),
    ("inverse singular", lambda L: L.zeros(2, 2).inverse(), None),
    ("inverse shape", lambda L: L.ones(2, 3).inverse(), None),
)

DTYPES = rows(
    ("int requires_grad_", lambda L: L.ones(3, dtype=L.int64).requires_grad_(),
     "only Tensors of floating point"),
    ("int tensor requires_grad", lambda L: L.tensor([1, 2], requires_grad=True), None),
    ("int set requires_grad",
     lambda L: setattr(L.ones(2, dtype=L.int64), "requires_grad", True), None, SETATTR),
    ("and floats", lambda L: L.ones(2) & L.ones(2), None),
    ("or floats", lambda L: L.ones(2) | L.ones(2), None),
    ("xor floats", lambda L: L.ones(2) ^ L.ones(2), None),
    ("invert float", lambda L: ~L.ones(2), None),
    ("shift float", lambda L: L.ones(2) << 1, None),
    ("bitwise_not float", lambda L: L.bitwise_not(L.ones(2)), None),
    ("mean ints", lambda L: L.ones(2, dtype=L.int64).mean(), "could not infer output dtype"),
    ("std ints", lambda L: L.arange(3).std(), None),
    ("add_ float into int", lambda L: L.arange(3).add_(0.5), "can't be cast"),
    ("div_ into int", lambda L: L.arange(3).div_(2), None),
    ("positive bool", lambda L: L.ones(2, dtype=L.bool).positive(), None),
    ("neg bool", lambda L: -L.ones(2, dtype=L.bool), None),
    ("type bogus", lambda L: L.ones(2).type("torch.BogusTensor"), None),
    ("fill_ tensor", lambda L: L.ones(2).fill_(L.ones(2)), None),
)

CREATION = rows(
    ("ragged", lambda L: L.tensor([[1, 2], [3]]), None),
    ("negative size", lambda L: L.zeros(-1), None),
    ("new_zeros negative", lambda L: L.ones(3).new_zeros(-1), None),
    ("arange step 0", lambda L: L.arange(0, 10, 0), None),
    ("arange sign", lambda L: L.arange(10, 0, 1), None),
    ("linspace steps", lambda L: L.linspace(0, 1, -1), None),
    ("eye", lambda L: L.eye(-1), None),
    ("randint range", lambda L: L.randint(5, 2, (3,)), None),
    ("multinomial", lambda L: L.multinomial(L.ones(3), 5), None),
)


@pytest.mark.parametrize("fn, phrase", ELEMENTWISE + PRODUCTS + JOIN_SPLIT + SHAPES + INDEXING
                         + REDUCTIONS + DTYPES + CREATION)
def test_same_error_as_torch(fn, phrase):
    assert_same_error(fn, phrase)


@pytest.mark.parametrize("name, dtype", [("ShortTensor", "int16"), ("CharTensor", "int8"),
                                         ("ByteTensor", "uint8"), ("DoubleTensor", "float64")])
def test_type_accepts_torch_type_strings(name, dtype):
    assert tg.ones(2).type(f"torch.{name}").dtype == getattr(tg, dtype)
    assert tg.ones(2).type(f"torch.{name}").type() == f"tinygen.{name}"
    assert torch.ones(2).type(f"torch.{name}").dtype == getattr(torch, dtype)


def test_basic_slice_setitem_casts_the_value():
    for lib in (tg, torch):
        x = lib.zeros(3)
        x[0:2] = lib.ones(2, dtype=lib.float64)
        assert x.dtype == lib.float32 and x.tolist() == [1.0, 1.0, 0.0]

"""Top-level odds and ends: constants, dtype aliases, switches, queries, gradient, old names."""

import math
import warnings

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


def _error(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as error:            # noqa: BLE001
        return type(error).__name__, str(error)
    return None


def test_constants_and_dtype_aliases():
    assert tg.inf == math.inf and math.isnan(tg.nan) and tg.pi == math.pi and tg.e == math.e
    assert tg.newaxis is None and tg.ones(3)[tg.newaxis].shape == (1, 3)
    assert tg.int is tg.int32 and tg.short is tg.int16
    for name in ("uint16", "uint32", "uint64", "int", "short", "float32"):
        alias = getattr(tg, name)
        assert isinstance(alias, tg.dtype)
        x = tg.zeros(2, dtype=alias)
        assert x.dtype == alias and x.dtype is getattr(tg.dtypes, name)
    assert repr(tg.zeros(1, dtype=tg.uint16)) == "tensor([0], dtype=tg.uint16)"
    assert tg.tensor([1, 2], dtype=tg.int).dtype == np.int32
    assert not isinstance("float32", tg.dtype)


def test_constants_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("inf", "pi", "e", "newaxis"):
        assert getattr(tg, name) == getattr(torch, name)
    for name in ("int", "short", "uint16", "uint32", "uint64"):
        assert str(getattr(torch, name)).replace("torch.", "") == getattr(tg, name).name


def test_deterministic_switches():
    try:
        assert tg.are_deterministic_algorithms_enabled() is False
        tg.use_deterministic_algorithms(True, warn_only=True)
        assert tg.are_deterministic_algorithms_enabled()
        assert tg.is_deterministic_algorithms_warn_only_enabled()
        assert tg.get_deterministic_debug_mode() == 1
        tg.set_deterministic_debug_mode("error")
        assert tg.get_deterministic_debug_mode() == 2
        assert not tg.is_deterministic_algorithms_warn_only_enabled()
        tg.set_deterministic_debug_mode(0)
        assert not tg.are_deterministic_algorithms_enabled()
        with pytest.raises(TypeError, match="must be bool"):
            tg.use_deterministic_algorithms(1)
    finally:
        tg.use_deterministic_algorithms(False)


@pytest.mark.parametrize("name, args", [
    ("set_deterministic_debug_mode", ("bad",)), ("set_deterministic_debug_mode", (5,)),
    ("set_deterministic_debug_mode", (1.0,)), ("set_float32_matmul_precision", (3,)),
    ("set_num_interop_threads", (0,)), ("set_warn_always", (1,)),
    ("is_complex", (1,)), ("is_nonzero", ("ones", 2)), ("is_nonzero", ("ones", 0)),
    ("positive", ("bool",)), ("matrix_rank", (1,)), ("solve", (1, 2)), ("lstsq", (1, 2)),
    ("symeig", (1,)), ("fill", ("ones", 3, "vector")),
])
def test_errors_match_torch(name, args):
    torch = pytest.importorskip("torch")

    def build(lib):
        made = {"ones": lambda n: lib.ones(n), "bool": lib.ones(1, dtype=lib.bool),
                "vector": lib.ones(2)}
        out, rest = [], list(args)
        while rest:
            a = rest.pop(0)
            if a == "ones":
                out.append(made["ones"](rest.pop(0)))
            else:
                out.append(made.get(a, a) if isinstance(a, str) and a in made else a)
        return out
    ours = _error(getattr(tg, name), *build(tg))
    theirs = _error(getattr(torch, name), *build(torch))
    assert ours is not None and theirs is not None
    assert ours == (theirs[0], theirs[1].replace("torch", "tinygen"))


def test_eig_error_points_to_linalg():
    torch = pytest.importorskip("torch")
    ours, theirs = _error(tg.eig, tg.ones(2, 2)), _error(torch.eig, torch.ones(2, 2))
    assert ours[0] == theirs[0] == "RuntimeError"
    assert ours[1].startswith(theirs[1].replace("torch", "tinygen"))


def test_float32_matmul_precision_and_other_switches():
    assert tg.get_float32_matmul_precision() == "highest"
    try:
        tg.set_float32_matmul_precision("high")
        assert tg.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="no effect"):
            tg.set_float32_matmul_precision("bad")
        assert tg.get_float32_matmul_precision() == "high"
    finally:
        tg.set_float32_matmul_precision("highest")
    assert tg.set_flush_denormal(True) is False
    before = tg.get_num_interop_threads()
    assert before >= 1
    tg.set_num_interop_threads(3)
    assert tg.get_num_interop_threads() == 3
    tg.set_num_interop_threads(before)
    tg.set_warn_always(True)
    assert tg.is_warn_always_enabled()
    tg.set_warn_always(False)
    assert not tg.is_warn_always_enabled()
    assert tg.is_autocast_enabled() is False


def test_anomaly_switch_is_autograds():
    assert not tg.is_anomaly_enabled()
    try:
        tg.set_anomaly_enabled(True, False)
        assert tg.is_anomaly_enabled() and tg.autograd.is_anomaly_enabled()
        assert not tg.is_anomaly_check_nan_enabled()
        x = tg.tensor([0.0, 1.0], requires_grad=True)
        (x.sqrt() * 0).sum().backward()          # 0 * inf = NaN, but the NaN check is off
        tg.set_anomaly_enabled(True)
        y = tg.tensor([0.0, 1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="returned nan"):
            (y.sqrt() * 0).sum().backward()
    finally:
        tg.set_anomaly_enabled(False)
    assert not tg.is_anomaly_enabled() and tg.is_anomaly_check_nan_enabled()


def test_queries():
    x = tg.ones(2, 3)
    assert tg.is_complex(x) is False and tg.is_signed(x) is True
    assert tg.is_signed(tg.ones(1, dtype=tg.uint8)) is False
    assert tg.is_nonzero(tg.tensor([2.0])) and not tg.is_nonzero(tg.tensor(0))
    assert tg.get_device(x) == -1 and tg.is_storage(x) is False
    assert tg.typename(x) == "tinygen.FloatTensor"
    assert tg.typename(tg.ones(1, dtype=tg.float64)) == "tinygen.DoubleTensor"
    assert tg.typename(1) == "int" and tg.typename(int) == "int"
    assert tg.typename(tg.nn.Linear(1, 1)) == f"{tg.nn.Linear.__module__}.Linear"
    torch = pytest.importorskip("torch")
    assert tg.typename(np.zeros(1)) == torch.typename(np.zeros(1))
    assert tg.typename(3.5) == torch.typename(3.5)


def test_positive_threshold_fill_empty_strided():
    x = tg.tensor([-1.0, 0.5, 2.0])
    assert tg.positive(x) is x
    y = x.clone()
    assert tg.threshold_(y, 1.0, -5.0) is y
    np.testing.assert_array_equal(y.numpy(), [-5.0, -5.0, 2.0])
    z = tg.fill(x, 7.0)
    assert z.shape == x.shape and z.dtype == x.dtype and (z.numpy() == 7).all()
    assert (x.numpy() != 7).all()                 # out of place
    v = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    out = tg.fill(tg.zeros(3), v)
    assert out.dtype == tg.float32
    out.sum().backward()
    assert v.grad.item() == 3.0
    x.requires_grad_()
    filled = tg.fill(x, True)                     # in the graph, with a zero gradient for x
    assert filled.requires_grad and filled.dtype == x.dtype
    assert tg.autograd.grad(filled.sum(), x)[0].tolist() == [0.0, 0.0, 0.0]
    e = tg.empty_strided((2, 3), (1, 2), dtype=tg.float64)
    assert e.shape == (2, 3) and e.stride() == (1, 2) and e.dtype == tg.float64
    assert tg.empty_strided((0, 3), (3, 1)).shape == (0, 3)
    assert tg.empty_strided((2,), (1,), requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="mismatch in length"):
        tg.empty_strided((2, 3), (1,))


def test_pdist_grads_and_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3))
    x = tg.tensor(a, requires_grad=True)
    i, j = np.triu_indices(4, 1)
    np.testing.assert_allclose(tg.pdist(x).detach().numpy(),
                               np.linalg.norm(a[i] - a[j], axis=1), rtol=1e-12)
    assert gradcheck(tg.pdist, (x,))
    assert gradgradcheck(tg.pdist, (x,))
    assert gradcheck(lambda t: tg.pdist(t, p=3), (x,))
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(tg.pdist(x, 1.5).detach().numpy(),
                               torch.pdist(torch.tensor(a), 1.5).numpy(), rtol=1e-12)


def test_old_norm_names():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4))
    x = tg.tensor(a, requires_grad=True)
    np.testing.assert_allclose(tg.nuclear_norm(x[0]).item(),
                               np.linalg.svd(a[0], compute_uv=False).sum(), rtol=1e-12)
    np.testing.assert_allclose(tg.frobenius_norm(x, (0, 2), True).detach().numpy(),
                               np.sqrt((a ** 2).sum(axis=(0, 2), keepdims=True)), rtol=1e-12)
    assert gradcheck(lambda t: tg.nuclear_norm(t, (0, 2)), (x,))
    assert gradcheck(lambda t: tg.frobenius_norm(t, (1,)), (x,))
    assert gradgradcheck(lambda t: tg.frobenius_norm(t, (1,)), (x,))
    with pytest.raises(RuntimeError, match="2-D"):
        tg.nuclear_norm(x)
    torch = pytest.importorskip("torch")
    t = torch.tensor(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.nuclear_norm(t, (0, 2), True).numpy()
        want_2d = torch.nuclear_norm(t[0], True).numpy()
    np.testing.assert_allclose(tg.nuclear_norm(x, (0, 2), True).detach().numpy(), want)
    np.testing.assert_allclose(tg.nuclear_norm(x[0], True).detach().numpy(), want_2d)


GRADIENT_CASES = [
    ({}, 1), ({"spacing": 2.0}, 1), ({"spacing": 0.5}, 2), ({"dim": 1}, 1), ({"dim": [0, 1]}, 2),
    ({"spacing": [2.0, 0.5]}, 1), ({"spacing": [2.0, 3.0]}, 2),
    ({"spacing": "coords"}, 1), ({"spacing": "coords"}, 2),
]


def _coords():
    return [np.array([0.0, 1.0, 3.0, 3.5]), np.array([-1.0, 0.0, 0.5, 2.0, 4.0])]


@pytest.mark.parametrize("kwargs, edge_order", GRADIENT_CASES)
def test_gradient_matches_numpy(kwargs, edge_order):
    a = np.random.default_rng(2).standard_normal((4, 5))
    kw = dict(kwargs)
    spacing = kw.pop("spacing", 1.0)
    dims = kw.get("dim", [0, 1])
    dims = [dims] if isinstance(dims, int) else dims
    if spacing == "coords":
        np_spacing = _coords()
        spacing = [tg.tensor(c) for c in np_spacing]
    else:
        np_spacing = spacing if isinstance(spacing, list) else [spacing] * len(dims)
    x = tg.tensor(a, requires_grad=True)
    got = tg.gradient(x, spacing=spacing, edge_order=edge_order, **kw)
    want = np.gradient(a, *np_spacing, axis=tuple(dims), edge_order=edge_order)
    want = want if isinstance(want, (list, tuple)) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda t: tg.gradient(t, spacing=spacing, edge_order=edge_order, **kw)[-1],
                     (x,))
    assert gradgradcheck(lambda t: tg.gradient(t, spacing=spacing, edge_order=edge_order,
                                               **kw)[0] ** 2, (x,))


@pytest.mark.parametrize("kwargs, edge_order", GRADIENT_CASES)
def test_gradient_matches_torch(kwargs, edge_order):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((4, 5)).astype(np.float32)
    kw = dict(kwargs)
    if kw.get("spacing") == "coords":
        ours_s, theirs_s = ([lib.tensor(c) for c in _coords()] for lib in (tg, torch))
    else:
        ours_s = theirs_s = kw.get("spacing", 1)
    kw.pop("spacing", None)
    theirs = _error(torch.gradient, torch.tensor(a), spacing=theirs_s, edge_order=edge_order,
                    **kw)
    if theirs is not None:                            # torch refuses the combination: so must we
        ours = _error(tg.gradient, tg.tensor(a), spacing=ours_s, edge_order=edge_order, **kw)
        assert ours is not None and ours[0] == theirs[0], (ours, theirs)
        return
    got = tg.gradient(tg.tensor(a), spacing=ours_s, edge_order=edge_order, **kw)
    want = torch.gradient(torch.tensor(a), spacing=theirs_s, edge_order=edge_order, **kw)
    for g, w in zip(got, want):
        assert g.dtype == tg.float32
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-5)


def test_gradient_of_complex_input_and_spacing_none():
    a = np.random.default_rng(5).standard_normal(6)
    z = a + 1j * a[::-1]
    (got,) = tg.gradient(tg.tensor(z), spacing=None)                  # None: unit steps
    assert got.dtype == tg.complex128
    np.testing.assert_allclose(host(got), np.gradient(z), rtol=1e-12)
    coords = np.array([0.0, 1, 3, 4, 7, 8]) + 1j * np.array([0.0, 1, 0, 2, 1, 0])
    for edge_order in (1, 2):
        (got,) = tg.gradient(tg.tensor(z), spacing=(tg.tensor(coords),), edge_order=edge_order)
        np.testing.assert_allclose(host(got), np.gradient(z, coords, edge_order=edge_order),
                                   rtol=1e-12)


def test_gradient_errors():
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        tg.gradient(tg.ones(2), edge_order=2)
    with pytest.raises(RuntimeError, match="edge_order=1 and edge_order=2"):
        tg.gradient(tg.ones(4), edge_order=3)
    with pytest.raises(RuntimeError, match="same length"):
        tg.gradient(tg.ones(4, 4), spacing=[1.0])


def test_set_default_tensor_type():
    before = tg.get_default_dtype()
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            tg.set_default_tensor_type("torch.DoubleTensor")
        assert tg.get_default_dtype() == tg.float64 and tg.ones(1).dtype == tg.float64
        with pytest.warns(UserWarning):
            tg.set_default_tensor_type(tg.FloatTensor)
        assert tg.get_default_dtype() == tg.float32
        with pytest.warns(UserWarning):
            tg.set_default_tensor_type("tinygen.DoubleTensor")
        assert tg.get_default_dtype() == tg.float64
        with pytest.warns(UserWarning), pytest.raises(TypeError, match="only floating-point"):
            tg.set_default_tensor_type("torch.IntTensor")
    finally:
        tg.set_default_dtype(before)


def test_gradient_checks_its_dims():
    x = tg.zeros(3, 3)
    with pytest.raises(RuntimeError, match="multiple times"):
        tg.gradient(x, spacing=0.1, dim=(1, 1))
    with pytest.raises(IndexError):
        tg.gradient(x, dim=3)

"""Complex tensors: dtypes and promotion, printing, real/imag/angle/abs/conj/polar/complex/
view_as_real/view_as_complex, gradients in PyTorch's convention (gradcheck on complex128, and
against torch), and the refusal to record an op whose backward is not complex-correct."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.autograd.gradcheck import GradcheckError
from tinygen.autograd.function import ArrayFunction

RNG = np.random.default_rng(7)


def _c(*shape):
    return tg.tensor(RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape),
                     requires_grad=True)


def _r(*shape):
    return tg.tensor(RNG.standard_normal(shape), dtype=tg.float64, requires_grad=True)


def _torch_values(tensor):
    return tensor.detach().resolve_conj().numpy()


# dtypes and promotion

def test_dtype_names_and_scalar_tensors():
    assert tg.cfloat == tg.complex64 == np.complex64 and tg.cdouble == tg.complex128
    assert tg.tensor(1 + 2j).dtype == tg.complex64
    assert tg.tensor([1, 2j]).dtype == tg.complex64
    assert tg.tensor(np.array([1j])).dtype == tg.complex128          # NumPy keeps its dtype
    with pytest.raises(TypeError, match="complex32"):
        tg.zeros(2, dtype=tg.chalf)
    old = tg.get_default_dtype()
    tg.set_default_dtype(tg.float64)
    try:
        assert tg.tensor(1j).dtype == tg.complex128
    finally:
        tg.set_default_dtype(old)


PROMOTION = [  # (a dtype, a shape, b: dtype and shape or a Python number) -> result
    (tg.float32, (2,), 1j, tg.complex64),
    (tg.float64, (2,), 1j, tg.complex128),
    (tg.int64, (2,), 1j, tg.complex64),
    (tg.bool, (2,), 1j, tg.complex64),
    (tg.complex128, (2,), 2.0, tg.complex128),
    (tg.complex64, (2,), 1j, tg.complex64),
    (tg.complex64, (2,), (tg.float64, (2,)), tg.complex128),
    (tg.complex64, (2,), (tg.float64, ()), tg.complex64),
    (tg.float64, (2,), (tg.complex64, ()), tg.complex128),
    (tg.float32, (2,), (tg.complex128, ()), tg.complex64),
    (tg.float32, (), (tg.complex128, ()), tg.complex128),
    (tg.int32, (2,), (tg.complex64, ()), tg.complex64),
    (tg.complex64, (2,), (tg.complex128, (2,)), tg.complex128),
]


@pytest.mark.parametrize("a_dtype, a_shape, b, expected", PROMOTION)
def test_promotion(a_dtype, a_shape, b, expected):
    a = tg.ones(a_shape, dtype=a_dtype)
    other = b if not isinstance(b, tuple) else tg.ones(b[1], dtype=b[0])
    assert (a * other).dtype == expected
    assert (other + a).dtype == expected


def test_promotion_matches_torch():
    torch = pytest.importorskip("torch")
    for a_dtype, a_shape, b, expected in PROMOTION:
        a = torch.ones(a_shape, dtype=getattr(torch, str(a_dtype)))
        other = b if not isinstance(b, tuple) else torch.ones(b[1],
                                                              dtype=getattr(torch, str(b[0])))
        assert str((a * other).dtype) == f"torch.{expected}"
    assert tg.promote_types(tg.complex64, tg.float64) == tg.complex128


# printing

PRINTED = [np.array([1 + 2j]), np.array([1.5 - 2j, 0.25 + 1e-3j, -3 + 0j]),
           np.array([[1 + 1j, 2 - 2j], [3, -4j]]), np.array(1 - 0.5j),
           np.array([1e10 + 1j, 2j]), np.array([complex("nan") + 1j, -0.0 - 0.0j]),
           np.arange(1200) * (1 + 1j)]


def test_printing_examples():
    assert repr(tg.tensor([1 + 2j])) == "tensor([1.+2.j])"
    assert repr(tg.tensor([1 - 0.5j], dtype=tg.complex128)) == \
        "tensor([1.-0.5000j], dtype=tg.complex128)"
    assert repr(tg.tensor([3 + 0j, -4j])) == "tensor([3.+0.j, -0.-4.j])"


@pytest.mark.parametrize("values", PRINTED)
def test_printing_matches_torch(values):
    torch = pytest.importorskip("torch")
    for dtype in (np.complex64, np.complex128):
        expected = repr(torch.tensor(values.astype(dtype))).replace("torch.", "tg.")
        assert repr(tg.tensor(values.astype(dtype))) == expected


# forward values

def test_parts_angle_abs_conj_against_numpy():
    z = np.array([1 + 2j, -3 - 0.5j, 0j, -2 + 0j])
    t = tg.tensor(z)
    np.testing.assert_array_equal(t.real.numpy(), z.real)
    np.testing.assert_array_equal(tg.imag(t).numpy(), z.imag)
    np.testing.assert_allclose(t.angle().numpy(), np.angle(z))
    np.testing.assert_allclose(t.abs().numpy(), np.abs(z))
    assert t.abs().dtype == tg.float64 and tg.abs(tg.tensor([3 + 4j])).dtype == tg.float32
    np.testing.assert_array_equal(t.conj().numpy(), np.conj(z))
    np.testing.assert_array_equal(tg.conj_physical(t).numpy(), np.conj(z))
    assert t.is_complex() and tg.is_complex(t) and not tg.ones(1).is_complex()
    assert not t.is_conj() and tg.resolve_conj(t) is t
    real = tg.ones(2)
    assert tg.conj(real) is real and tg.real(real) is real
    with pytest.raises(RuntimeError, match="non-complex"):
        real.imag


def test_real_and_imag_are_writable_views():
    z = tg.tensor([1 + 2j, 3 - 4j])
    z.real[0] = 10.0
    z.imag.mul_(2)
    np.testing.assert_array_equal(z.numpy(), [10 + 4j, 3 - 8j])
    pairs = tg.view_as_real(z)
    pairs[1, 0] = -1.0
    assert z.numpy()[1] == -1 - 8j
    back = tg.view_as_complex(pairs)
    back[0] = 0j
    assert z.numpy()[0] == 0


def test_complex_polar_and_views_against_numpy():
    a, b = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    np.testing.assert_array_equal(tg.complex(tg.tensor(a), tg.tensor(b)).numpy(), a + 1j * b)
    assert tg.complex(tg.ones(1), tg.ones(1)).dtype == tg.complex64
    np.testing.assert_allclose(tg.polar(tg.tensor(a), tg.tensor(b)).numpy(), a * np.exp(1j * b))
    pairs = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    z = tg.view_as_complex(tg.tensor(pairs))
    assert z.dtype == tg.complex64 and z.numpy().tolist() == [1 + 2j, 3 + 4j]
    assert tg.view_as_real(z).shape == (2, 2)
    scalar = tg.tensor(1 + 2j)
    tg.view_as_real(scalar)[0] = 5.0                # 0-d: a (2,) view of the same memory
    assert tg.view_as_real(scalar).tolist() == [5.0, 2.0] and scalar.item() == 5 + 2j
    assert tg.tensor([1.0, 2.0]).to(tg.cdouble).numpy().tolist() == [1 + 0j, 2 + 0j]
    assert tg.tensor([1 + 2j]).to(tg.float32).numpy().tolist() == [1.0]


def test_bad_inputs_raise():
    with pytest.raises(RuntimeError, match="float64"):
        tg.complex(tg.ones(2), tg.ones(2, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        tg.view_as_complex(tg.ones(3))
    with pytest.raises(RuntimeError, match="float and double"):
        tg.view_as_complex(tg.ones(3, 2, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="complex tensor"):
        tg.view_as_real(tg.ones(2))
    with pytest.raises(RuntimeError, match="stride"):
        tg.view_as_complex(tg.ones(2, 4)[:, ::2])


# gradients

def _gradchecks(fn, *inputs):
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


GRADIENTS = {
    "add": (lambda a, b: a + b, (2, 2)),
    "sub": (lambda a, b: a - b, (2, 2)),
    "mul": (lambda a, b: a * b, (2, 2)),
    "div": (lambda a, b: a / b, (2, 2)),
    "neg": (lambda a: -a, (3,)),
    "exp": (tg.exp, (3,)),
    "log": (tg.log, (3,)),
    "pow": (lambda a: a ** 2.5, (3,)),
    "abs": (tg.abs, (3,)),
    "angle": (tg.angle, (3,)),
    "real": (tg.real, (3,)),
    "imag": (tg.imag, (3,)),
    "conj": (tg.conj, (3,)),
    "view_as_real": (tg.view_as_real, (3,)),
    "sum_mean": (lambda a: a.sum(0) * a.mean(), (2, 3)),
    "matmul": (lambda a, b: a.reshape(2, 1) @ b.reshape(1, 2) + a @ b, (2,)),
    "bmm": (lambda a, b: tg.bmm(a.reshape(1, 2, 2), b.reshape(1, 2, 2)), (4,)),
    "index_views": (lambda a: a[[0, 0]] * a.T[1:].reshape(-1), (2,)),
    "mH": (lambda a: a.reshape(2, 2).mH @ a.reshape(2, 2), (4,)),
    "sigmoid": (tg.sigmoid, (3,)),
    "silu": (lambda a: tg.nn.functional.silu(a), (3,)),
    "logaddexp": (tg.logaddexp, (2, 2)),
}


def test_sigmoid_and_logaddexp_values():
    z, w = (RNG.standard_normal(5) + 1j * RNG.standard_normal(5) for _ in range(2))
    w[0] = 800 + 1j                            # exp(800) overflows: the larger real part leads
    np.testing.assert_allclose(tg.sigmoid(tg.tensor(z)).numpy(), 1 / (1 + np.exp(-z)))
    expected = np.log(np.exp(z) + np.exp(w))
    expected[0] = w[0] + np.log1p(np.exp(z[0] - w[0]))
    np.testing.assert_allclose(tg.logaddexp(tg.tensor(z), tg.tensor(w)).numpy(), expected)


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_complex_gradients(name):
    fn, shape = GRADIENTS[name]
    n_inputs = fn.__code__.co_argcount
    _gradchecks(fn, *[_c(*shape) for _ in range(n_inputs)])


def test_real_to_complex_and_back_gradients():
    _gradchecks(tg.complex, _r(3), _r(3))
    _gradchecks(tg.polar, tg.tensor([0.5, 2.0], dtype=tg.float64, requires_grad=True), _r(2))
    _gradchecks(tg.view_as_complex, _r(2, 2))
    _gradchecks(lambda x, z: x * z, _r(2), _c(2))                     # mixed operands
    _gradchecks(lambda x: (x * (1 - 2j)).to(tg.complex128).abs(), _r(3))
    _gradchecks(lambda x: x.to(tg.complex128).exp().real, _r(3))


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    z0 = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    w0 = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)

    def loss(lib, z, w):
        y = (lib.exp(z) * w / (z + 3) - lib.log(w) ** 2).sum() * lib.conj(z).mean()
        return lib.abs(y) + lib.angle(z @ w) + lib.view_as_real(w).sum() + z.imag.sum()
    grads = []
    for lib, make in ((tg, lambda v: tg.tensor(v, requires_grad=True)),
                      (torch, lambda v: torch.tensor(v, requires_grad=True))):
        z, w = make(z0), make(w0)
        loss(lib, z, w).backward()
        grads.append([np.asarray(z.grad.numpy()), np.asarray(w.grad.numpy())])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_gradcheck_catches_a_missing_conjugate():
    class WrongMul(ArrayFunction):
        supports_complex = True

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad_y):
            a, b = ctx.saved_tensors
            return grad_y * b, grad_y * a                 # conj(b), conj(a) are right

    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(WrongMul.apply, (_c(2), _c(2)))


def test_gradcheck_checks_the_imaginary_part_of_outputs():
    class DropsImaginary(ArrayFunction):           # right for the real part of y only
        supports_complex = True

        @staticmethod
        def forward(ctx, z):
            return z * 2

        @staticmethod
        def backward(ctx, grad_y):
            return tg.real(grad_y).to(tg.complex128) * 2

    with pytest.raises(GradcheckError, match="imaginary part"):
        gradcheck(DropsImaginary.apply, (_c(2),))


def test_ops_without_complex_backward_refuse_to_record():
    z = _c(3)
    for fn, name in ((tg.sin, "Sin"), (tg.tanh, "Tanh"), (lambda t: tg.cumsum(t, 0), "Cumsum")):
        with pytest.raises(NotImplementedError, match=name):
            fn(z)
    x = _r(3)
    with pytest.raises(NotImplementedError, match="Sin"):
        tg.sin(x * 1j)                            # complex made from a real leaf
    with tg.no_grad():
        np.testing.assert_allclose(tg.sin(z).numpy(), np.sin(z.detach().numpy()))
    np.testing.assert_allclose(tg.sin(z.detach()).numpy(), np.sin(z.detach().numpy()))


def test_backward_of_a_complex_scalar_needs_a_gradient():
    z = tg.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        (z * z).sum().backward()

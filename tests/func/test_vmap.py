"""tg.func.vmap: in_dims/out_dims, pytrees, nesting, randomness, and PyTorch's errors."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.func import grad, vmap

RNG = np.random.default_rng(1)
XS = RNG.standard_normal((3, 4))
YS = RNG.standard_normal((4, 3))


def t64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64))


def test_in_dims_out_dims_and_unmapped_args():
    out = vmap(lambda x, y: x * y, in_dims=(0, 1))(t64(XS), t64(YS))
    np.testing.assert_allclose(out.numpy(), XS * YS.T)
    out = vmap(lambda x, w: x @ w, in_dims=(0, None), out_dims=1)(t64(XS), t64(YS))
    np.testing.assert_allclose(out.numpy(), (XS @ YS).T)
    out = vmap(lambda x: x.sum(), in_dims=-1)(t64(XS))
    np.testing.assert_allclose(out.numpy(), XS.sum(0))


def test_pytrees_in_and_out():
    def fn(d, pair):
        return {"s": d["a"] + pair[0], "p": [d["a"] * pair[1]]}
    out = vmap(fn, in_dims=({"a": 0}, (0, None)))({"a": t64(XS)}, (t64(XS), t64(2.0)))
    np.testing.assert_allclose(out["s"].numpy(), 2 * XS)
    np.testing.assert_allclose(out["p"][0].numpy(), 2 * XS)
    a, b = vmap(lambda x: (x, x.sum()), out_dims=(1, None))(t64(XS))
    np.testing.assert_allclose(a.numpy(), XS.T)
    assert abs(b.item() - XS[0].sum()) < 1e-12


def test_nested_vmap_and_per_sample_grad_gradcheck():
    out = vmap(vmap(lambda a, b: a * b, in_dims=(0, None)), in_dims=(None, 0))(
        t64(XS[0]), t64(XS))
    np.testing.assert_allclose(out.numpy(), XS[:, None, :] * XS[0][:, None])
    x = tg.tensor(XS, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: vmap(grad(lambda r: (r.sin() * r).sum()))(x), (x,))


def test_errors_as_pytorch():
    with pytest.raises(ValueError, match="got sizes \\[3, 4\\] for the mapped dimension"):
        vmap(lambda x, y: x + y)(t64(XS), t64(YS))
    with pytest.raises(ValueError, match="Expected at least one Tensor to vmap over"):
        vmap(lambda x: x, in_dims=(None,))(t64(XS))
    with pytest.raises(ValueError, match="so expected in_dim to satisfy -2 <= in_dim < 2"):
        vmap(lambda x: x, in_dims=2)(t64(XS))
    with pytest.raises(ValueError, match="in_dims is not compatible"):
        vmap(lambda x, y: x, in_dims=(0, 0, 0))(t64(XS), t64(XS))
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(lambda x, n: x)(t64(XS), 3)
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda x: 1.0)(t64(XS))
    with pytest.raises(ValueError, match="chunk_size"):
        vmap(lambda x: x, chunk_size=0)


def test_randomness_modes():
    noisy = lambda x: x + tg.rand(4, dtype=tg.float64)  # noqa: E731
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(noisy)(t64(XS))
    same = vmap(noisy, randomness="same")(t64(np.zeros((3, 4))))
    np.testing.assert_array_equal(same.numpy()[0], same.numpy()[2])
    diff = vmap(noisy, randomness="different")(t64(np.zeros((3, 4))))
    assert not np.array_equal(diff.numpy()[0], diff.numpy()[1])


def test_against_torch_vmap():
    torch = pytest.importorskip("torch")
    fn = lambda x, w: (x @ w).tanh()  # noqa: E731
    ours = vmap(fn, in_dims=(0, None), out_dims=1)(t64(XS), t64(YS))
    theirs = torch.func.vmap(fn, in_dims=(0, None), out_dims=1)(torch.tensor(XS),
                                                                 torch.tensor(YS))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_toplevel_vmap_is_func_vmap():
    """``from torch import vmap`` (the ensembling tutorial) ports as ``tg.vmap``."""
    assert tg.vmap is vmap
    np.testing.assert_allclose(tg.vmap(lambda x: x.sum())(t64(XS)).numpy(), XS.sum(1))

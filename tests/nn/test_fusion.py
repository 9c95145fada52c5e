"""nn.utils.fuse_conv_bn_eval / fuse_linear_bn_eval: the fused layer equals layer + BN (eval)."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn.utils import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval

RNG = np.random.default_rng(2)


def _randomize_bn(bn):
    n = bn.num_features
    bn.running_mean = tg.tensor(RNG.standard_normal(n))
    bn.running_var = tg.tensor(RNG.uniform(0.5, 2.0, n))
    with tg.no_grad():
        bn.weight.copy_(tg.tensor(RNG.standard_normal(n)))
        bn.bias.copy_(tg.tensor(RNG.standard_normal(n)))
    return bn.eval()


@pytest.mark.parametrize("bias", [True, False])
def test_conv_bn(bias):
    conv = nn.Conv2d(2, 3, 3, bias=bias).double().eval()
    bn = _randomize_bn(nn.BatchNorm2d(3).double())
    x = tg.tensor(RNG.standard_normal((2, 2, 5, 5)))
    fused = fuse_conv_bn_eval(conv, bn)
    with tg.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), atol=1e-12)
    assert fused.weight.requires_grad and conv.weight is not fused.weight


def test_conv_transpose_bn():
    conv = nn.ConvTranspose2d(2, 3, 3).double().eval()
    bn = _randomize_bn(nn.BatchNorm2d(3).double())
    x = tg.tensor(RNG.standard_normal((1, 2, 4, 4)))
    fused = fuse_conv_bn_eval(conv, bn, transpose=True)
    with tg.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), atol=1e-12)


def test_linear_bn_and_errors():
    lin = nn.Linear(4, 3).double().eval()
    bn = _randomize_bn(nn.BatchNorm1d(3).double())
    x = tg.tensor(RNG.standard_normal((5, 4)))
    with tg.no_grad():
        np.testing.assert_allclose(fuse_linear_bn_eval(lin, bn)(x).numpy(),
                                   bn(lin(x)).numpy(), atol=1e-12)
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        fuse_linear_bn_eval(lin.train(), bn)
    with pytest.raises(AssertionError, match="out_features must equal"):
        fuse_linear_bn_eval(nn.Linear(4, 2).eval(), bn)


def test_weights_against_torch():
    torch = pytest.importorskip("torch")
    w, b = RNG.standard_normal((3, 2, 3, 3)), RNG.standard_normal(3)
    rm, rv = RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)
    g, beta = RNG.standard_normal(3), RNG.standard_normal(3)
    ours = fuse_conv_bn_weights(*[tg.tensor(a) for a in (w, b, rm, rv)], 1e-5,
                                tg.tensor(g), tg.tensor(beta))
    theirs = torch.nn.utils.fuse_conv_bn_weights(*[torch.tensor(a) for a in (w, b, rm, rv)],
                                                 1e-5, torch.tensor(g), torch.tensor(beta))
    for u, v in zip(ours, theirs):
        np.testing.assert_allclose(u.detach().numpy(), v.detach().numpy(), rtol=1e-12)


def test_skip_init_leaves_parameters_unfilled():
    from tinygen.nn.utils import skip_init
    tg.manual_seed(0)
    state = tg.random.get_rng_state().numpy().copy()
    m = skip_init(nn.Linear, 3, 2, dtype=tg.float64)
    assert tuple(m.weight.shape) == (2, 3) and m.weight.dtype == tg.float64
    np.testing.assert_array_equal(state, tg.random.get_rng_state().numpy())   # no draws
    nn.Linear(3, 2)
    assert not np.array_equal(state, tg.random.get_rng_state().numpy())       # init restored
    with pytest.raises(RuntimeError, match="device"):
        skip_init(lambda n: nn.Linear(n, n), 2)

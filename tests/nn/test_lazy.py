"""Lazy modules: placeholders refuse math, the first call infers sizes and turns the module into
its ordinary class with the same initial values, state dicts before and after, dtype moves,
and outputs against PyTorch."""

import copy

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn, optim
from tinygen.autograd import gradcheck


def test_lazy_linear_materializes_like_linear_and_changes_class():
    x = tg.randn(2, 5)
    tg.manual_seed(0)
    lazy = nn.LazyLinear(3)
    weight = lazy.weight
    assert isinstance(weight, nn.UninitializedParameter) and lazy.has_uninitialized_params()
    out = lazy(x)
    tg.manual_seed(0)
    plain = nn.Linear(5, 3)
    assert type(lazy) is nn.Linear and lazy.in_features == 5 and out.shape == (2, 3)
    assert lazy.weight is weight and type(weight) is nn.Parameter     # the same object
    assert not any(isinstance(p, nn.UninitializedParameter) for p in lazy.parameters())
    np.testing.assert_array_equal(lazy.weight.detach().numpy(), plain.weight.detach().numpy())
    np.testing.assert_array_equal(lazy.bias.detach().numpy(), plain.bias.detach().numpy())


def test_placeholders_refuse_math_and_shape():
    lazy = nn.LazyLinear(3, bias=False)
    assert lazy.bias is None and repr(lazy.weight) == "<UninitializedParameter>"
    with pytest.raises(ValueError, match="uninitialized parameter"):
        lazy.weight * 2
    with pytest.raises(RuntimeError, match="shape of an uninitialized"):
        lazy.weight.shape
    buf = nn.UninitializedBuffer()
    with pytest.raises(ValueError, match="uninitialized parameter"):
        buf.sum()


def test_state_dict_holds_placeholders_and_load_materializes():
    lazy = nn.LazyLinear(2)
    sd = lazy.state_dict()
    assert list(sd) == ["weight", "bias"]
    assert all(isinstance(v, nn.UninitializedParameter) for v in sd.values())
    w = np.arange(6.0).reshape(2, 3).astype(np.float32)
    lazy.load_state_dict({"weight": w, "bias": np.array([1.0, -1.0], np.float32)})
    assert lazy.weight.shape == (2, 3) and not lazy.has_uninitialized_params()
    out = lazy(tg.ones(1, 3))
    np.testing.assert_allclose(out.detach().numpy(), [[4.0, 11.0]])
    assert type(lazy) is nn.Linear and lazy.in_features == 3


def test_optimizer_after_dry_run_trains():
    tg.manual_seed(1)
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    x, y = tg.randn(8, 3), tg.randn(8, 1)
    model(x)                                                  # the dry run
    opt = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_to_dtype_before_dry_run_and_deepcopy():
    lazy = nn.LazyLinear(2).to(tg.float64)
    twin = copy.deepcopy(lazy)
    assert lazy.weight.dtype == tg.float64 and twin.has_uninitialized_params()
    assert lazy(tg.ones(1, 3, dtype=tg.float64)).dtype == tg.float64
    assert twin.weight is not lazy.weight and twin.has_uninitialized_params()


def test_gradcheck_through_materialized_lazy_linear():
    lazy = nn.LazyLinear(2, dtype=tg.float64)
    x = tg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    lazy(x)
    assert gradcheck(lambda x, w, b: nn.functional.linear(x, w, b), (x, lazy.weight, lazy.bias))


@pytest.mark.parametrize("make, shape, cls, weight_shape", [
    (lambda: nn.LazyConv1d(4, 3), (2, 3, 7), nn.Conv1d, (4, 3, 3)),
    (lambda: nn.LazyConv2d(4, 3, groups=2), (2, 6, 5, 5), nn.Conv2d, (4, 3, 3, 3)),
    (lambda: nn.LazyConvTranspose1d(4, 3, groups=2), (2, 6, 5), nn.ConvTranspose1d, (6, 2, 3)),
    (lambda: nn.LazyConvTranspose2d(2, 2, stride=2), (3, 4, 4), nn.ConvTranspose2d,
     (3, 2, 2, 2)),
    (lambda: nn.LazyConv3d(2, 2), (1, 3, 3, 3, 3), nn.Conv3d, (2, 3, 2, 2, 2)),
    (lambda: nn.LazyConvTranspose3d(2, 2), (1, 3, 2, 2, 2), nn.ConvTranspose3d,
     (3, 2, 2, 2, 2)),
])
def test_lazy_convs_infer_in_channels(make, shape, cls, weight_shape):
    lazy = make()
    lazy(tg.randn(*shape))
    assert type(lazy) is cls and lazy.weight.shape == weight_shape
    assert lazy.in_channels == shape[1 if len(shape) == len(weight_shape) else 0]


def test_lazy_conv_groups_must_divide_in_channels():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(tg.randn(1, 3, 5, 5))


def test_lazy_norms_infer_num_features_and_track_stats():
    bn = nn.LazyBatchNorm1d()
    assert sorted(bn.state_dict()) == ["bias", "num_batches_tracked", "running_mean",
                                       "running_var", "weight"]
    x = tg.randn(8, 3) * 2 + 1
    bn(x)
    assert type(bn) is nn.BatchNorm1d and bn.num_features == 3
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    inorm = nn.LazyInstanceNorm1d(affine=True)
    inorm(tg.randn(5, 4))                                     # unbatched (C, L)
    assert type(inorm) is nn.InstanceNorm1d and inorm.weight.shape == (5,)
    plain = nn.LazyInstanceNorm2d(affine=False, track_running_stats=False)
    assert not plain.has_uninitialized_params() and not plain.state_dict()
    plain(tg.randn(2, 3, 4, 4))
    assert type(plain) is nn.InstanceNorm2d and plain.num_features == 3
    for lazy, plain_cls in ((nn.LazyBatchNorm3d(), nn.BatchNorm3d),
                            (nn.LazyInstanceNorm3d(), nn.InstanceNorm3d)):
        lazy(tg.randn(2, 3, 2, 2, 2))
        assert type(lazy) is plain_cls and lazy.running_mean.shape == (3,)
    no_bias = nn.LazyBatchNorm2d(bias=False)
    no_bias(tg.randn(2, 3, 2, 2))
    assert no_bias.bias is None and no_bias.weight.shape == (3,)


def test_lazy_modules_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 4, 6)).astype(np.float32)
    ours = nn.Sequential(nn.LazyConv1d(6, 3, padding=1), nn.LazyBatchNorm1d(),
                         nn.LazyConvTranspose1d(2, 3, stride=2), nn.LazyInstanceNorm1d())
    got = ours(tg.tensor(x)).detach().numpy()
    theirs = torch.nn.Sequential(torch.nn.LazyConv1d(6, 3, padding=1),
                                 torch.nn.LazyBatchNorm1d(),
                                 torch.nn.LazyConvTranspose1d(2, 3, stride=2),
                                 torch.nn.LazyInstanceNorm1d())
    assert list(theirs.state_dict()) == list(ours.state_dict())
    theirs(torch.tensor(x))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    want = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]


def test_lazy_conv_signatures_match_torch():
    """Positional arguments follow PyTorch's order (the transposed form has output_padding
    before groups and dilation after bias)."""
    torch = pytest.importorskip("torch")
    import inspect
    for name in ("LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
                 "LazyConvTranspose2d", "LazyConvTranspose3d"):
        ours = list(inspect.signature(getattr(nn, name)).parameters)
        theirs = list(inspect.signature(getattr(torch.nn, name)).parameters)
        assert ours == theirs, name
    conv = nn.LazyConv2d(6, 3, 1, 2, 2, 2, False)               # dilation 2, groups 2, no bias
    conv(tg.ones(1, 4, 6, 6))
    assert (conv.dilation, conv.groups, conv.bias) == ((2, 2), 2, None)
    assert tuple(conv.weight.shape) == (6, 2, 3, 3)
    up = nn.LazyConvTranspose2d(3, 3, 2, 0, 1, 1, True, 2)     # output_padding 1, dilation 2
    assert tuple(up(tg.ones(1, 2, 4, 4)).shape) == (1, 3, 12, 12)

"""Differential tests of tinygen.nn.functional against PyTorch for the less common arguments
the other nn differential files leave out, part 1 (part 2: test_functional_args_acts_vs_torch.py):
conv and conv_transpose modules (padding_mode, output_padding, groups, no bias), lp_pool,
antialiased interpolate and its bad arguments, bicubic and 3-d grid_sample, normalize, the
distances, pixel_shuffle/fold arguments and empty adaptive pools (float64 values and gradients
of the input and every parameter, or PyTorch's error type)."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import tinygen as tg
import tinygen.nn.functional as F
from tests.differential.nn_compare import compare
from tests.helpers import host

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FAST = settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.generate])


def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**16)))


def _per_dim(data, n, lo, hi):
    """An int, or a tuple of n ints, in [lo, hi]."""
    values = tuple(data.draw(st.integers(lo, hi)) for _ in range(n))
    return values[0] if data.draw(st.booleans()) else values


def _module_pair(name, *args, **kw):
    """The same tinygen and torch nn module (float64), tinygen's holding torch's parameters."""
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    ours = getattr(tg.nn, name)(*args, **kw).double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    return ours, theirs


def _compare_module(ours, theirs, x, rtol=1e-10, atol=1e-12):
    """Outputs and the gradients of input and every parameter of two modules agree."""
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_o, out_t = ours(xo), theirs(xt)
    np.testing.assert_allclose(host(out_o), out_t.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(0).standard_normal(tuple(out_t.shape))
    (out_o * tg.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(host(xo.grad), xt.grad.numpy(), rtol=rtol, atol=atol)
    params_t = dict(theirs.named_parameters())
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(host(p.grad), params_t[k].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=k)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@settings(max_examples=4, deadline=None, derandomize=True, phases=[Phase.generate])
@given(data=st.data())
def test_conv_module_padding_mode(n, mode, data):
    rng = _rng(data)
    groups = data.draw(st.integers(1, 2))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    kw = dict(kernel_size=_per_dim(data, n, 1, 3), stride=_per_dim(data, n, 1, 2),
              dilation=_per_dim(data, n, 1, 2), groups=groups, padding_mode=mode,
              bias=data.draw(st.booleans()))
    kw["padding"] = data.draw(st.one_of(st.sampled_from(["same", "valid"]),
                                        st.just(_per_dim(data, n, 0, 2))))
    if kw["padding"] == "same":
        kw["stride"] = 1                       # both refuse 'same' with stride > 1
    size = tuple(data.draw(st.integers(3, 5 if n < 3 else 4)) for _ in range(n))
    x = rng.standard_normal((data.draw(st.integers(1, 2)), cin) + size)
    name = f"Conv{n}d"
    try:
        theirs = getattr(torch.nn, name)(cin, cout, **kw).double()
        theirs(torch.tensor(x))
    except RuntimeError:   # the padded input is smaller than the dilated kernel
        with pytest.raises((RuntimeError, ValueError)):
            getattr(tg.nn, name)(cin, cout, **kw)(tg.tensor(x))
        return
    ours, theirs = _module_pair(name, cin, cout, **kw)
    _compare_module(ours, theirs, x)


@pytest.mark.parametrize("n", [1, 2, 3])
@FAST
@given(data=st.data())
def test_lp_pool(n, data):
    rng = _rng(data)
    size = tuple(data.draw(st.integers(2, 5 if n < 3 else 4)) for _ in range(n))
    x = rng.uniform(0.2, 2.0, (data.draw(st.integers(1, 2)), 2) + size)
    if data.draw(st.booleans()):
        x = x[0]                               # unbatched
    if data.draw(st.booleans()):
        x[..., :2] = 0.0                       # zero windows: torch's gradient there is 0
    kw = dict(norm_type=data.draw(st.sampled_from([1.0, 2.0, 3.0, 1.5, float("inf"),
                                                   -float("inf")])),
              kernel_size=_per_dim(data, n, 1, 2) if n > 1 else data.draw(st.integers(1, 2)),
              stride=data.draw(st.one_of(st.none(), st.just(_per_dim(data, n, 1, 2)))),
              ceil_mode=data.draw(st.booleans()))
    # torch's lp_pool1d takes an int kernel only (a 1-tuple fails in its final `mul`)
    name = f"lp_pool{n}d"
    compare(torch, lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw),
            [x], rtol=1e-9)


@pytest.mark.parametrize("p", [2.0, float("inf"), -float("inf")])
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")   # inf * 0 in backward
def test_lp_pool_zero_windows_and_infinite_norm(p):
    """Regression: tinygen's lp_pool took x^inf (giving 0, 1 or inf) for p = +-inf where torch
    takes the max (min) of |x|, and its gradient on an all-zero window was nan, torch's 0."""
    x = np.array([[[0.0, 0.0, -1.5, 0.5, 0.2, 0.0]]])
    for n, shape in ((1, x.shape), (2, (1, 1, 6)), (3, (1, 1, 1, 6))):
        name = f"lp_pool{n}d"
        kernel = 2 if n == 1 else (1,) * (n - 1) + (2,)
        out = compare(torch, lambda a: getattr(F, name)(a, p, kernel),
                      lambda a: getattr(TF, name)(a, p, kernel), [x.reshape(shape)])[0]
        assert not np.isnan(host(out)).any()


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@FAST
@given(data=st.data())
def test_interpolate_antialias(mode, data):
    rng = _rng(data)
    # Output width >= 2: torch 2.13's CPU antialias kernel gives every row the first row's
    # value when the output width is 1 (see test_interpolate_antialias_width_one).
    x = rng.standard_normal((1, data.draw(st.integers(1, 2)), data.draw(st.integers(2, 7)),
                             data.draw(st.integers(4, 7))))
    kw = dict(mode=mode, antialias=True, align_corners=data.draw(st.booleans()))
    if data.draw(st.booleans()):
        kw["size"] = (data.draw(st.integers(1, 8)), data.draw(st.integers(2, 8)))
    else:
        kw["scale_factor"] = data.draw(st.sampled_from([0.5, (0.3, 1.5), (0.6, 0.5), 2.0]))
        kw["recompute_scale_factor"] = data.draw(st.sampled_from([None, True, False]))
    compare(torch, lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, **kw), [x],
            rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_width_one(mode):
    """Deliberate divergence: with output width 1, torch's CPU antialias repeats the first
    output row; tinygen's equals torch's resize of the transposed image, transposed back."""
    x = np.arange(24.0).reshape(1, 1, 6, 4)
    t = TF.interpolate(torch.tensor(x), size=(3, 1), mode=mode, antialias=True).numpy()
    assert np.all(t == t[0, 0, 0, 0])                   # torch's bug, still there
    ours = host(F.interpolate(tg.tensor(x), size=(3, 1), mode=mode, antialias=True))
    want = TF.interpolate(torch.tensor(x).transpose(2, 3), size=(1, 3), mode=mode,
                          antialias=True).transpose(2, 3)
    np.testing.assert_allclose(ours, want.numpy(), rtol=1e-12)


@FAST
@given(data=st.data())
def test_grid_sample_bicubic_and_3d(data):
    rng = _rng(data)
    align = data.draw(st.booleans())
    pad = data.draw(st.sampled_from(["zeros", "border", "reflection"]))
    c = data.draw(st.integers(1, 2))
    h, w, ho, wo = (data.draw(st.integers(1, 4)) for _ in range(4))
    grid = rng.uniform(-1.3, 1.3, (1, ho, wo, 2))
    kw = dict(mode="bicubic", padding_mode=pad, align_corners=align)
    compare(torch, lambda *a: F.grid_sample(*a, **kw), lambda *a: TF.grid_sample(*a, **kw),
            [rng.standard_normal((1, c, h, w)), grid], rtol=1e-9, atol=1e-11)
    mode = data.draw(st.sampled_from(["bilinear", "nearest"]))
    d, do = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    theta = rng.standard_normal((1, 3, 4))
    compare(torch, lambda t: F.affine_grid(t, (1, c, do, ho, wo), align_corners=align),
            lambda t: TF.affine_grid(t, (1, c, do, ho, wo), align_corners=align), [theta])
    grid = rng.uniform(-1.3, 1.3, (1, do, ho, wo, 3))
    kw = dict(mode=mode, padding_mode=pad, align_corners=align)
    compare(torch, lambda *a: F.grid_sample(*a, **kw), lambda *a: TF.grid_sample(*a, **kw),
            [rng.standard_normal((1, c, d, h, w)), grid], grad=[True, mode != "nearest"],
            rtol=1e-9, atol=1e-11)


@FAST
@given(data=st.data())
def test_normalize(data):
    rng = _rng(data)
    shape = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(1, 3))))
    x = rng.standard_normal(shape)
    if data.draw(st.booleans()):
        x[..., 0] = 0.0                        # a zero slice hits eps
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    kw = dict(p=data.draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, float("inf")])), dim=dim,
              eps=data.draw(st.sampled_from([1e-12, 0.5])))
    compare(torch, lambda a: F.normalize(a, **kw), lambda a: TF.normalize(a, **kw), [x])


@FAST
@given(data=st.data())
def test_cosine_similarity_and_pairwise_distance(data):
    rng = _rng(data)
    a_shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)))
    b_shape = data.draw(st.sampled_from([a_shape, (1, a_shape[1]), a_shape[1:],
                                         (a_shape[0], 1)]))
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    dim = data.draw(st.sampled_from([-1, 0, 1]))
    eps = data.draw(st.sampled_from([1e-8, 0.7]))
    compare(torch, lambda *t: F.cosine_similarity(*t, dim=dim, eps=eps),
            lambda *t: TF.cosine_similarity(*t, dim=dim, eps=eps), [a, b])
    kw = dict(p=data.draw(st.sampled_from([1.0, 2.0, 3.0, float("inf")])),
              eps=data.draw(st.sampled_from([1e-6, 0.3])), keepdim=data.draw(st.booleans()))
    compare(torch, lambda *t: F.pairwise_distance(*t, **kw),
            lambda *t: TF.pairwise_distance(*t, **kw), [a, b])


@pytest.mark.parametrize("n", [1, 2, 3])
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.generate])
@given(data=st.data())
def test_conv_transpose_module(n, data):
    rng = _rng(data)
    groups = data.draw(st.integers(1, 2))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    stride = _per_dim(data, n, 1, 3)
    dilation = _per_dim(data, n, 1, 2)
    s = stride if isinstance(stride, int) else min(stride)
    d = dilation if isinstance(dilation, int) else min(dilation)
    kw = dict(kernel_size=_per_dim(data, n, 1, 3), stride=stride, dilation=dilation,
              padding=_per_dim(data, n, 0, 1), output_padding=data.draw(
                  st.integers(0, max(s, d) - 1)), groups=groups, bias=data.draw(st.booleans()))
    x = rng.standard_normal((1, cin) + tuple(data.draw(st.integers(1, 3)) for _ in range(n)))
    name = f"ConvTranspose{n}d"
    try:
        getattr(torch.nn, name)(cin, cout, **kw).double()(torch.tensor(x))
    except RuntimeError:
        with pytest.raises((RuntimeError, ValueError)):
            getattr(tg.nn, name)(cin, cout, **kw)(tg.tensor(x))
        return
    ours, theirs = _module_pair(name, cin, cout, **kw)
    _compare_module(ours, theirs, x)


def test_pixel_shuffle_unshuffle_and_fold_arguments():
    """Regression: a factor of 0 raised ZeroDivisionError and a negative one went on to a
    reshape error; PyTorch raises RuntimeError for both."""
    rng = np.random.default_rng(5)
    for r, shape in ((2, (8, 1, 3)), (3, (1, 2, 9, 2, 1)), (2, (1, 6, 2, 2)), (0, (4, 2, 2)),
                     (-1, (1, 2, 2))):
        compare(torch, lambda a: F.pixel_shuffle(a, r), lambda a: TF.pixel_shuffle(a, r),
                [rng.standard_normal(shape)])
    for r, shape in ((2, (1, 4, 6)), (2, (2, 1, 3, 4)), (2, (1, 5, 4)), (0, (1, 2, 2)),
                     (-2, (1, 2, 2))):
        compare(torch, lambda a: F.pixel_unshuffle(a, r), lambda a: TF.pixel_unshuffle(a, r),
                [rng.standard_normal(shape)])
    kw = dict(kernel_size=(2, 1), dilation=(1, 2), padding=(1, 0), stride=(2, 1))
    x = rng.standard_normal((1, 2, 4, 3))
    cols = compare(torch, lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [x])[1]
    compare(torch, lambda a: F.fold(a, (4, 3), **kw), lambda a: TF.fold(a, (4, 3), **kw),
            [cols.detach().numpy()])
    compare(torch, lambda a: F.fold(a, (4, 3), **kw), lambda a: TF.fold(a, (4, 3), **kw),
            [cols.detach().numpy()[..., :-1]])           # wrong block count: both refuse


@pytest.mark.parametrize("kw", [
    dict(size=3, scale_factor=2.0), dict(), dict(size=3, mode="nearest", align_corners=True),
    dict(size=3, mode="nearest", antialias=True), dict(size=(3, 3), mode="linear"),
    dict(scale_factor=(2.0, 2.0), mode="linear"), dict(size=3, mode="bogus"),
    dict(size=3, mode="area", antialias=True), dict(size=3, mode="linear", antialias=True)])
def test_interpolate_bad_arguments(kw):
    compare(torch, lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, **kw),
            [np.ones((1, 1, 4))])


@pytest.mark.parametrize("n, size", [(1, 0), (2, (2, 0)), (2, (0, None)), (3, (None, 0, 1))])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool_empty_output(n, size, kind):
    """Regression: an output size of 0 made adaptive_max_pool's window max fail on an empty
    dim; PyTorch returns an empty output (and empty indices). (PyTorch's backward refuses an
    empty grad_output; tinygen's input gradient is zero.)"""
    x = np.random.default_rng(6).standard_normal((2, 2) + (3,) * n)
    name = f"adaptive_{kind}_pool{n}d"
    for kw in ({"return_indices": True}, {}) if kind == "max" else ({},):
        compare(torch, lambda a: getattr(F, name)(a, size, **kw),
                lambda a: getattr(TF, name)(a, size, **kw), [x], grad=False)
        leaf = tg.tensor(x, requires_grad=True)
        out = getattr(F, name)(leaf, size, **kw)
        out = out[0] if kw else out
        assert out.numel() == 0 and out.requires_grad
        out.sum().backward()
        np.testing.assert_array_equal(host(leaf.grad), 0.0)

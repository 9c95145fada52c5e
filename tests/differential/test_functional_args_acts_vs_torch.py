"""Differential tests of tinygen.nn.functional against PyTorch for less common arguments,
part 2 (part 1: test_functional_args_vs_torch.py): softmax with dtype=, the dropout family in
eval, activations at their kinks and on nan/inf, rrelu in eval and glu, norms with and without
weights (functional and modules), local_response_norm, embedding's norm_type and one_hot's
inferred class count (float64 values and gradients of the input and every parameter, or
PyTorch's error type)."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import tinygen as tg
import tinygen.nn.functional as F
from tests.differential.nn_compare import builtin_error, compare
from tests.differential.test_functional_args_vs_torch import _compare_module, _module_pair
from tests.helpers import host

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FAST = settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.generate])


def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**16)))


@FAST
@given(data=st.data())
def test_softmaxes_with_dtype(data):
    rng = _rng(data)
    x = rng.standard_normal(tuple(data.draw(st.integers(1, 3)) for _ in range(2)))
    src, dst = data.draw(st.sampled_from([("float32", torch.float64), ("float64", torch.float32),
                                          ("float64", torch.float64)]))
    x = x.astype(src)
    dim = data.draw(st.sampled_from([0, 1, -1]))
    ours_dtype = getattr(tg, str(dst).split(".")[-1])
    tol = dict(rtol=1e-10, atol=1e-12) if src == "float64" == str(dst)[6:] else dict(
        rtol=1e-5, atol=1e-6)
    for name in ("softmax", "log_softmax", "softmin"):
        compare(torch, lambda a: getattr(F, name)(a, dim, dtype=ours_dtype),
                lambda a: getattr(TF, name)(a, dim, dtype=dst), [x], **tol)


DROPOUTS = {"dropout": 2, "dropout1d": 3, "dropout2d": 4, "dropout3d": 5, "alpha_dropout": 2,
            "feature_alpha_dropout": 4}


@pytest.mark.parametrize("name", sorted(DROPOUTS))
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_family_in_eval_is_identity(name, p):
    x = np.random.default_rng(1).standard_normal((2,) * DROPOUTS[name])
    out = compare(torch, lambda a: getattr(F, name)(a, p=p, training=False),
                  lambda a: getattr(TF, name)(a, p=p, training=False), [x])[0]
    np.testing.assert_array_equal(host(out), x)
    compare(torch, lambda a: getattr(F, name)(a, p=1.5, training=False),
            lambda a: getattr(TF, name)(a, p=1.5, training=False), [x])     # both refuse


@pytest.mark.parametrize("name", sorted(DROPOUTS))
@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4, 5, 6])
@pytest.mark.filterwarnings("ignore:dropout")
def test_dropout_family_any_rank(name, ndim):
    """Regression: dropout2d (ranks < 2) and dropout3d (0-D) raised in eval too, where PyTorch
    returns the input; in training both refuse such input."""
    x = np.random.default_rng(7).standard_normal((2,) * ndim)
    compare(torch, lambda a: getattr(F, name)(a, 0.5, training=False),
            lambda a: getattr(TF, name)(a, 0.5, training=False), [x])
    try:
        getattr(TF, name)(torch.tensor(x), 0.5, training=True)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            getattr(F, name)(tg.tensor(x), 0.5, training=True)
    else:
        assert tuple(getattr(F, name)(tg.tensor(x), 0.5, training=True).shape) == x.shape


# each activation with inputs on and around its kinks, where the one-sided derivative chosen
# must be torch's
EDGES = [("hardtanh", dict(min_val=-0.5, max_val=0.8), [-0.5, 0.8, -1.0, 0.0, 1.0]),
         ("hardtanh", dict(min_val=1.0, max_val=1.0), [0.0, 1.0, 2.0]),
         ("relu6", {}, [0.0, 6.0, -1.0, 3.0, 7.0]), ("relu", {}, [0.0, -1.0, 1.0]),
         ("elu", dict(alpha=0.7), [0.0, -1.0, 1.0]), ("elu", dict(alpha=0.0), [0.0, -2.0]),
         ("celu", dict(alpha=2.0), [0.0, -1.0, 1.0]), ("selu", {}, [0.0, -1.0, 1.0]),
         ("softplus", dict(beta=2.0, threshold=1.0), [0.5, 0.49, 0.51, -30.0, 40.0]),
         ("softplus", dict(beta=0.5, threshold=20.0), [40.0, 39.0, 41.0, 0.0]),
         ("threshold", dict(threshold=0.1, value=-2.0), [0.1, 0.0, 0.2]),
         ("threshold", dict(threshold=-1.0, value=5.0), [-1.0, -2.0, 0.0]),
         ("leaky_relu", dict(negative_slope=0.0), [0.0, -1.0, 1.0]),
         ("hardshrink", dict(lambd=0.5), [0.5, -0.5, 0.0, 1.0]),
         ("softshrink", dict(lambd=0.5), [0.5, -0.5, 0.0, 1.0]),
         ("hardsigmoid", {}, [-3.0, 3.0, 0.0]), ("hardswish", {}, [-3.0, 3.0, 0.0])]


@pytest.mark.parametrize("name, kw, values", EDGES, ids=lambda v: str(v))
def test_activations_at_edges(name, kw, values):
    rtol = 1e-7 if name in ("celu", "hardsigmoid") else 1e-10
    compare(torch, lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw),
            [np.array(values)], rtol=rtol)


NAN_SAFE = ["relu", "relu6", "hardtanh", "elu", "celu", "selu", "leaky_relu", "softplus",
            "threshold", "hardshrink", "softshrink", "hardsigmoid", "hardswish", "gelu", "silu",
            "mish", "logsigmoid", "softsign", "tanhshrink"]


@pytest.mark.parametrize("name", NAN_SAFE)
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_activations_propagate_nan_and_inf(name):
    """Regression: threshold, hardshrink and softshrink turned a nan input into a number;
    hardtanh, relu6, the elu family and hardswish gave a nan input gradient 0 or nan where
    PyTorch's backward formulas pass the upstream gradient through."""
    kw = dict(threshold=0.5, value=2.0) if name == "threshold" else {}
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0])
    out = compare(torch, lambda a: getattr(F, name)(a, **kw),
                  lambda a: getattr(TF, name)(a, **kw), [x],
                  rtol=1e-7)[0]
    assert np.isnan(host(out)[0])


def test_rrelu_eval_and_glu_dims():
    x = np.random.default_rng(2).standard_normal((2, 4, 6))
    for lower, upper in ((0.1, 0.3), (0.25, 0.25), (0.0, 0.0)):
        compare(torch, lambda a: F.rrelu(a, lower, upper, training=False),
                lambda a: TF.rrelu(a, lower, upper, training=False), [x])
    for dim in (0, 1, -1, 2):
        compare(torch, lambda a: F.glu(a, dim), lambda a: TF.glu(a, dim), [x])
    compare(torch, lambda a: F.glu(a, 0), lambda a: TF.glu(a, 0), [x[:1]])   # odd: refuse


@FAST
@given(data=st.data())
def test_instance_and_batch_norm_weights(data):
    """instance_norm and batch_norm with a weight but no bias or the other way round, in
    training or eval mode; local_response_norm over its size and constants."""
    rng = _rng(data)
    c = data.draw(st.integers(1, 4))
    spatial = tuple(data.draw(st.integers(2, 3)) for _ in range(data.draw(st.integers(1, 3))))
    x = rng.standard_normal((2, c) + spatial)
    w = rng.standard_normal(c) if data.draw(st.booleans()) else None
    b = rng.standard_normal(c) if data.draw(st.booleans()) else None
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    training = data.draw(st.booleans())
    compare(torch, lambda *a: F.batch_norm(a[0], tg.tensor(mean), tg.tensor(var), *a[1:],
                                           training=training, eps=0.1),
            lambda *a: TF.batch_norm(a[0], torch.tensor(mean), torch.tensor(var), *a[1:],
                                     training=training, eps=0.1), [x, w, b])
    compare(torch, lambda *a: F.instance_norm(a[0], weight=a[1], bias=a[2], eps=0.01),
            lambda *a: TF.instance_norm(a[0], weight=a[1], bias=a[2], eps=0.01), [x, w, b])
    kw = dict(size=data.draw(st.integers(1, 5)), alpha=data.draw(st.sampled_from([1e-4, 0.5])),
              beta=data.draw(st.sampled_from([0.75, 1.5])), k=data.draw(st.sampled_from([1.0,
                                                                                       2.0])))
    compare(torch, lambda a: F.local_response_norm(a, **kw),
            lambda a: TF.local_response_norm(a, **kw), [x])


def test_local_response_norm_refuses_small_input():
    for shape in ((3,), (2, 3), (0, 2, 3)):
        compare(torch, lambda a: F.local_response_norm(a, 2),
                lambda a: TF.local_response_norm(a, 2), [np.ones(shape)])


@FAST
@given(data=st.data())
def test_embedding_norm_type(data):
    rng = _rng(data)
    n, d = data.draw(st.integers(2, 5)), data.draw(st.integers(1, 3))
    ids = rng.integers(0, n, (data.draw(st.integers(1, 4)),))
    weight = rng.standard_normal((n, d)) * 2
    kw = dict(max_norm=data.draw(st.sampled_from([0.5, 1.0])),
              norm_type=data.draw(st.sampled_from([1.0, 2.0, 3.0, float("inf")])),
              padding_idx=data.draw(st.sampled_from([None, 1])), sparse=False)
    w_ours, w_theirs = tg.tensor(weight), torch.tensor(weight)
    out_o = F.embedding(tg.tensor(ids), w_ours, **kw)
    out_t = TF.embedding(torch.tensor(ids), w_theirs, **kw)
    np.testing.assert_allclose(host(out_o), out_t.numpy(), rtol=1e-10)
    np.testing.assert_allclose(host(w_ours), w_theirs.numpy(), rtol=1e-10)   # renormed rows


def test_one_hot_inferred_classes_and_errors():
    ids = np.array([[0, 3], [2, 1]])
    for classes in (-1, 4, 7):
        compare(torch, lambda i: F.one_hot(i, classes), lambda i: TF.one_hot(i, classes), [ids])
    for bad, classes in ((ids, 3), (ids, -2), (-ids - 1, -1), (ids.astype(np.float64), -1)):
        compare(torch, lambda i: F.one_hot(i, classes), lambda i: TF.one_hot(i, classes),
                [bad], grad=False)


@pytest.mark.parametrize("name, args, kw", [
    ("GroupNorm", (2, 4), dict(affine=False)), ("GroupNorm", (1, 4), {}),
    ("LayerNorm", ((3,),), dict(elementwise_affine=False)),
    ("LayerNorm", ((4, 3),), dict(bias=False)),
    ("InstanceNorm1d", (4,), dict(affine=True)),
    ("InstanceNorm1d", (4,), dict(affine=True, track_running_stats=True)),
    ("BatchNorm1d", (4,), dict(affine=False)),
    ("BatchNorm1d", (4,), dict(track_running_stats=False)),
    ("LocalResponseNorm", (3,), dict(alpha=0.3, beta=0.5, k=2.0))])
@pytest.mark.parametrize("train", [True, False])
def test_norm_modules_with_and_without_weights(name, args, kw, train):
    x = np.random.default_rng(3).standard_normal((2, 4, 3))
    ours, theirs = _module_pair(name, *args, **kw)
    with torch.no_grad():                  # non-trivial affine parameters
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(4)))
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.train(train)
    theirs.train(train)
    _compare_module(ours, theirs, x)
    for (k, o), t in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(host(o), t.numpy(), rtol=1e-10, err_msg=k)   # running stats


@pytest.mark.parametrize("call", [
    lambda lib, f: f.celu(lib.ones(2), alpha=0.0),
    lambda lib, f: f.gelu(lib.ones(2), approximate="exact"),
    lambda lib, f: f.embedding(lib.tensor([0, 1]), lib.ones(3, 2), padding_idx=3),
    lambda lib, f: f.embedding(lib.tensor([0, 1]), lib.ones(3, 2), padding_idx=-4),
    lambda lib, f: f.embedding(lib.tensor([0, 1]), lib.ones(3)),
    lambda lib, f: f.pad(lib.ones(2, 3), (1,)),
    lambda lib, f: f.pad(lib.ones(2, 3), (1.0, 1)),
    lambda lib, f: f.pad(lib.ones(2, 3), (1,) * 6),
    lambda lib, f: f.pad(lib.ones(2, 3), (1, 1), mode="wrap"),
    lambda lib, f: f.pad(lib.ones(1, 2, 3), (1, 1), mode="reflect", value=1.0)])
def test_argument_errors_match_torch_class(call):
    """Regression: these raised a plain ValueError where PyTorch raises RuntimeError,
    AssertionError or NotImplementedError (tinygen's errors now subclass both)."""
    with pytest.raises(Exception) as theirs:
        call(torch, TF)
    with pytest.raises(builtin_error(theirs.value)):
        call(tg, F)

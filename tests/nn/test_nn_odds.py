"""PyTorch's odd nn names: DataParallel and SyncBatchNorm on one device, the RNNBase and
RNNCellBase bases, and the deprecated aliases (NLLLoss2d, Container, F.upsample*, nn.init's
names without the underscore, nn.utils.clip_grad_norm) and the memory-format no-ops."""

import inspect
import warnings

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


# ---- DataParallel ---------------------------------------------------------------------------

class AddBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x, shift=0.0):
        return self.lin(x) + shift


def test_data_parallel_on_cpu_calls_the_module():
    inner = AddBias()
    wrapped = nn.DataParallel(inner, device_ids=[0, 1], dim=0)   # ignored on CPU, as in torch
    assert wrapped.module is inner and wrapped.device_ids == []
    x = tg.randn(4, 3)
    np.testing.assert_array_equal(host(wrapped(x, shift=2.0)), host(inner(x) + 2.0))
    assert list(wrapped.state_dict()) == ["module.lin.weight", "module.lin.bias"]
    assert repr(wrapped).startswith("DataParallel(\n  (module): AddBias(")
    x.requires_grad_()
    wrapped(x).sum().backward()
    assert inner.lin.weight.grad is not None and x.grad.shape == (4, 3)


def test_data_parallel_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict()
    ours = nn.DataParallel(nn.Linear(3, 2))
    assert list(ours.state_dict()) == list(theirs)
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.items()})
    np.testing.assert_array_equal(host(ours.module.weight), theirs["module.weight"].numpy())


def test_data_parallel_refuses_several_gpus(monkeypatch):
    import tinygen.nn.parallel as parallel
    monkeypatch.setattr(parallel.cuda, "is_available", lambda: True)
    with pytest.raises(RuntimeError, match=r"one device .*device_ids=\[0, 1\]"):
        nn.DataParallel(nn.Linear(2, 2), device_ids=[0, "cuda:1"])


# ---- SyncBatchNorm --------------------------------------------------------------------------

def test_sync_batchnorm_constructor_repr_and_keys():
    bn = nn.SyncBatchNorm(3, eps=1e-3, momentum=None, bias=False)
    assert list(bn.state_dict()) == ["weight", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.process_group is None
    params = list(inspect.signature(nn.SyncBatchNorm).parameters)
    assert params == ["num_features", "eps", "momentum", "affine", "track_running_stats",
                      "process_group", "device", "dtype", "bias"]
    torch = pytest.importorskip("torch")
    assert repr(bn) == repr(torch.nn.SyncBatchNorm(3, eps=1e-3, momentum=None, bias=False))
    assert params == list(inspect.signature(torch.nn.SyncBatchNorm).parameters)


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 2, 2), (2, 3, 2, 1, 2)])
def test_sync_batchnorm_normalises_as_batchnorm_any_rank(shape):
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal(shape), dtype=tg.float32)
    sync, plain = nn.SyncBatchNorm(3), nn.BatchNorm1d(3)
    flat = x.reshape(shape[0], 3, -1)                       # BatchNorm1d takes (N, C, L)
    for _ in range(2):
        np.testing.assert_allclose(host(sync(x)).reshape(flat.shape), host(plain(flat)),
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(sync.running_var), host(plain.running_var), rtol=1e-6)
    assert sync.num_batches_tracked.item() == 2
    sync.eval(), plain.eval()
    np.testing.assert_allclose(host(sync(x)).reshape(flat.shape), host(plain(flat)),
                               rtol=1e-5, atol=1e-6)


def test_sync_batchnorm_gradients_and_torch_values():
    rng = np.random.default_rng(1)
    bn = nn.SyncBatchNorm(2, dtype=tg.float64)
    x = leaf64(rng, 3, 2, 2)
    assert gradcheck(lambda t: bn(t), (x,))
    assert gradgradcheck(lambda t: bn(t), (x,))
    torch = pytest.importorskip("torch")
    theirs = torch.nn.SyncBatchNorm(2, dtype=torch.float64)
    np.testing.assert_allclose(host(bn(x)), theirs(torch.tensor(host(x))).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_sync_batchnorm_input_errors_match_torch():
    bn = nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        bn(tg.randn(3))
    with pytest.raises(ValueError, match="number of input channels should be non-zero"):
        nn.SyncBatchNorm(0)(tg.randn(2, 0))
    with pytest.raises(ValueError, match=r"expected 3 channels .* got 4"):
        bn(tg.randn(2, 4))


def test_convert_sync_batchnorm_shares_state_and_keeps_instance_norm():
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=0.3),
                          nn.Sequential(nn.BatchNorm1d(3, affine=False)), nn.InstanceNorm2d(3))
    model[1].running_mean.fill_(0.5)
    model.eval()
    old_bn = model[1]
    keys = list(model.state_dict())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(converted[1]) is nn.SyncBatchNorm and type(converted[2][0]) is nn.SyncBatchNorm
    assert type(converted[3]) is nn.InstanceNorm2d and type(converted[0]) is nn.Conv2d
    assert converted[1].weight is old_bn.weight and converted[1].running_var is old_bn.running_var
    assert converted[1].momentum == 0.3 and not converted[1].training
    assert converted[2][0].weight is None and list(converted.state_dict()) == keys
    np.testing.assert_array_equal(host(converted[1].running_mean), 0.5)
    bn = nn.BatchNorm1d(2)
    single = nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert type(single) is nn.SyncBatchNorm and single.weight is bn.weight


# ---- RNNBase / RNNCellBase ------------------------------------------------------------------

def test_rnn_bases_follow_torch_signatures_and_keys():
    base = nn.RNNBase("GRU", 2, 3, num_layers=2)
    assert isinstance(nn.LSTM(2, 3), nn.RNNBase) and isinstance(nn.GRUCell(2, 3), nn.RNNCellBase)
    cell = nn.RNNCellBase(2, 3, True, 4)
    shapes = {k: tuple(v.shape) for k, v in cell.state_dict().items()}
    assert shapes == {"weight_ih": (12, 2), "weight_hh": (12, 3), "bias_ih": (12,),
                      "bias_hh": (12,)}
    with pytest.raises(NotImplementedError, match="RNNCellBase must set mode"):
        cell(tg.randn(1, 2))
    with pytest.raises(ValueError, match="Unrecognized RNN mode: X"):
        nn.RNNBase("X", 2, 3)
    torch = pytest.importorskip("torch")
    for ours, theirs in ((nn.RNNBase, torch.nn.RNNBase), (nn.RNNCellBase, torch.nn.RNNCellBase)):
        assert list(inspect.signature(ours).parameters) == \
            list(inspect.signature(theirs).parameters)
    assert repr(cell) == repr(torch.nn.RNNCellBase(2, 3, True, 4))
    theirs = torch.nn.RNNBase("GRU", 2, 3, num_layers=2)
    assert {k: tuple(v.shape) for k, v in base.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert repr(base) == repr(theirs)


# ---- deprecated aliases ---------------------------------------------------------------------

def test_nllloss2d_and_container_warn_and_work():
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        loss = nn.NLLLoss2d(ignore_index=1, reduction="sum")
    assert isinstance(loss, nn.NLLLoss) and repr(loss) == "NLLLoss2d()"
    rng = np.random.default_rng(2)
    logp = F.log_softmax(tg.tensor(rng.standard_normal((2, 3, 2, 2))), dim=1)
    target = tg.tensor(rng.integers(0, 3, (2, 2, 2)))
    np.testing.assert_allclose(loss(logp, target).item(),
                               F.nll_loss(logp, target, ignore_index=1, reduction="sum").item())
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        box = nn.Container(a=nn.Linear(1, 2), b=nn.ReLU())
    assert [n for n, _ in box.named_children()] == ["a", "b"]
    assert list(box.state_dict()) == ["a.weight", "a.bias"]


@pytest.mark.parametrize("name, kwargs, same", [
    ("upsample", {"scale_factor": 2, "mode": "bilinear", "align_corners": False},
     {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
    ("upsample", {"size": (3, 5)}, {"size": (3, 5)}),
    ("upsample_nearest", {"scale_factor": 2}, {"scale_factor": 2, "mode": "nearest"}),
    ("upsample_bilinear", {"size": 4}, {"size": 4, "mode": "bilinear", "align_corners": True})])
def test_upsample_wrappers_warn_and_equal_interpolate(name, kwargs, same):
    rng = np.random.default_rng(3)
    x = leaf64(rng, 1, 2, 2, 3)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        y = getattr(F, name)(x, **kwargs)
    np.testing.assert_array_equal(host(y), host(F.interpolate(x, **same)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda t: getattr(F, name)(t, **kwargs), (x,))
        torch = pytest.importorskip("torch")
        theirs = getattr(torch.nn.functional, name)(torch.tensor(host(x)), **kwargs)
    np.testing.assert_allclose(host(y), theirs.numpy(), rtol=1e-12, atol=1e-12)


OLD_INIT = ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
            "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]
INIT_ARGS = {"constant": (0.3,), "sparse": (0.5,)}


@pytest.mark.parametrize("name", OLD_INIT)
def test_init_old_names_warn_and_equal_new(name):
    shape = (2, 2, 3) if name == "dirac" else (4, 3)
    a, b = tg.empty(*shape), tg.empty(*shape)
    with pytest.warns(FutureWarning, match=rf"`nn.init.{name}` is now deprecated in favor of "
                                           rf"`nn.init.{name}_`"):
        out = getattr(nn.init, name)(a, *INIT_ARGS.get(name, ()))
    assert out is a and getattr(nn.init, name).__name__ == name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg.manual_seed(5)
        getattr(nn.init, name)(a, *INIT_ARGS.get(name, ()))
    tg.manual_seed(5)
    getattr(nn.init, name + "_")(b, *INIT_ARGS.get(name, ()))
    np.testing.assert_array_equal(host(a), host(b))


def test_init_old_names_are_torchs():
    torch = pytest.importorskip("torch")
    deprecated = {n for n in dir(torch.nn.init) if not n.startswith("_") and
                  hasattr(torch.nn.init, n + "_") and callable(getattr(torch.nn.init, n))}
    assert deprecated == set(OLD_INIT)


def test_clip_grad_norm_alias_and_memory_format_no_ops():
    p = nn.Parameter(tg.tensor([3.0, 4.0]))
    p.grad = tg.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        total = nn.utils.clip_grad_norm([p], max_norm=1.0)
    assert abs(total.item() - 5.0) < 1e-6
    np.testing.assert_allclose(host(p.grad), [0.6, 0.8], rtol=1e-5)
    model = nn.Sequential(nn.Conv2d(1, 1, 1))
    weight = model[0].weight
    assert nn.utils.convert_conv2d_weight_memory_format(model, None) is model
    assert nn.utils.convert_conv3d_weight_memory_format(model, None) is model
    assert model[0].weight is weight


# ---- F.multi_head_attention_forward ---------------------------------------------------------

def _mha_inputs(rng, separate, E=4, L=3, S=5, N=2, kdim=3):
    """float64 leaves: query (L, N, E), key/value (S, N, kdim or E) and the weights."""
    kd = kdim if separate else E
    shapes = {"query": (L, N, E), "key": (S, N, kd), "value": (S, N, kd),
              "in_proj_bias": (3 * E,), "bias_k": (1, 1, E), "bias_v": (1, 1, E),
              "out_proj_weight": (E, E), "out_proj_bias": (E,)}
    if separate:
        shapes.update(q_proj_weight=(E, E), k_proj_weight=(E, kd), v_proj_weight=(E, kd))
    else:
        shapes.update(in_proj_weight=(3 * E, E))
    return {name: leaf64(rng, *shape) for name, shape in shapes.items()}


def _mha_call(mha, t, separate, **kwargs):
    return mha(t["query"], t["key"], t["value"], 4, 2, t.get("in_proj_weight"),
               t["in_proj_bias"], t["bias_k"], t["bias_v"], True, 0.0, t["out_proj_weight"],
               t["out_proj_bias"], use_separate_proj_weight=separate,
               q_proj_weight=t.get("q_proj_weight"), k_proj_weight=t.get("k_proj_weight"),
               v_proj_weight=t.get("v_proj_weight"), **kwargs)


@pytest.mark.parametrize("separate", [False, True])
def test_multi_head_attention_forward_matches_torch(separate):
    rng = np.random.default_rng(4)
    ours = _mha_inputs(rng, separate)
    padding = np.zeros((2, 5), bool)
    padding[0, -1] = True
    mask = rng.standard_normal((3, 5))
    kwargs = {"key_padding_mask": tg.tensor(padding), "attn_mask": tg.tensor(mask),
              "average_attn_weights": False}
    out, weights = _mha_call(F.multi_head_attention_forward, ours, separate, **kwargs)
    assert out.shape == (3, 2, 4) and weights.shape == (2, 2, 3, 7)   # S + bias_k + zero attn
    np.testing.assert_allclose(host(weights).sum(-1), 1.0, rtol=1e-12)
    assert np.all(host(weights)[0, :, :, 4] == 0)                     # the padded key
    torch = pytest.importorskip("torch")
    theirs = {k: torch.tensor(host(v)) for k, v in ours.items()}
    for attn_mask in (mask, mask > 0):              # float (added) and bool (True = blocked)
        out, weights = _mha_call(F.multi_head_attention_forward, ours, separate,
                                 key_padding_mask=tg.tensor(padding),
                                 attn_mask=tg.tensor(attn_mask), average_attn_weights=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")             # torch: mixed mask types are deprecated
            t_out, t_weights = _mha_call(
                torch.nn.functional.multi_head_attention_forward, theirs, separate,
                key_padding_mask=torch.tensor(padding), attn_mask=torch.tensor(attn_mask),
                average_attn_weights=False)
        np.testing.assert_allclose(host(out), t_out.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(host(weights), t_weights.numpy(), rtol=1e-10, atol=1e-12)


def test_multi_head_attention_forward_equals_the_module_and_gradients():
    rng = np.random.default_rng(5)
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, dtype=tg.float64)
    x = leaf64(rng, 3, 4)                                              # unbatched (L, E)
    want, want_w = mha(x, x, x)
    args = (4, 2, mha.in_proj_weight, mha.in_proj_bias, mha.bias_k, mha.bias_v, False, 0.0,
            mha.out_proj.weight, mha.out_proj.bias)
    got, got_w = F.multi_head_attention_forward(x, x, x, *args)
    np.testing.assert_array_equal(host(got), host(want))
    np.testing.assert_array_equal(host(got_w), host(want_w))
    w = leaf64(rng, 12, 4)
    fn = lambda q, w: F.multi_head_attention_forward(  # noqa: E731
        q, q, q, 4, 2, w, None, None, None, True, 0.0, mha.out_proj.weight, None,
        need_weights=False)[0]
    assert gradcheck(fn, (x, w))
    assert gradgradcheck(fn, (x, w))


def test_multi_head_attention_forward_errors_match_torch():
    q, w = tg.randn(3, 2, 4), tg.randn(12, 4)
    common = dict(in_proj_weight=w, in_proj_bias=None, bias_k=None, bias_v=None,
                  add_zero_attn=False, dropout_p=0.0, out_proj_weight=tg.randn(4, 4),
                  out_proj_bias=None)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 5, but got 4"):
        F.multi_head_attention_forward(q, q, q, 5, 2, **common)
    with pytest.raises(AssertionError, match="embed_dim 4 not divisible by num_heads 3"):
        F.multi_head_attention_forward(q, q, q, 4, 3, **common)
    with pytest.raises(NotImplementedError, match="static_k"):
        F.multi_head_attention_forward(q, q, q, 4, 2, static_k=tg.randn(4, 3, 2), **common)

"""swa_utils: AveragedModel (SWA mean, EMA through avg_fn and multi_avg_fn, use_buffers,
state_dict keys), update_bn against a pass of mean/var over the loader, SWALR against closed
forms and PyTorch, and bad arguments."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import lrs, make_optimizer, save_and_resume, torch_optimizer
from tinygen import nn
from tinygen.optim import swa_utils


def make_model(seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()


def snapshots(n=4):
    """n models with different random weights and running stats."""
    models = [make_model(seed) for seed in range(n)]
    for i, model in enumerate(models):
        with tg.no_grad():
            model[1].running_mean.fill_(float(i))
    return models


def values(model):
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def test_default_is_the_equal_weight_mean():
    models = snapshots()
    averaged = swa_utils.AveragedModel(models[0])
    for model in models:
        averaged.update_parameters(model)
    for name, value in values(averaged.module).items():
        np.testing.assert_allclose(value, np.mean([values(m)[name] for m in models], axis=0),
                                   rtol=1e-14)
    assert int(averaged.n_averaged) == 4 and averaged.n_averaged.dtype == tg.int64
    # without use_buffers, the buffers are copied from the last model
    np.testing.assert_array_equal(averaged.module[1].running_mean.numpy(), [3.0] * 4)


@pytest.mark.parametrize("kind", ["avg_fn", "multi_avg_fn"])
def test_ema_matches_a_hand_computation(kind):
    decay = 0.9
    make = swa_utils.get_ema_avg_fn if kind == "avg_fn" else swa_utils.get_ema_multi_avg_fn
    models = snapshots()
    averaged = swa_utils.AveragedModel(models[0], use_buffers=True, **{kind: make(decay)})
    for model in models:
        averaged.update_parameters(model)
    expected = values(models[0])
    for model in models[1:]:
        expected = {k: decay * v + (1 - decay) * values(model)[k] for k, v in expected.items()}
    for name, value in values(averaged.module).items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-13)
    mean = 0.0                                # use_buffers: the running stats are averaged too
    for i in range(1, 4):
        mean = decay * mean + (1 - decay) * i
    np.testing.assert_allclose(averaged.module[1].running_mean.numpy(), [mean] * 4,
                               rtol=1e-13)


def test_swa_avg_fn_and_forward():
    models = snapshots(3)
    averaged = swa_utils.AveragedModel(models[0], avg_fn=swa_utils.get_swa_avg_fn())
    for model in models:
        averaged.update_parameters(model)
    weights = np.mean([values(m)["0.weight"] for m in models], axis=0)
    np.testing.assert_allclose(averaged.module[0].weight.detach().numpy(), weights, rtol=1e-14)
    x = tg.randn(5, 3, dtype=tg.float64)
    averaged.eval()
    np.testing.assert_array_equal(averaged(x).detach().numpy(),
                                  averaged.module(x).detach().numpy())


def test_state_dict_has_pytorch_keys_and_round_trips():
    averaged = swa_utils.AveragedModel(make_model())
    averaged.update_parameters(make_model(1))
    state = averaged.state_dict()
    assert list(state) == ["n_averaged", "module.0.weight", "module.0.bias", "module.1.weight",
                           "module.1.bias", "module.1.running_mean", "module.1.running_var",
                           "module.1.num_batches_tracked"]
    loaded = swa_utils.AveragedModel(make_model(2))
    loaded.load_state_dict(state)
    assert int(loaded.n_averaged) == 1
    np.testing.assert_array_equal(loaded.module[0].weight.detach().numpy(),
                                  make_model(1)[0].weight.detach().numpy())


def test_averaged_model_against_torch():
    torch = pytest.importorskip("torch")
    models = snapshots(3)
    theirs_models = []
    for model in models:
        m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
        m.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
        theirs_models.append(m)
    for maker in (None, lambda mod: mod.get_ema_multi_avg_fn(0.8)):
        kwargs = {} if maker is None else dict(multi_avg_fn=maker(swa_utils))
        their_kwargs = {} if maker is None else dict(
            multi_avg_fn=maker(torch.optim.swa_utils))
        mine = swa_utils.AveragedModel(models[0], use_buffers=True, **kwargs)
        theirs = torch.optim.swa_utils.AveragedModel(theirs_models[0], use_buffers=True,
                                                     **their_kwargs)
        for model, their_model in zip(models, theirs_models):
            mine.update_parameters(model)
            theirs.update_parameters(their_model)
        their_state = theirs.state_dict()
        assert list(mine.state_dict()) == list(their_state)
        for key, value in mine.state_dict().items():
            np.testing.assert_allclose(value.numpy(), their_state[key].numpy(), rtol=1e-14,
                                       err_msg=key)


def test_update_bn_recomputes_the_running_stats():
    model = make_model()
    model.eval()
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((n, 3)) for n in (5, 7, 4)]
    loader = [(tg.tensor(b), tg.zeros(len(b))) for b in batches]       # (input, target) pairs
    swa_utils.update_bn(loader, model)
    assert not model.training and model[1].momentum == 0.1
    hidden = [model[0](tg.tensor(b)).detach().numpy() for b in batches]
    # the cumulative average over batches of each batch's mean and unbiased variance
    mean = np.mean([h.mean(axis=0) for h in hidden], axis=0)
    var = np.mean([h.var(axis=0, ddof=1) for h in hidden], axis=0)
    np.testing.assert_allclose(model[1].running_mean.numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(model[1].running_var.numpy(), var, rtol=1e-12)
    assert int(model[1].num_batches_tracked) == 3
    plain = nn.Linear(3, 2)
    swa_utils.update_bn(loader, plain)        # no BatchNorm: nothing to do, no error


# SWALR

def swalr_closed_form(lr, swa_lr, t, anneal_epochs, strategy):
    x = min(1, t / anneal_epochs)
    alpha = x if strategy == "linear" else (1 - math.cos(math.pi * x)) / 2
    return swa_lr * alpha + lr * (1 - alpha)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_closed_form(strategy):
    scheduler = swa_utils.SWALR(make_optimizer(), swa_lr=0.05, anneal_epochs=5,
                                anneal_strategy=strategy)
    expected = [[swalr_closed_form(base, 0.05, t, 5, strategy) for base in (0.1, 0.02)]
                for t in range(13)]
    np.testing.assert_allclose(lrs(scheduler, 12), expected, rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(swa_lr=0.05, anneal_epochs=4),
                                    dict(swa_lr=[0.05, 0.01], anneal_epochs=3,
                                         anneal_strategy="linear"),
                                    dict(swa_lr=0.03, anneal_epochs=0)])
def test_swalr_against_torch(kwargs):
    torch = pytest.importorskip("torch")
    theirs = torch.optim.swa_utils.SWALR(torch_optimizer(torch), **kwargs)
    mine = swa_utils.SWALR(make_optimizer(), **kwargs)
    np.testing.assert_array_equal(lrs(mine, 12), lrs(theirs, 12))
    assert set(mine.state_dict()) == set(theirs.state_dict())


def test_swalr_state_dict_round_trip_through_save(tmp_path):
    save_and_resume(tmp_path, lambda opt: swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=12,
                                                          anneal_strategy="linear"), lrs,
                    steps_before=4, steps_after=10)


def test_errors():
    with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided"):
        swa_utils.get_ema_avg_fn(1.5)
    with pytest.raises(ValueError, match=r"Invalid decay value -0.1 provided"):
        swa_utils.get_ema_multi_avg_fn(-0.1)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(make_model(), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    opt = make_optimizer()
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        swa_utils.SWALR(opt, 0.05, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        swa_utils.SWALR(opt, 0.05, anneal_epochs=-1)
    with pytest.raises(ValueError, match="swa_lr must have the same length"):
        swa_utils.SWALR(opt, [0.05])

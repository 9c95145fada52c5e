"""Differential tests of tinygen's learning-rate schedules against PyTorch's.

Hypothesis draws a schedule and its arguments; the same schedule over a two-group SGD runs 30
steps in both libraries and get_last_lr() (and the groups' lr and momentum) must agree after
every step. A second test saves the schedule's and optimizer's state_dict mid-run through
tg.save/tg.load, loads them into fresh objects and checks the run goes on as torch's does."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tinygen import optim

torch = pytest.importorskip("torch")

STEPS = 30
LAMBDAS = [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e), lambda e: 0.9 if e % 3 else 1.1]
ints = st.integers


def spec(name, **kwargs):
    return st.fixed_dictionaries(kwargs).map(lambda kw: (name, kw))


SIMPLE = [
    spec("StepLR", step_size=ints(1, 7), gamma=st.sampled_from([0.1, 0.5, 0.9])),
    spec("MultiStepLR", milestones=st.lists(ints(1, 25), max_size=4),
         gamma=st.sampled_from([0.1, 0.5])),
    spec("ExponentialLR", gamma=st.sampled_from([0.8, 0.95, 1.0])),
    spec("CosineAnnealingLR", T_max=ints(1, 20), eta_min=st.sampled_from([0.0, 0.001])),
    spec("LinearLR", start_factor=st.sampled_from([0.1, 0.5, 1.0]),
         end_factor=st.sampled_from([0.0, 0.5, 1.0]), total_iters=ints(1, 20)),
    spec("ConstantLR", factor=st.sampled_from([0.0, 0.25, 0.5, 1.0]), total_iters=ints(0, 20)),
    spec("PolynomialLR", total_iters=ints(1, 25), power=st.sampled_from([0.5, 1.0, 2.0])),
    spec("LambdaLR", lr_lambda=ints(0, len(LAMBDAS) - 1)),
    spec("MultiplicativeLR", lr_lambda=ints(0, len(LAMBDAS) - 1)),
    spec("CosineAnnealingWarmRestarts", T_0=ints(1, 8), T_mult=ints(1, 3),
         eta_min=st.sampled_from([0.0, 0.001])),
    spec("CyclicLR", base_lr=st.sampled_from([0.001, 0.01]), max_lr=st.sampled_from([0.1, 0.3]),
         step_size_up=ints(1, 6), step_size_down=st.sampled_from([None, 2, 5]),
         mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
         gamma=st.sampled_from([1.0, 0.9]), cycle_momentum=st.booleans()),
    spec("OneCycleLR", max_lr=st.sampled_from([0.1, 1.0]), total_steps=ints(31, 40),
         pct_start=st.sampled_from([0.1, 0.3, 0.5]),
         anneal_strategy=st.sampled_from(["cos", "linear"]), three_phase=st.booleans(),
         div_factor=st.sampled_from([10.0, 25.0]), cycle_momentum=st.booleans()),
    spec("OneCycleLR", max_lr=st.sampled_from([0.1, [0.5, 0.05]]), epochs=ints(4, 8),
         steps_per_epoch=ints(8, 10), final_div_factor=st.sampled_from([10.0, 1e4]),
         base_momentum=st.sampled_from([0.8, 0.85]), max_momentum=st.sampled_from([0.9, 0.95])),
    spec("ReduceLROnPlateau", mode=st.sampled_from(["min", "max"]),
         factor=st.sampled_from([0.1, 0.5]), patience=ints(0, 3),
         threshold=st.sampled_from([1e-4, 0.1]), threshold_mode=st.sampled_from(["rel", "abs"]),
         cooldown=ints(0, 2), min_lr=st.sampled_from([0.0, 0.005, [0.05, 0.001]]),
         eps=st.sampled_from([1e-8, 1e-3])),
]
STACKABLE = SIMPLE[:9]       # schedules that ChainedScheduler and SequentialLR may hold
COMPOSITE = [
    st.lists(st.sampled_from(STACKABLE).flatmap(lambda s: s), min_size=1, max_size=3).map(
        lambda parts: ("ChainedScheduler", {"parts": parts})),
    st.lists(st.sampled_from(STACKABLE).flatmap(lambda s: s), min_size=1, max_size=3).flatmap(
        lambda parts: st.lists(ints(1, 25), min_size=len(parts) - 1, max_size=len(parts) - 1,
                               unique=True).map(
            lambda ms: ("SequentialLR", {"parts": parts, "milestones": sorted(ms)}))),
]
SCHEDULES = st.sampled_from(SIMPLE + COMPOSITE).flatmap(lambda s: s)


def make_optimizer(lib, kind="SGD"):
    """Two groups; SGD with momentum, or Adam, whose beta1 the cyclic schedules cycle."""
    zeros = tg.zeros if lib is optim else torch.zeros
    groups = [{"params": [zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)]
    return lib.SGD(groups, momentum=0.9) if kind == "SGD" else lib.Adam(groups)


def make_schedule(lib, opt, schedule):
    name, kwargs = schedule
    if name in ("ChainedScheduler", "SequentialLR"):
        parts = [make_schedule(lib, opt, part) for part in kwargs["parts"]]
        if name == "ChainedScheduler":
            return lib.lr_scheduler.ChainedScheduler(parts, optimizer=opt)
        return lib.lr_scheduler.SequentialLR(opt, parts, milestones=kwargs["milestones"])
    if name in ("LambdaLR", "MultiplicativeLR"):
        kwargs = dict(kwargs, lr_lambda=LAMBDAS[kwargs["lr_lambda"]])
    return getattr(lib.lr_scheduler, name)(opt, **kwargs)


def metrics(seed):
    """ReduceLROnPlateau's metrics: a noisy, mostly flat curve with plateaus to trip it."""
    rng = np.random.default_rng(seed)
    return np.round(rng.standard_normal(STEPS) * 0.3 + 1.0, 1)


def advance(opt, scheduler, metric):
    opt.step()
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        scheduler.step(float(metric))
    else:
        scheduler.step()


def assert_same(mine, theirs, my_opt, their_opt):
    np.testing.assert_allclose(mine.get_last_lr(), theirs.get_last_lr(), rtol=1e-10, atol=1e-15)
    for g, h in zip(my_opt.param_groups, their_opt.param_groups):
        np.testing.assert_allclose(g["lr"], h["lr"], rtol=1e-10, atol=1e-15)
        key = "momentum" if "momentum" in h else "betas"
        np.testing.assert_allclose(g[key], h[key], rtol=1e-10)


def advance_both(my_opt, their_opt, mine, theirs, metric):
    """One step of both; False (after checking tinygen raises the same) where torch raises."""
    try:
        advance(their_opt, theirs, metric)
    except Exception as error:        # ConstantLR(factor=0) divides by it at total_iters
        with pytest.raises(type(error)):
            advance(my_opt, mine, metric)
        return False
    advance(my_opt, mine, metric)
    assert_same(mine, theirs, my_opt, their_opt)
    return True


def start(schedule, kind="SGD"):
    my_opt, their_opt = make_optimizer(optim, kind), make_optimizer(torch.optim, kind)
    mine = make_schedule(optim, my_opt, schedule)
    theirs = make_schedule(torch.optim, their_opt, schedule)
    return my_opt, their_opt, mine, theirs


@settings(max_examples=80, deadline=None, derandomize=True)
@given(schedule=SCHEDULES, seed=ints(0, 2**16), kind=st.sampled_from(["SGD", "Adam"]))
def test_schedule_matches_torch(schedule, seed, kind):
    my_opt, their_opt, mine, theirs = start(schedule, kind)
    assert_same(mine, theirs, my_opt, their_opt)
    for metric in metrics(seed):
        if not advance_both(my_opt, their_opt, mine, theirs, metric):
            return


@settings(max_examples=40, deadline=None, derandomize=True)
@given(schedule=SCHEDULES, seed=ints(0, 2**16),
       split=ints(1, STEPS - 1))
def test_state_dict_round_trip_matches_torch(schedule, seed, split, tmp_path_factory):
    my_opt, their_opt, mine, theirs = start(schedule)
    values = metrics(seed)
    for metric in values[:split]:
        if not advance_both(my_opt, their_opt, mine, theirs, metric):
            return
    path = tmp_path_factory.mktemp("lr") / "sched.safetensors"
    tg.save({"optim": my_opt.state_dict(), "sched": mine.state_dict()}, path)
    loaded = tg.load(path)
    my_opt = make_optimizer(optim)
    mine = make_schedule(optim, my_opt, schedule)
    mine.load_state_dict(loaded["sched"])
    my_opt.load_state_dict(loaded["optim"])
    assert_same(mine, theirs, my_opt, their_opt)
    for metric in values[split:]:
        if not advance_both(my_opt, their_opt, mine, theirs, metric):
            return


INVALID = [
    ("ConstantLR", dict(factor=1.5)),
    ("LinearLR", dict(start_factor=0.0)), ("LinearLR", dict(end_factor=1.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=0)), ("CosineAnnealingWarmRestarts", dict(T_0=2.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=0)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, mode="square")),
    ("OneCycleLR", dict(max_lr=0.1)), ("OneCycleLR", dict(max_lr=0.1, total_steps=0)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, pct_start=1.5)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, anneal_strategy="square")),
    ("ReduceLROnPlateau", dict(factor=1.0)), ("ReduceLROnPlateau", dict(mode="middle")),
    ("ReduceLROnPlateau", dict(threshold_mode="both")),
    ("ReduceLROnPlateau", dict(min_lr=[0.1, 0.1, 0.1])),
    ("LambdaLR", dict(lr_lambda=[LAMBDAS[0]])),
]


@pytest.mark.parametrize("name,kwargs", INVALID)
def test_invalid_arguments_raise_as_torch(name, kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(torch.optim.lr_scheduler, name)(make_optimizer(torch.optim), **kwargs)
    with pytest.raises(type(theirs.value)):
        getattr(optim.lr_scheduler, name)(make_optimizer(optim), **kwargs)


def test_sequential_lr_refuses_a_schedule_of_another_optimizer():
    def build(lib):
        opt = make_optimizer(lib)
        other = lib.lr_scheduler.StepLR(make_optimizer(lib), 2)
        return lib.lr_scheduler.SequentialLR(opt, [other], milestones=[])
    with pytest.raises(Exception) as theirs:
        build(torch.optim)
    with pytest.raises(type(theirs.value)):
        build(optim)

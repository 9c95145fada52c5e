"""Differential tests of tinygen.optim against PyTorch over random configurations.

Hypothesis draws an optimizer's options (per param group), which gradients go missing in which
step, and the gradients' seed; both libraries then take the same 8-12 steps on tiny float64
parameters and must agree on the parameters and the state after every step. Also: state_dict
round trips mid-run through tg.save/tg.load, add_param_group mid-run, zero_grad, invalid
hyperparameters, LBFGS on a quadratic and gradient clipping."""

import copy
import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tinygen import optim
from tinygen.nn.utils import clip_grad_norm_, clip_grad_value_
from tinygen.optim.optimizer import lerp_
from tests.optim.common import assert_same_state_dict

torch = pytest.importorskip("torch")

SHAPES = [(3,), (2, 2), (1,)]          # two params in group 0, one in group 1
FAST = settings(max_examples=20, deadline=None, derandomize=True)

lrs = st.sampled_from([1e-3, 0.01, 0.1, 0.5])
decay = st.sampled_from([0.0, 0.0, 0.01, 0.3])
unit = st.sampled_from([0.0, 0.5, 0.9, 0.99])
beta_pairs = st.tuples(st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.9, 0.99, 0.999]))
eps = st.sampled_from([1e-8, 1e-6, 0.1])


@st.composite
def sgd(draw):
    momentum = draw(unit)
    dampening = draw(st.sampled_from([0.0, 0.0, 0.3]))
    nesterov = momentum > 0 and dampening == 0 and draw(st.booleans())
    return dict(lr=draw(lrs), momentum=momentum, dampening=dampening, nesterov=nesterov,
                weight_decay=draw(decay), maximize=draw(st.booleans()))


def adam(draw, decoupled=False):
    options = dict(lr=draw(lrs), betas=draw(beta_pairs), eps=draw(eps), weight_decay=draw(decay),
                   amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))
    if decoupled:
        options["decoupled_weight_decay"] = draw(st.booleans())
    return options


OPTIONS = {
    "SGD": sgd(),
    "Adam": st.composite(adam)(decoupled=True),
    "AdamW": st.composite(adam)(),
    "RMSprop": st.fixed_dictionaries(dict(
        # alpha=0 with centered takes sqrt(g*g - g*g): torch's fused rounding makes it NaN or not
        lr=lrs, alpha=st.sampled_from([0.5, 0.9, 0.99]), eps=eps, weight_decay=decay,
        momentum=unit, centered=st.booleans(), maximize=st.booleans())),
    "Adadelta": st.fixed_dictionaries(dict(
        lr=st.sampled_from([0.1, 1.0]), rho=unit, eps=eps, weight_decay=decay,
        maximize=st.booleans())),
    "Adagrad": st.fixed_dictionaries(dict(
        lr=lrs, lr_decay=decay, weight_decay=decay, eps=eps, maximize=st.booleans(),
        initial_accumulator_value=st.sampled_from([0.0, 0.1, 1.0]))),
    "Adamax": st.fixed_dictionaries(dict(
        lr=lrs, betas=beta_pairs, eps=eps, weight_decay=decay, maximize=st.booleans())),
    "NAdam": st.fixed_dictionaries(dict(
        lr=lrs, betas=beta_pairs, eps=eps, weight_decay=decay, maximize=st.booleans(),
        momentum_decay=st.sampled_from([0.0, 0.004, 0.1]),
        decoupled_weight_decay=st.booleans())),
    "RAdam": st.fixed_dictionaries(dict(
        lr=lrs, betas=beta_pairs, eps=eps, weight_decay=decay, maximize=st.booleans(),
        decoupled_weight_decay=st.booleans())),
    "Rprop": st.fixed_dictionaries(dict(
        lr=lrs, etas=st.tuples(st.sampled_from([0.3, 0.5]), st.sampled_from([1.1, 1.2, 2.0])),
        step_sizes=st.tuples(st.sampled_from([1e-6, 1e-3]), st.sampled_from([0.05, 1.0, 50.0])),
        maximize=st.booleans())),
    "ASGD": st.fixed_dictionaries(dict(
        lr=lrs, lambd=st.sampled_from([1e-4, 0.1]), alpha=st.sampled_from([0.5, 0.75, 1.0]),
        t0=st.sampled_from([0.0, 3.0, 1e6]), weight_decay=decay, maximize=st.booleans())),
    "Adafactor": st.fixed_dictionaries(dict(
        lr=lrs, beta2_decay=st.sampled_from([-0.8, -0.5]),
        eps=st.tuples(st.sampled_from([None, 1e-3]), st.sampled_from([1e-3, 0.1])),
        d=st.sampled_from([1.0, 1.5, 2.0]), weight_decay=decay, maximize=st.booleans())),
}


def pair_params(seed):
    """The same parameters in tinygen and in torch."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in SHAPES]
    return ([tg.tensor(v, requires_grad=True) for v in values],
            [torch.tensor(v, requires_grad=True) for v in values])


def groups(params, first, second):
    return [{"params": params[:2], **first}, {"params": params[2:], **second}]


def set_grads(mine, theirs, rng, missing, keep=False):
    """Give each parameter the same random gradient, or None where ``missing`` says so (with
    ``keep``, the gradient it has: None or zeros, after zero_grad)."""
    for i, (p, q) in enumerate(zip(mine, theirs)):
        if i in missing:
            if not keep:
                p.grad, q.grad = None, None
        else:
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = tg.tensor(g), torch.tensor(g)


def assert_same_params(mine, theirs):
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def run_both(name, first, second, steps, seed, missing):
    """Step both optimizers ``steps`` times, checking parameters and state after each step."""
    mine, theirs = pair_params(seed)
    my_opt = getattr(optim, name)(groups(mine, first, second))
    their_opt = getattr(torch.optim, name)(groups(theirs, first, second))
    rng = np.random.default_rng(seed + 1)
    for step in range(steps):
        set_grads(mine, theirs, rng, missing[step % len(missing)])
        my_opt.step()
        their_opt.step()
        assert_same_params(mine, theirs)
        assert_same_state_dict(my_opt, their_opt)
    return my_opt, their_opt, mine, theirs


missing_sets = st.lists(st.sets(st.integers(0, 2), max_size=2), min_size=1, max_size=4)


@pytest.mark.parametrize("name", sorted(OPTIONS))
@FAST
@given(data=st.data(), steps=st.integers(8, 12), seed=st.integers(0, 2**16),
       missing=missing_sets)
def test_optimizer_matches_torch(name, data, steps, seed, missing):
    first, second = data.draw(OPTIONS[name]), data.draw(OPTIONS[name])
    run_both(name, first, second, steps, seed, missing)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "ASGD", "Adafactor"])
@settings(max_examples=4, deadline=None, derandomize=True)
@given(data=st.data(), seed=st.integers(0, 2**16), set_to_none=st.booleans())
def test_add_param_group_and_zero_grad_mid_run(name, data, seed, set_to_none):
    first, second = data.draw(OPTIONS[name]), data.draw(OPTIONS[name])
    mine, theirs = pair_params(seed)
    my_opt = getattr(optim, name)(mine[:2], **first)
    their_opt = getattr(torch.optim, name)(theirs[:2], **first)
    rng = np.random.default_rng(seed)
    for p, q in zip(mine, theirs):
        p.grad, q.grad = None, None
    for step in range(8):
        if step == 3:
            my_opt.add_param_group({"params": mine[2:], **second})
            their_opt.add_param_group({"params": theirs[2:], **second})
        set_grads(mine, theirs, rng, {0, 2} if step < 3 else {step % 3}, keep=True)
        my_opt.step()
        their_opt.step()
        my_opt.zero_grad(set_to_none=set_to_none)
        their_opt.zero_grad(set_to_none=set_to_none)
        for p, q in zip(mine, theirs):
            assert (p.grad is None) == (q.grad is None)
            if q.grad is not None:
                np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
        assert_same_params(mine, theirs)
        assert_same_state_dict(my_opt, their_opt)


@pytest.mark.parametrize("name", sorted(OPTIONS))
@settings(max_examples=3, deadline=None, derandomize=True)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_state_dict_round_trip_mid_run(name, data, seed, tmp_path_factory):
    """Save after 4 steps, load into a fresh optimizer: the next 4 steps are identical."""
    first, second = data.draw(OPTIONS[name]), data.draw(OPTIONS[name])
    my_opt, their_opt, mine, theirs = run_both(name, first, second, 4, seed, [{2}, set()])
    their_state = copy.deepcopy(their_opt.state_dict())
    path = tmp_path_factory.mktemp("optim") / "opt.safetensors"
    tg.save({"params": [p.detach() for p in mine], "optim": my_opt.state_dict()}, path)
    loaded = tg.load(path)
    resumed = [tg.tensor(p.numpy(), requires_grad=True) for p in loaded["params"]]
    resumed_opt = getattr(optim, name)(groups(resumed, first, second))
    resumed_opt.load_state_dict(loaded["optim"])
    their_opt = getattr(torch.optim, name)(groups(theirs, first, second))   # resumed as well:
    their_opt.load_state_dict(their_state)           # loading casts state to the params' dtype
    rng = np.random.default_rng(seed)
    for _ in range(4):
        g = [rng.standard_normal(s) for s in SHAPES]
        for params in (mine, resumed):
            for p, gi in zip(params, g):
                p.grad = tg.tensor(gi)
        for i, q in enumerate(theirs):
            q.grad = torch.tensor(g[i])
        my_opt.step()
        resumed_opt.step()
        their_opt.step()
        # loading casts float32 scalars (NAdam's mu_product) to float64 in both libraries,
        # so the resumed run is compared with torch's resumed run, not with the first one
        assert_same_params(resumed, theirs)
        assert_same_state_dict(resumed_opt, their_opt)


INVALID = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(weight_decay=-1.0)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1.0)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-0.1)),
    ("AdamW", dict(betas=(-0.1, 0.9))), ("AdamW", dict(weight_decay=-0.1)),
    ("RMSprop", dict(alpha=-0.1)), ("RMSprop", dict(momentum=-0.1)), ("RMSprop", dict(eps=-1.0)),
    ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(lr=-1.0)), ("Adadelta", dict(eps=-1.0)),
    ("Adagrad", dict(lr_decay=-0.1)), ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("Adamax", dict(betas=(0.9, 1.0))), ("Adamax", dict(eps=-1.0)),
    ("NAdam", dict(momentum_decay=-0.1)), ("NAdam", dict(betas=(1.0, 0.9))),
    ("RAdam", dict(betas=(0.9, 1.0))), ("RAdam", dict(weight_decay=-1.0)),
    ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))), ("Rprop", dict(lr=-1.0)),
    ("ASGD", dict(lr=-1.0)), ("ASGD", dict(weight_decay=-1.0)),
    ("Adafactor", dict(lr=-1.0)), ("Adafactor", dict(beta2_decay=0.5)),
    ("Adafactor", dict(eps=(-1.0, 1e-3))), ("Adafactor", dict(d=-1.0)),
    ("Adafactor", dict(weight_decay=-1.0)),
    ("LBFGS", dict(lr=-1.0)),
]


@pytest.mark.parametrize("name,options", INVALID)
def test_invalid_hyperparameters_raise_as_torch(name, options):
    with pytest.raises(Exception) as theirs:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **options)
    with pytest.raises(type(theirs.value)):
        getattr(optim, name)([tg.zeros(1, requires_grad=True)], **options)


def lbfgs_resumed(mine, theirs, x, y, options, tmp_path_factory):
    """Fresh LBFGS pairs loaded from the two state_dicts (tinygen's through tg.save)."""
    path = tmp_path_factory.mktemp("lbfgs") / "lbfgs.safetensors"
    tg.save({"x": x.detach(), "optim": mine.state_dict()}, path)
    loaded = tg.load(path)
    x = tg.tensor(loaded["x"].numpy(), requires_grad=True)
    y2 = torch.tensor(y.detach().numpy(), requires_grad=True)
    mine2, theirs2 = optim.LBFGS([x], **options), torch.optim.LBFGS([y2], **options)
    mine2.load_state_dict(loaded["optim"])
    theirs2.load_state_dict(copy.deepcopy(theirs.state_dict()))
    return mine2, theirs2, x, y2


def bad_values(default):
    """Out-of-range values for an option whose default is ``default``."""
    if isinstance(default, bool):
        return []
    if isinstance(default, (int, float)):
        return [-1.0, -1, 0.0, 1.5]
    if isinstance(default, tuple):
        a, b = default
        return [(-1.0, b), (a, -1.0), (1.5, b), (a, 1.5), (0.0, b)]
    return [-1] if default is None else []


@pytest.mark.parametrize("name", sorted(OPTIONS) + ["LBFGS"])
def test_every_option_out_of_range_raises_as_torch(name):
    """Each numeric option set to -1, 0 or 1.5 (one at a time): tinygen raises exactly where
    torch raises, with the same error type. (A one-element ``betas``, where torch fails with
    an incidental IndexError, is left out: tinygen says ValueError, naming the pair.)"""
    signature = inspect.signature(getattr(torch.optim, name).__init__)
    skip = {"self", "params", "foreach", "fused", "capturable", "differentiable"}
    for key, parameter in signature.parameters.items():
        for bad in bad_values(parameter.default) if key not in skip else []:
            try:
                getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **{key: bad})
            except Exception as error:
                with pytest.raises(type(error)):
                    getattr(optim, name)([tg.zeros(1, requires_grad=True)], **{key: bad})
            else:
                getattr(optim, name)([tg.zeros(1, requires_grad=True)], **{key: bad})


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@settings(max_examples=6, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), lr=st.sampled_from([0.1, 0.5, 1.0]),
       max_iter=st.integers(1, 6), history=st.integers(1, 5),
       max_eval=st.sampled_from([None, 2, 10]), tolerance=st.sampled_from([1e-7, 1e-2]))
def test_lbfgs_on_a_quadratic(line_search, seed, lr, max_iter, history, max_eval, tolerance,
                              tmp_path_factory):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((3, 3))
    A, b, x0 = a @ a.T + np.eye(3), rng.standard_normal(3), rng.standard_normal(3)
    options = dict(lr=lr, max_iter=max_iter, history_size=history, line_search_fn=line_search,
                   max_eval=max_eval, tolerance_grad=tolerance, tolerance_change=tolerance / 10)
    x, y = tg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    mine, theirs = optim.LBFGS([x], **options), torch.optim.LBFGS([y], **options)

    def closure(lib, opt, v, A, b):
        def run():
            opt.zero_grad()
            loss = 0.5 * (v * (lib.tensor(A) @ v)).sum() - (lib.tensor(b) * v).sum()
            loss.backward()
            return loss
        return run

    for step in range(8):
        if step == 4:                                     # resume both from a state_dict
            mine, theirs, x, y = lbfgs_resumed(mine, theirs, x, y, options, tmp_path_factory)
        l1 = mine.step(closure(tg, mine, x, A, b))
        l2 = theirs.step(closure(torch, theirs, y, A, b))
        np.testing.assert_allclose(float(l1), float(l2.detach()), rtol=1e-10)
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        s1, s2 = mine.state_dict()["state"][0], theirs.state_dict()["state"][0]
        assert s1["func_evals"] == s2["func_evals"] and s1["n_iter"] == s2["n_iter"]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), norm_type=st.sampled_from([1.0, 2.0, 3.0, 0.5, math.inf]),
       max_norm=st.sampled_from([0.1, 1.0, 100.0]), foreach=st.sampled_from([None, True, False]),
       missing=st.booleans())
def test_clip_grad_norm_matches_torch(seed, norm_type, max_norm, foreach, missing):
    mine, theirs = pair_params(seed)
    set_grads(mine, theirs, np.random.default_rng(seed), {1} if missing else set())
    n1 = clip_grad_norm_(mine, max_norm, norm_type=norm_type, foreach=foreach)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type, foreach=foreach)
    np.testing.assert_allclose(n1.numpy(), n2.numpy(), rtol=1e-10)
    assert n1.dtype == tg.float64 and n1.shape == ()
    for p, q in zip(mine, theirs):
        if q.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_nonfinite(bad, norm_type):
    mine, theirs = pair_params(0)
    set_grads(mine, theirs, np.random.default_rng(0), set())
    g = theirs[0].grad.numpy().copy()
    g[0] = bad
    mine[0].grad, theirs[0].grad = tg.tensor(g), torch.tensor(g)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(mine, 1.0, norm_type, error_if_nonfinite=True)
    with np.errstate(invalid="ignore"):                 # inf * 0 = nan, quietly as torch
        n1 = clip_grad_norm_(mine, 1.0, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    np.testing.assert_array_equal(n1.numpy(), n2.numpy())
    for p, q in zip(mine, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), clip=st.sampled_from([0.0, 0.1, 1.0, 5.0]),
       foreach=st.sampled_from([None, False]))
def test_clip_grad_value_matches_torch(seed, clip, foreach):
    mine, theirs = pair_params(seed)
    set_grads(mine, theirs, np.random.default_rng(seed), {2})
    clip_grad_value_(mine, clip, foreach=foreach)
    torch.nn.utils.clip_grad_value_(theirs, clip, foreach=foreach)
    for p, q in zip(mine, theirs):
        assert (p.grad is None) == (q.grad is None)
        if q.grad is not None:
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_norm_without_gradients_and_of_one_tensor():
    mine, theirs = pair_params(0)
    n1, n2 = clip_grad_norm_(mine, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert float(n1) == float(n2) == 0.0 and n1.dtype == tg.float32
    set_grads(mine, theirs, np.random.default_rng(0), set())
    n1 = clip_grad_norm_(mine[1], 0.5, norm_type=3)
    n2 = torch.nn.utils.clip_grad_norm_(theirs[1], 0.5, norm_type=3)
    np.testing.assert_allclose(n1.numpy(), n2.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine[1].grad.numpy(), theirs[1].grad.numpy(), rtol=1e-12)


# Regressions: the mismatches these tests found, as plain cases.

def test_sgd_without_momentum_keeps_no_state():
    """tinygen listed an empty state {} for every stepped parameter; torch lists none."""
    run_both("SGD", dict(lr=0.1), dict(lr=0.2, weight_decay=0.1), 2, 0, [set()])
    mine, _ = pair_params(0)
    opt = optim.SGD(mine, lr=0.1)
    mine[0].grad = tg.ones(3, dtype=tg.float64)
    opt.step()
    assert opt.state_dict()["state"] == {} and len(opt.state) == 0


def test_rmsprop_centered_average_is_lerp_rounded_as_torch():
    """grad_avg moves by torch's lerp_ (from the end point when the weight is >= 0.5): with
    alpha=0.25 tinygen's ``avg += w * (g - avg)`` drifted by an ulp per step."""
    options = dict(lr=0.01, alpha=0.25, centered=True, momentum=0.5)
    run_both("RMSprop", options, options, 12, 3, [set()])
    avg = np.array([1.3040000451301372, 0.9470809631292422, -0.7037352358069926])
    g = np.array([-1.2654214710460525, -0.6232744625373522, 0.0413259793472436])
    expected = torch.tensor(avg).lerp_(torch.tensor(g), 0.75).numpy()
    assert not np.array_equal(avg + 0.75 * (g - avg), expected)     # the old rounding
    lerp_(avg, g, 0.75)
    np.testing.assert_array_equal(avg, expected)

"""tg.Generator: seeding, state round trips, and the generator= argument of every random
function and method, which must draw from the given generator and leave the default alone."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn

SEED_OF_A_NEW_GENERATOR = 67280421310721              # PyTorch's


def test_a_new_generator_has_pytorchs_seed_and_device():
    g = tg.Generator()
    assert g.initial_seed() == SEED_OF_A_NEW_GENERATOR
    assert g.device == tg.device("cpu") and g.device == "cpu"
    assert tg.rand(4, generator=g).tolist() == tg.rand(4, generator=tg.Generator()).tolist()


def test_manual_seed_returns_the_generator_and_repeats_draws():
    g = tg.Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    first = tg.randn(6, generator=g).tolist()
    assert tg.randn(6, generator=g).tolist() != first
    assert tg.randn(6, generator=g.manual_seed(5)).tolist() == first


def test_seeds_wrap_like_pytorchs_and_out_of_range_ones_are_refused():
    assert tg.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1
    for bad in (2 ** 64, -2 ** 63 - 1):
        with pytest.raises(ValueError, match="64 bits"):
            tg.Generator().manual_seed(bad)


def test_seed_picks_a_fresh_seed_and_reports_it():
    g = tg.Generator()
    seed = g.seed()
    assert isinstance(seed, int) and 0 <= seed < 2 ** 64 and g.initial_seed() == seed
    assert g.seed() != seed


def test_state_round_trips_as_a_uint8_tensor():
    g = tg.Generator().manual_seed(11)
    tg.rand(3, generator=g)
    state = g.get_state()
    assert isinstance(state, tg.Tensor) and state.dtype == tg.uint8 and state.ndim == 1
    first = tg.rand(5, generator=g).tolist()
    other = tg.Generator().manual_seed(99)
    assert other.set_state(state) is other
    assert tg.rand(5, generator=other).tolist() == first and other.initial_seed() == 11
    g.set_state(state)
    assert tg.rand(5, generator=g).tolist() == first


def test_state_survives_a_half_used_64_bit_word():
    """A 32-bit draw (float32) leaves half a 64-bit word behind: the state keeps it."""
    g = tg.Generator().manual_seed(3)
    tg.randint(0, 2 ** 31, (1,), dtype=tg.int32, generator=g)
    tg.rand(1, generator=g)
    state = g.get_state()
    first = tg.rand(3, generator=g).tolist()
    assert tg.rand(3, generator=tg.Generator().set_state(state)).tolist() == first


@pytest.mark.parametrize("bad", [tg.zeros(45), tg.zeros(3, dtype=tg.uint8), np.zeros(45, "u1")],
                         ids=["float", "short", "ndarray"])
def test_set_state_refuses_what_get_state_did_not_make(bad):
    with pytest.raises(RuntimeError, match="uint8 tensor"):
        tg.Generator().set_state(bad)


def test_a_generator_does_not_touch_the_default_one():
    tg.manual_seed(0)
    expected = tg.rand(4).tolist()
    tg.manual_seed(0)
    g = tg.Generator().manual_seed(0)
    tg.randn(10, generator=g)
    tg.empty(3).uniform_(generator=g)
    assert tg.rand(4).tolist() == expected


def test_default_generator_is_what_tg_manual_seed_seeds():
    tg.manual_seed(21)
    assert tg.default_generator.initial_seed() == 21
    expected = tg.rand(3).tolist()
    tg.default_generator.manual_seed(21)
    assert tg.rand(3).tolist() == expected
    assert tg.rand(3, generator=tg.default_generator.manual_seed(21)).tolist() == expected


# Every function and method that takes generator=: the same seed gives the same draws.

DRAWS = {
    "rand": lambda g: tg.rand(2, 3, generator=g),
    "randn": lambda g: tg.randn(4, generator=g),
    "randint": lambda g: tg.randint(0, 1000, (5,), generator=g),
    "randperm": lambda g: tg.randperm(8, generator=g),
    "rand_like": lambda g: tg.rand_like(tg.zeros(3), generator=g),
    "randn_like": lambda g: tg.randn_like(tg.zeros(3), generator=g),
    "multinomial": lambda g: tg.multinomial(tg.tensor([0.2, 0.3, 0.5]), 6, True, generator=g),
    "bernoulli": lambda g: tg.bernoulli(tg.full((8,), 0.5), generator=g),
    "normal": lambda g: tg.normal(tg.zeros(4), 1.0, generator=g),
    "normal_size": lambda g: tg.normal(0.0, 1.0, (4,), generator=g),
    "poisson": lambda g: tg.poisson(tg.full((6,), 4.0), generator=g),
    "uniform_": lambda g: tg.empty(4).uniform_(-1, 1, generator=g),
    "normal_": lambda g: tg.empty(4).normal_(generator=g),
    "bernoulli_": lambda g: tg.empty(8).bernoulli_(0.5, generator=g),
    "random_": lambda g: tg.empty(4).random_(generator=g),
    "exponential_": lambda g: tg.empty(4).exponential_(generator=g),
    "log_normal_": lambda g: tg.empty(4).log_normal_(generator=g),
    "cauchy_": lambda g: tg.empty(4).cauchy_(generator=g),
    "geometric_": lambda g: tg.empty(4).geometric_(0.3, generator=g),
    "init.uniform_": lambda g: nn.init.uniform_(tg.empty(4), generator=g),
    "init.normal_": lambda g: nn.init.normal_(tg.empty(4), generator=g),
    "init.trunc_normal_": lambda g: nn.init.trunc_normal_(tg.empty(4), generator=g),
    "init.kaiming_uniform_": lambda g: nn.init.kaiming_uniform_(tg.empty(3, 4), generator=g),
    "init.kaiming_normal_": lambda g: nn.init.kaiming_normal_(tg.empty(3, 4), generator=g),
    "init.xavier_uniform_": lambda g: nn.init.xavier_uniform_(tg.empty(3, 4), generator=g),
    "init.xavier_normal_": lambda g: nn.init.xavier_normal_(tg.empty(3, 4), generator=g),
    "init.orthogonal_": lambda g: nn.init.orthogonal_(tg.empty(3, 4), generator=g),
    "init.sparse_": lambda g: nn.init.sparse_(tg.empty(4, 3), 0.5, generator=g),
}


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_generator_argument_repeats_and_leaves_the_default_alone(draw):
    tg.manual_seed(0)
    expected_default = tg.rand(3).tolist()
    tg.manual_seed(0)
    first = draw(tg.Generator().manual_seed(8)).tolist()
    assert draw(tg.Generator().manual_seed(8)).tolist() == first
    assert draw(tg.Generator().manual_seed(9)).tolist() != first
    assert tg.rand(3).tolist() == expected_default


def test_pytorch_names_the_same_generator_arguments():
    torch = pytest.importorskip("torch")
    import inspect
    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_",
                 "xavier_uniform_", "xavier_normal_", "orthogonal_", "sparse_"):
        ours = inspect.signature(getattr(nn.init, name)).parameters
        theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
        assert list(ours) == list(theirs), name
    for name in ("random_", "exponential_", "log_normal_", "cauchy_", "geometric_"):
        assert hasattr(tg.Tensor, name) and hasattr(torch.Tensor, name)


def test_a_cuda_generator_cannot_draw_for_the_cpu():
    g = tg.Generator("cuda")                   # made without a GPU: it draws nothing
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator"):
        tg.rand(2, generator=g)


def test_cuda_generator(device):
    if device != "cuda":
        pytest.skip("needs CuPy and a CUDA GPU")
    g = tg.Generator("cuda").manual_seed(4)
    assert g.device == "cuda:0"
    first = tg.rand(5, device="cuda", generator=g).tolist()
    assert tg.rand(5, device="cuda", generator=g.manual_seed(4)).tolist() == first
    assert tg.poisson(tg.full((3,), 2.0, device="cuda"), generator=g).device == "cuda:0"
    with pytest.raises(RuntimeError, match="cannot save their state"):
        g.get_state()
    with pytest.raises(RuntimeError, match="device type for generator"):
        tg.rand(2, generator=g)


def test_numpy_generators_still_work():
    first = tg.randint(0, 100, (4,), generator=np.random.default_rng(3)).tolist()
    assert tg.randint(0, 100, (4,), generator=np.random.default_rng(3)).tolist() == first
    assert tg.rand(3, generator=np.random.default_rng(3)).shape == (3,)

"""tg.seed, tg.initial_seed, tg.get_rng_state/set_rng_state, the tg.random module and
tg.cuda.manual_seed(_all), as PyTorch's."""

import pytest

import tinygen as tg


def test_rng_state_is_a_uint8_tensor_that_restores_the_draws():
    tg.manual_seed(4)
    tg.randn(3)
    state = tg.get_rng_state()
    assert isinstance(state, tg.Tensor) and state.dtype == tg.uint8
    first = tg.rand(6).tolist()
    tg.manual_seed(123)
    tg.set_rng_state(state)
    assert tg.rand(6).tolist() == first and tg.initial_seed() == 4


def test_rng_state_matches_the_default_generators():
    tg.manual_seed(2)
    assert tg.get_rng_state().tolist() == tg.default_generator.get_state().tolist()


def test_backend_dict_state_and_tensor_state_restore_the_same_stream():
    """Checkpoints keep the dict form (tg.backend.get_rng_state); both must agree."""
    tg.manual_seed(6)
    as_dict, as_tensor = tg.backend.get_rng_state("cpu"), tg.get_rng_state()
    first = tg.randn(4).tolist()
    tg.backend.set_rng_state(as_dict, "cpu")
    assert tg.randn(4).tolist() == first
    tg.set_rng_state(as_tensor)
    assert tg.randn(4).tolist() == first


def test_seed_reseeds_every_device_nondeterministically():
    seed = tg.seed()
    assert isinstance(seed, int) and 0 <= seed < 2 ** 64 and tg.initial_seed() == seed
    first = tg.rand(3).tolist()
    tg.manual_seed(seed)
    assert tg.rand(3).tolist() == first
    assert tg.seed() != seed


def test_initial_seed_is_an_int_before_any_manual_seed():
    assert isinstance(tg.initial_seed(), int)


def test_random_module_is_pytorchs_torch_random():
    assert tg.random.manual_seed(9) is tg.default_generator and tg.random.initial_seed() == 9
    assert tg.random.default_generator is tg.default_generator
    assert tg.random.Generator is tg.Generator
    state = tg.random.get_rng_state()
    first = tg.rand(2).tolist()
    tg.random.set_rng_state(state)
    assert tg.rand(2).tolist() == first
    assert isinstance(tg.random.seed(), int)


def test_the_random_module_has_pytorchs_names():
    torch = pytest.importorskip("torch")
    for name in ("Generator", "default_generator", "get_rng_state", "initial_seed",
                 "manual_seed", "seed", "set_rng_state"):
        assert hasattr(torch.random, name) and hasattr(tg.random, name), name


def test_manual_seed_accepts_pytorchs_range():
    tg.manual_seed(-1)
    assert tg.initial_seed() == 2 ** 64 - 1
    with pytest.raises(ValueError, match="64 bits"):
        tg.manual_seed(2 ** 64)
    tg.manual_seed(0)


def test_cuda_manual_seed_without_a_gpu_is_a_no_op_as_in_pytorch():
    if tg.cuda.is_available():
        pytest.skip("runs without a GPU")
    tg.manual_seed(1)
    tg.cuda.manual_seed(5)
    tg.cuda.manual_seed_all(5)
    assert tg.initial_seed() == 1                      # the CPU's generator is untouched
    with pytest.raises(ValueError, match="64 bits"):
        tg.cuda.manual_seed(2 ** 64)


def test_cuda_manual_seed_repeats_gpu_draws(device):
    if device != "cuda":
        pytest.skip("needs CuPy and a CUDA GPU")
    tg.manual_seed(1)
    cpu_first = tg.rand(3).tolist()
    tg.manual_seed(1)
    tg.cuda.manual_seed(7)
    first = tg.rand(4, device="cuda").tolist()
    tg.cuda.manual_seed_all(7)
    assert tg.rand(4, device="cuda").tolist() == first
    assert tg.rand(3).tolist() == cpu_first            # the CPU's generator is untouched

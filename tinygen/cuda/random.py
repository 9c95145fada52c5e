"""Seeding the GPUs' default generators, as ``torch.cuda``'s random calls.

Each GPU's default generator is a CuPy generator made from its seed (see backend.RandomStream).
CuPy's generators cannot export or load their state, so ``get_rng_state`` and ``set_rng_state``
raise on a GPU: a CUDA run repeats from ``manual_seed`` instead. Without a GPU the calls behave
as PyTorch's CPU build: seeding does nothing, the ``_all`` forms see no GPUs, and the calls that
need the current GPU raise ``CudaUnavailableError``.
"""

from tinygen import backend
from tinygen.cuda.devices import device_count, is_available
from tinygen.cuda.lazy import lazy_init, resolve


def _stream(device=None):
    """The RandomStream behind the default generator of a GPU (the current one by default)."""
    cupy = lazy_init("the CUDA random generator")
    return backend.default_stream(f"cuda:{resolve(cupy, device)}")


def manual_seed(seed):
    """Seed the current GPU's default generator (with no GPU there is none, and nothing
    happens, as in PyTorch); ``tg.manual_seed`` seeds every device's."""
    seed = backend.as_seed(seed)
    if is_available():
        _stream().reseed(seed)


def manual_seed_all(seed):
    """Seed the default generator of every GPU."""
    seed = backend.as_seed(seed)
    for index in range(device_count()):
        backend.default_stream(f"cuda:{index}").reseed(seed)


def seed():
    """Seed the current GPU's generator with a non-deterministic number (nothing without one)."""
    if is_available():
        _stream().reseed(backend.random_seed())


def seed_all():
    """Seed every GPU's generator with one non-deterministic number."""
    if is_available():
        manual_seed_all(backend.random_seed())


def initial_seed():
    """The seed the current GPU's default generator last started from."""
    return _stream().seed


def _no_state(verb):
    return RuntimeError(f"CuPy random generators cannot {verb} their state; reseed with "
                        f"tg.cuda.manual_seed() (or tg.manual_seed()) to repeat a CUDA run")


def get_rng_state(device="cuda"):
    """Raises: CuPy's generators cannot save their state (see the module notes)."""
    _stream(device)
    raise _no_state("save")


def get_rng_state_all():
    """One state per GPU: [] without a GPU, else raises as ``get_rng_state``."""
    return [get_rng_state(index) for index in range(device_count())]


def set_rng_state(new_state, device="cuda"):
    """Nothing to do without a GPU (as PyTorch's CPU build); raises on one, since CuPy's
    generators cannot load a state."""
    if is_available():
        _stream(device)
        raise _no_state("load")


def set_rng_state_all(new_states):
    """``set_rng_state`` for each GPU in turn."""
    for index, state in enumerate(new_states):
        set_rng_state(state, index)

"""``tg.random``, as ``torch.random``: seeding all devices and saving the CPU generator's state.

``tg.manual_seed(s)`` returns ``tg.default_generator``, as PyTorch's. The states are
``tg.default_generator``'s uint8 tensors (see generator.py); ``tg.backend.get_rng_state``
gives the same state as a dict, for checkpoints.
"""

from tinygen import backend
from tinygen.backend import initial_seed
from tinygen.generator import Generator, default_generator

__all__ = ["Generator", "default_generator", "get_rng_state", "initial_seed", "manual_seed",
           "seed", "set_rng_state"]


def manual_seed(seed):
    """Seed every device's generator, so initialisation, dropout and random tensors repeat;
    returns ``default_generator``."""
    backend.manual_seed(seed)
    return default_generator


def seed():
    """Seed every device's generator with a non-deterministic number, and return it."""
    value = backend.random_seed()
    backend.manual_seed(value)
    return value


def get_rng_state():
    """The CPU default generator's state, a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Continue the CPU default generator from a state ``get_rng_state`` returned."""
    default_generator.set_state(new_state)

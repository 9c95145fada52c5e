"""Small helpers shared by the test files (fixtures live in conftest.py)."""

import tinygen as tg


def host(t):
    """A tensor's values as a NumPy array, wherever it lives."""
    return t.detach().cpu().numpy()


def leaf64(rng, *shape, device="cpu"):
    """A float64 leaf of standard-normal values that requires grad: a gradcheck input."""
    return tg.tensor(rng.standard_normal(shape), dtype=tg.float64, device=device,
                     requires_grad=True)

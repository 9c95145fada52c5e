"""Small helpers shared by the test files (fixtures live in conftest.py)."""

import importlib.util
from pathlib import Path

import tinygen as tg

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def shares_memory(a, b):
    """Whether two arrays (NumPy or CuPy) share memory."""
    return bool(tg.backend.get_array_module(a).shares_memory(a, b))


def host(t):
    """A tensor's values as a NumPy array, wherever it lives."""
    return t.detach().cpu().numpy()


def leaf64(rng, *shape, device="cpu"):
    """A float64 leaf of standard-normal values that requires grad: a gradcheck input."""
    return tg.tensor(rng.standard_normal(shape), dtype=tg.float64, device=device,
                     requires_grad=True)


def benchmark_script(name):
    """``benchmarks/<name>.py`` imported as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

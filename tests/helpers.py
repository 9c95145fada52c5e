"""Small helpers shared by the test files (fixtures live in conftest.py)."""

import importlib.util
from pathlib import Path

import numpy as np

import tinygen as tg
import tinygen.nn.functional as F

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


def check_functional_against_torch(torch, rng, name, inputs, targets=(), **kwargs):
    """``F.<name>`` against ``torch.nn.functional.<name>``, called on the float64 arrays
    ``inputs`` (which get gradients), then ``targets`` (which do not), then ``kwargs``: the
    outputs, and the inputs' gradients under a random grad_output, must agree."""
    ours = [tg.tensor(v, requires_grad=True) for v in inputs]
    theirs = [torch.tensor(v, requires_grad=True) for v in inputs]
    y = getattr(F, name)(*ours, *(tg.tensor(t) for t in targets), **kwargs)
    ty = getattr(torch.nn.functional, name)(*theirs, *(torch.tensor(t) for t in targets),
                                            **kwargs)
    g = rng.standard_normal(y.shape)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12,
                               err_msg=name)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(host(o.grad), t.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def benchmark_script(name):
    """``benchmarks/<name>.py`` imported as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""``vmap``, as torch.func.vmap, by a loop: call the function on each slice of the mapped
dimension and stack the results.

PyTorch batches each op instead (BatchedTensor); the loop gives the same values at the cost of
one call per sample, and composes with every other transform because it is plain Python
(``vmap(grad(f))`` is per-sample gradients). Errors follow PyTorch's messages.
"""

import numpy as np

from tinygen import random as _random
from tinygen.func._pytree import broadcast_to_and_flatten, tree_flatten, tree_unflatten
from tinygen.ops.shape import stack
from tinygen.tensor import Tensor

_RANDOMNESS = ("error", "different", "same")


def _name(func):
    return getattr(func, "__name__", repr(func))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over dimension ``in_dims`` of its inputs (an int, or a tree matching
    the arguments with None for unmapped ones); outputs get the mapped dimension at
    ``out_dims``. ``randomness``: 'error' raises if ``func`` draws random numbers (seen on the
    CPU generator), 'same' gives every sample the same draws, 'different' independent ones.
    ``chunk_size`` is accepted and checked; the loop runs one sample at a time anyway."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    def wrapped(*args, **kwargs):
        size, flat_dims, flat_args, spec = _batched_inputs(in_dims, args, func)
        results = []
        state = _random.get_rng_state()
        for i in range(size):
            if randomness == "same":
                _random.set_rng_state(state)
            sliced = [a if d is None else a.select(d, i) for a, d in zip(flat_args, flat_dims)]
            before = _random.get_rng_state() if randomness == "error" else None
            results.append(func(*tree_unflatten(sliced, spec), **kwargs))
            if before is not None and not np.array_equal(
                    before.numpy(), _random.get_rng_state().numpy()):
                raise RuntimeError("vmap: called random operation while in randomness error "
                                   "mode. Please either use the 'same' or 'different' "
                                   "randomness flags on vmap or perform the randomness "
                                   "operation out of vmap")
        return _stack_outputs(results, out_dims, func)
    return wrapped


def _batched_inputs(in_dims, args, func):
    """(batch size, in_dim per leaf, leaves, spec of args), checked as PyTorch checks them."""
    name = _name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` "
                         f"to be int or a (potentially nested) tuple matching the structure "
                         f"of inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                         f"inputs, or you are trying to vmap over a function with no inputs. "
                         f"The latter is unsupported.")
    flat_args, spec = tree_flatten(args)
    flat_dims = broadcast_to_and_flatten(in_dims, spec)
    if flat_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"{tree_flatten(in_dims)[1]} but inputs has structure {spec}.")
    for i, (arg, d) in enumerate(zip(flat_args, flat_dims)):
        if d is None:
            continue
        if not isinstance(d, int):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for an input but in_dim must be either an integer dimension "
                             f"or None.")
        if not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for an input but the input is of type {type(arg)}. We cannot "
                             f"vmap over non-Tensor arguments, please use None as the "
                             f"respective in_dim")
        if not -arg.ndim <= d < arg.ndim:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for some input, but that input is a Tensor of dimensionality "
                             f"{arg.ndim} so expected in_dim to satisfy -{arg.ndim} <= in_dim "
                             f"< {arg.ndim}.")
        flat_dims[i] = d % arg.ndim
    sizes = [a.shape[d] for a, d in zip(flat_args, flat_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    if sizes[0] == 0:
        raise ValueError("vmap: the mapped dimension has size 0; tinygen's loop cannot infer "
                         "the outputs' shapes from no samples")
    return sizes[0], flat_dims, flat_args, spec


def _stack_outputs(results, out_dims, func):
    """The per-sample outputs stacked at their out_dims (None: the first sample's value)."""
    name = _name(func)
    flats = [tree_flatten(r) for r in results]
    leaves0, spec = flats[0]
    if any(s != spec for _, s in flats):
        raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different "
                         f"structures for different samples")
    if isinstance(results[0], Tensor):
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            out_dims = out_dims[0]
        flat_dims = [out_dims] if out_dims is None or isinstance(out_dims, int) else None
    else:
        flat_dims = broadcast_to_and_flatten(out_dims, spec)
    if flat_dims is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                         f"compatible with the structure of `outputs`. out_dims has structure "
                         f"{tree_flatten(out_dims)[1]} but outputs has structure {spec}.")
    out = []
    for j, d in enumerate(flat_dims):
        if d is not None and not isinstance(d, int):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an "
                             f"int, None or a python collection of ints representing where in "
                             f"the outputs the vmapped dimension should appear.")
        if d is None:
            out.append(leaves0[j])
            continue
        column = [leaves for leaves, _ in flats]
        if not isinstance(leaves0[j], Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(leaves0[j])}. Did you mean to set out_dims= to None for "
                             f"output?")
        out.append(stack([leaves[j] for leaves in column], dim=d))
    return tree_unflatten(out, spec)

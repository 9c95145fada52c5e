"""``tinygen.utils.checkpoint``, as ``torch.utils.checkpoint``: trade compute for memory.

``checkpoint(fn, *args)`` runs ``fn`` without recording a graph, so none of its intermediate
activations stay alive; only its inputs are kept. In backward it runs ``fn`` again, this time
recording, and backpropagates through that fresh graph (Chen et al., "Training deep nets with
sublinear memory cost", 2016). A GPT with every block checkpointed keeps one activation per block
instead of dozens.

Random draws inside ``fn`` (dropout) must be the same in both runs, or the gradient would belong to
other masks: with ``preserve_rng_state`` (the default) the first run draws from a generator forked
off each device's default one with a fresh seed, and the second run from one forked with the same
seed, so both see the same numbers on the CPU and on a GPU alike (CuPy generators cannot save their
state, so tinygen forks instead of saving and restoring it as PyTorch does).

As PyTorch's reentrant form, the second run backpropagates into the ``.grad`` of every tensor
``fn`` uses, so it works with ``loss.backward()``; ``tg.autograd.grad`` and
``backward(inputs=...)`` through a checkpoint are refused with PyTorch's error, since they must not
touch ``.grad``. tinygen runs ``use_reentrant=False`` the same way, except that its output
requires grad when ``function`` may use parameters that do, as PyTorch's non-reentrant form.
"""

import contextlib

from tinygen import backend
from tinygen.autograd import engine
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from tinygen.creation import zeros
from tinygen.nn.module import Module
from tinygen.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class Checkpoint(ArrayFunction):
    """outputs = run(*inputs) without a graph; backward runs it again with one."""
    @staticmethod
    def forward(ctx, run, seeds, *arrays):
        ctx.run, ctx.seeds = run, seeds
        ctx.save_for_backward(*arrays)
        with no_grad(), _forked_generators(seeds):
            outputs = run(*[Tensor._wrap(a) for a in arrays])
        ctx.single = isinstance(outputs, Tensor)
        outputs = (outputs,) if ctx.single else outputs
        if not isinstance(outputs, (tuple, list)) or not all(isinstance(t, Tensor)
                                                               for t in outputs):
            raise TypeError(f"checkpoint: the function must return a tensor or a tuple of "
                            f"tensors, got {type(outputs).__name__}")
        arrays_out = tuple(t.array for t in outputs)
        return arrays_out[0] if ctx.single else arrays_out

    @staticmethod
    def backward(ctx, *grads):
        if engine.targets_requested():
            raise RuntimeError("When use_reentrant=True, torch.utils.checkpoint is incompatible "
                               "with .grad() or passing an `inputs` parameter to .backward(). "
                               "Call .backward() without `inputs`, or do not checkpoint.")
        needs = ctx.needs_input_grad[2:]
        inputs = [t.detach().requires_grad_() if need else t.detach()
                  for t, need in zip(ctx.saved_tensors, needs)]
        with enable_grad(), _forked_generators(ctx.seeds):
            outputs = ctx.run(*inputs)
        outputs = (outputs,) if ctx.single else tuple(outputs)
        pairs = [(t, g) for t, g in zip(outputs, grads) if t.requires_grad and g is not None]
        if pairs:
            engine.backward([t for t, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(t.grad if need else None for t, need in zip(inputs, needs))


@contextlib.contextmanager
def _forked_generators(seeds):
    """Inside the block, each device in ``seeds`` draws from a fresh generator with that seed;
    its default generator is untouched (no seeds: nothing changes)."""
    with contextlib.ExitStack() as stack:
        for device, seed in seeds.items():
            stack.enter_context(backend.default_stream(device).forked(seed))
        yield


def _fresh_seeds(tensors):
    """One new seed per device that ``fn`` may draw on: the CPU and the tensors' devices."""
    devices = {backend.Device("cpu")} | {backend.Device(t.device) for t in tensors}
    return {device: int(backend.generator(device).integers(1 << 62)) for device in devices}


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, its activations recomputed in backward instead of kept.

    Tensor arguments are the checkpoint's inputs (their gradients flow back); other arguments
    and ``kwargs`` are passed through as they are. ``context_fn``, ``determinism_check`` and
    ``debug`` are accepted for PyTorch's signature; only their defaults are supported.
    """
    if context_fn is not None or determinism_check != "default" or debug:
        raise NotImplementedError("checkpoint: context_fn, determinism_check and debug are not "
                                  "supported; leave them at their defaults")
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    tensors = [args[i] for i in positions]

    def run(*inputs):
        filled = list(args)
        for i, t in zip(positions, inputs):
            filled[i] = t
        return function(*filled, **kwargs)

    seeds = _fresh_seeds(tensors) if preserve_rng_state else {}
    if use_reentrant is False and _needs_anchor(function, tensors):
        anchor = zeros((), device=tensors[0].device if tensors else None, requires_grad=True)
        tensors = tensors + [anchor]                                        # run ignores it
    return Checkpoint.apply(run, seeds, *tensors)


def _needs_anchor(function, tensors):
    """Whether the non-reentrant form needs a stand-in input that requires grad: PyTorch's
    ``use_reentrant=False`` gives the parameters ``function`` uses gradients even when no
    input requires grad (the first block of a network). Only a module (or its method) can be
    seen to have none."""
    if not is_grad_enabled() or any(t.requires_grad for t in tensors):
        return False
    module = function if isinstance(function, Module) else getattr(function, "__self__", None)
    if isinstance(module, Module):
        return any(p.requires_grad for p in module.parameters())
    return True


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run the modules of ``functions`` (a Sequential or a list) in order, in ``segments``
    chunks, checkpointing every chunk but the last (whose activations backward needs first)."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not 0 < segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be in [1, {len(functions)}], "
                         f"got {segments}")
    size = len(functions) // segments

    def run_chunk(start, end):
        def chunk(x):
            for f in functions[start:end]:
                x = f(x)
            return x
        return chunk

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_chunk(start, end + 1), input, use_reentrant=use_reentrant,
                           **kwargs)
    return run_chunk(end + 1, len(functions))(input)

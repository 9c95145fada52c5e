"""``tinygen.utils.checkpoint``, as ``torch.utils.checkpoint``: trade compute for memory.

``checkpoint(fn, *args)`` runs ``fn`` keeping none of its intermediate activations alive;
only its inputs are kept. In backward it runs ``fn`` again to get them back (Chen et al.,
"Training deep nets with sublinear memory cost", 2016). A GPT with every block checkpointed
keeps one activation per block instead of dozens.

Random draws inside ``fn`` (dropout) must be the same in both runs, or the gradient would belong to
other masks: with ``preserve_rng_state`` (the default) the first run draws from a generator forked
off each device's default one with a fresh seed, and the second run from one forked with the same
seed, so both see the same numbers on the CPU and on a GPU alike (CuPy generators cannot save their
state, so tinygen forks instead of saving and restoring it as PyTorch does).

Two forms, as in PyTorch. ``use_reentrant=True`` (or None): the second run backpropagates into
the ``.grad`` of every tensor ``fn`` uses, so it works with ``loss.backward()``;
``tg.autograd.grad`` and ``backward(inputs=...)`` through it are refused with PyTorch's error,
since they must not touch ``.grad``. ``use_reentrant=False``: ``fn`` runs recording its graph, but
under saved-tensor hooks (``tinygen.autograd.graph``) that keep a number instead of each tensor
an op saves; the first time backward reads one of them, ``fn`` runs again (once for the whole
region) and the saved tensors of that run are handed out. The graph is an ordinary one, so
``grad``, ``backward(inputs=...)``, parameters used inside and nested checkpoints all work. The
recomputed tensors stay alive until every node of the region has run its backward (with
``retain_graph=True``, as long as the graph).
"""

import contextlib

from tinygen import backend
from tinygen.autograd import engine, graph
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from tinygen.creation import zeros
from tinygen.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class Checkpoint(ArrayFunction):
    """The reentrant form: outputs = run(*inputs) without a graph; backward runs it again
    with one and backpropagates through it."""
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
    if use_reentrant is False:
        return _checkpoint_without_reentrant(run, seeds, tensors)
    return Checkpoint.apply(run, seeds, *tensors)


def _checkpoint_without_reentrant(run, seeds, tensors):
    """``run(*tensors)`` recorded, its saved tensors replaced by numbers (see the module)."""
    if not is_grad_enabled():
        return _checked_outputs(run(*tensors))
    frame = _Frame(run, seeds, tensors)
    with graph.saved_tensors_hooks(frame.pack, frame.unpack), _forked_generators(seeds):
        return _checked_outputs(run(*tensors))


class _Frame:
    """One non-reentrant checkpoint region: what it needs to run again, and that run's saved
    tensors, in the order its ops saved them (the same order as the first run's)."""

    def __init__(self, run, seeds, tensors):
        self.run, self.seeds = run, seeds
        dummy = zeros(0, device=tensors[0].device if tensors else None, requires_grad=True)
        # The inputs are saved by a node of their own, outside this region's hooks: version
        # checked, or packed by an enclosing checkpoint's hooks (nested checkpoints).
        self.inputs_node = _SaveInputs.apply(dummy, *tensors).grad_fn
        self.n_saved = 0
        self.recomputed = None

    def pack(self, tensor):
        self.n_saved += 1
        return self.n_saved - 1

    def unpack(self, index):
        if self.recomputed is None:
            self.recomputed = self._recompute()
        if len(self.recomputed) != self.n_saved:
            raise RuntimeError(f"checkpoint: a different number of tensors was saved during the "
                               f"original forward ({self.n_saved}) and the recomputation "
                               f"({len(self.recomputed)}); the function must run the same ops "
                               f"each time")
        return self.recomputed[index]

    def _recompute(self):
        saved = []

        def keep(tensor):
            saved.append(tensor.detach())

        inputs = [t.detach().requires_grad_() if t.requires_grad else t.detach()
                  for t in self.inputs_node.saved_tensors]
        with enable_grad(), _forked_generators(self.seeds), graph.saved_tensors_hooks(
                keep, _never_unpacked):
            self.run(*inputs)
        return saved


def _never_unpacked(packed):
    raise RuntimeError("checkpoint: the graph of a recomputation cannot be backpropagated")


class _SaveInputs(ArrayFunction):
    """Keeps a non-reentrant checkpoint's inputs for its recomputation; its output is unused."""
    @staticmethod
    def forward(ctx, dummy, *arrays):
        ctx.save_for_backward(*arrays)
        return dummy

    @staticmethod
    def backward(ctx, grad):
        return (None,) * len(ctx.next_edges)


def _checked_outputs(outputs):
    if isinstance(outputs, Tensor) or isinstance(outputs, (tuple, list)) and all(
            isinstance(t, Tensor) for t in outputs):
        return outputs
    raise TypeError(f"checkpoint: the function must return a tensor or a tuple of tensors, got "
                    f"{type(outputs).__name__}")


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

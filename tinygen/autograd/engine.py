"""The backward engine: reverse-mode differentiation over the recorded graph.

1. Order the nodes reachable from the outputs so that every node comes before the nodes its inputs
   came from (a topological order, found by an iterative depth-first search: a graph 100,000 ops
   deep needs no recursion).
2. Walk that order once. Each node receives the sum of the gradients flowing into each of its
   outputs, calls its Function's ``backward`` and passes one gradient along each input edge.
   The engine undoes broadcasting here, once for every op: a gradient larger than its input is
   summed back to the input's shape (``sum_to``).
3. Leaf tensors collect their gradients last: added into ``.grad`` by ``backward()``, or returned
   by ``grad()``.

With ``create_graph=False`` the walk runs with recording off, so it builds nothing; with
``create_graph=True`` the backward ops are recorded like any others and can be differentiated.
"""

import functools
import sys

import numpy as np

from tinygen.autograd import function
from tinygen.autograd.function import Node, _as_array, _check_nan
from tinygen.autograd.grad_mode import set_grad_enabled, state
from tinygen.backend import get_array_module


_passes = []    # per backward()/grad() call in progress: the callbacks to run when it ends


def _one_pass(entry):
    """Decorate backward() and grad(): callbacks queued during the call run when it returns."""
    @functools.wraps(entry)
    def wrapper(*args, **kwargs):
        callbacks = []
        _passes.append(callbacks)
        try:
            result = entry(*args, **kwargs)
        finally:
            _passes.pop()
        for callback in callbacks:
            callback()
        return result
    return wrapper


def current_pass():
    """An object standing for the backward()/grad() call in progress (None outside one)."""
    return _passes[-1] if _passes else None


def queue_callback(callback):
    """Call ``callback()`` once the backward()/grad() call in progress has finished, its leaf
    gradients accumulated (PyTorch's ``Variable._execution_engine.queue_callback``)."""
    if not _passes:
        raise RuntimeError("queue_callback can only be called during the backward pass")
    _passes[-1].append(callback)


@_one_pass
def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Add the gradients of ``tensors`` (weighted by ``grad_tensors``) into leaves' ``.grad``;
    with ``inputs`` (tensors, leaves or not), into those tensors' ``.grad`` only."""
    roots, root_grads = _roots_and_grads(tensors, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        leaf_grads = _run(roots, root_grads, retain_graph, create_graph, targets=None)
        while leaf_grads:
            leaf, grad = leaf_grads.popitem()
            _accumulate(leaf, grad, create_graph)
        return
    inputs = _checked_inputs(inputs, "backward")
    found = _run(roots, root_grads, retain_graph, create_graph, targets=inputs)
    for tensor in inputs:
        g = found.get(_key(tensor))
        if g is not None and not _retains_grad(tensor):    # its retain_grad hook stored g
            _accumulate(tensor, g, create_graph)


@_one_pass
def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple with one entry per
    input (also for a single input tensor, as in PyTorch); ``.grad`` is left untouched.
    An input the outputs do not depend on is an error, or None with ``allow_unused``, or zeros
    with ``materialize_grads``."""
    if materialize_grads and allow_unused is False:
        raise ValueError("grad(): expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got allow_unused=False")
    inputs = _checked_inputs(inputs, "grad")
    roots, root_grads = _roots_and_grads(outputs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    found = _run(roots, root_grads, retain_graph, create_graph, targets=inputs)
    results = []
    for i, tensor in enumerate(inputs):
        g = found.get(_key(tensor))
        if g is not None and tensor._hooks:
            g = _run_leaf_hooks(tensor, g)              # as backward() does, and PyTorch
        if g is None and materialize_grads:
            g = Tensor(get_array_module(tensor.array).zeros_like(tensor.array))
        elif g is None and not allow_unused:
            raise RuntimeError(f"input {i} of grad() (shape {tuple(tensor.shape)}) was not used "
                               f"to compute the outputs; pass allow_unused=True to get None")
        results.append(g)
    return tuple(results)


def _retains_grad(tensor):
    """Whether ``tensor`` is a non-leaf whose ``retain_grad()`` hook fills its ``.grad``."""
    node = tensor.grad_fn
    hooks = None if node is None or node.output_hooks is None else node.output_hooks.get(
        tensor._output_nr)
    return any(getattr(hook, "runs_last", False) for hook in hooks or ())


def _checked_inputs(inputs, caller):
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not inputs:
        raise RuntimeError(f"{caller}(): the inputs argument cannot be empty")
    for i, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"input {i} of {caller}() does not require grad; create it with "
                               f"requires_grad=True or call .requires_grad_()")
    return inputs


def _key(tensor):
    """Where ``_run`` files a target's gradient: a leaf under itself, else its node output."""
    return tensor if tensor.grad_fn is None else (tensor.grad_fn, tensor._output_nr)


def _roots_and_grads(tensors, grad_tensors, create_graph):
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"got {len(tensors)} outputs but {len(grad_tensors)} gradients")
    roots, root_grads = [], []
    for i, (tensor, g) in enumerate(zip(tensors, grad_tensors)):
        if not tensor.requires_grad:
            raise RuntimeError(f"element {i} of the outputs does not require grad and has no "
                               f"grad_fn: nothing it was computed from requires grad")
        if g is None:
            if tensor.numel() != 1:
                raise RuntimeError(
                    f"backward() without a gradient works only for a one-element output, got "
                    f"shape {tuple(tensor.shape)}; pass gradient= a tensor of that shape "
                    f"(e.g. loss.sum().backward() or y.backward(tg.ones_like(y)))")
            if tensor.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs:"
                                   " pass gradient= to backward() for a complex output")
            g = Tensor(get_array_module(tensor.array).ones_like(tensor.array))
        elif not isinstance(g, Tensor):
            g = Tensor(get_array_module(tensor.array).asarray(g, dtype=tensor.dtype))
        elif g.dtype != tensor.dtype:           # the gradient of a float64 output is float64
            g = g.to(tensor.dtype)
        if tuple(g.shape) != tuple(tensor.shape):
            raise RuntimeError(f"gradient for output {i} has shape {tuple(g.shape)} but the "
                               f"output has shape {tuple(tensor.shape)}")
        if not create_graph:
            g = g.detach()
        roots.append(tensor)
        root_grads.append(g)
    return roots, root_grads


def _topological_order(roots):
    """Nodes reachable from ``roots``, each before every node its inputs came from.

    Kahn's algorithm: count each node's consumers, then release a node once all of them are
    done. Both passes use explicit stacks, so depth costs no recursion.
    """
    consumers = {}
    stack = list(dict.fromkeys(roots))     # once each: outputs of one op share their node
    seen = set(stack)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is not None and type(edge[0]) is Node:
                child = edge[0]
                consumers[child] = consumers.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    order = []
    ready = [node for node in dict.fromkeys(roots) if node not in consumers]
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node.next_edges:
            if edge is not None and type(edge[0]) is Node:
                child = edge[0]
                consumers[child] -= 1
                if consumers[child] == 0:
                    ready.append(child)
    return order


def _nodes_to_run(order, targets):
    """For grad(): the nodes whose backward leads to some target (others are skipped)."""
    target_leaves = {t for t in targets if t.grad_fn is None}
    target_nodes = {t.grad_fn for t in targets if t.grad_fn is not None}
    run, receive = set(), set(target_nodes)
    for node in reversed(order):            # inputs' nodes before the nodes that consumed them
        for edge in node.next_edges:
            if edge is None:
                continue
            if (edge[0] in receive) if type(edge[0]) is Node else (edge[0] in target_leaves):
                run.add(node)
                receive.add(node)
                break
    return run


_targeted_runs = []     # one entry per _run in progress: were ``targets`` given (grad, inputs=)?


def targets_requested():
    """True inside a backward pass that ``grad()`` or ``backward(inputs=...)`` started: a
    node's backward that would add into ``.grad`` itself (a checkpoint's) must refuse to."""
    return bool(_targeted_runs) and _targeted_runs[-1]


def _run(roots, root_grads, retain_graph, create_graph, targets):
    """Walk the graph from ``roots``; return leaf gradients (or, with ``targets``, theirs)."""
    _targeted_runs.append(targets is not None)
    try:
        return _walk(roots, root_grads, retain_graph, create_graph, targets)
    finally:
        _targeted_runs.pop()


def _walk(roots, root_grads, retain_graph, create_graph, targets):
    buffers = {}
    leaf_grads = {}
    for root, g in zip(roots, root_grads):
        if root.grad_fn is None:
            _add(leaf_grads, root, g)
        else:
            _add_to_buffer(buffers, root.grad_fn, root._output_nr, g)
    order = _topological_order([r.grad_fn for r in roots if r.grad_fn is not None])
    if targets is not None:
        targets = set(targets)              # tensors hash by identity, so sets are safe
    to_run = None if targets is None else _nodes_to_run(order, targets)
    wanted_outputs = {} if targets is None else {
        (t.grad_fn, t._output_nr): t for t in targets if t.grad_fn is not None}
    found = {}
    propagate = _propagate
    if function._profiler is not None:                     # hook: inside tg.autograd.profile()
        propagate = function._profiler.timed_backward(propagate)  # hook
    with set_grad_enabled(create_graph):
        for node in order:
            grads = buffers.pop(node, None)
            if grads is None:
                continue
            if node.output_hooks:
                grads = _run_output_hooks(node, grads)
            if to_run is not None:
                for index, g in enumerate(grads):
                    if (node, index) in wanted_outputs:
                        found[(node, index)] = g
                if node not in to_run:
                    continue
            propagate(node, grads, buffers, leaf_grads, targets, create_graph)
            if not retain_graph:
                node.release()
    if targets is None:
        return leaf_grads
    found.update((t, leaf_grads[t]) for t in targets if t.grad_fn is None and t in leaf_grads)
    return found


def _propagate(node, grads, buffers, leaf_grads, targets, create_graph):
    """Call ``node``'s backward and hand each input gradient to the node or leaf it belongs to."""
    if node.n_outputs > 1 and node.materialize_grads and any(g is None for g in grads):
        xp = get_array_module(next(g for g in grads if g is not None).array)
        grads = [g if g is not None else _zeros(node, i, xp) for i, g in enumerate(grads)]
    anomaly = state.anomaly_enabled
    if anomaly:
        input_grads = _anomaly_backward(node, grads)
    else:
        input_grads = node.fn.backward(node, *grads)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    n_inputs = len(node.next_edges)
    if len(input_grads) != n_inputs and (len(input_grads) < n_inputs or any(
            g is not None for g in input_grads[n_inputs:])):    # extra Nones: fine, as PyTorch
        raise RuntimeError(f"{node.fn.__name__}.backward returned {len(input_grads)} gradients "
                           f"but forward took {n_inputs} arguments")
    for position, (edge, g, meta) in enumerate(zip(node.next_edges, input_grads,
                                                    node.input_meta)):
        if edge is None or g is None:
            continue
        if type(g) is not Tensor or g.array.shape != meta[0] or g.array.dtype != meta[1]:
            g = _fit_to_input(node, position, g)
        if anomaly:
            _check_nan(node, position, g.array)
        target, index = edge
        if type(target) is Node:
            if target.n_outputs == 1 and target not in buffers:   # the common case, inlined
                buffers[target] = [g]
            else:
                _add_to_buffer(buffers, target, index, g)
        elif targets is None or target in targets:
            _add(leaf_grads, target, g)


def _anomaly_backward(node, grads):
    """Anomaly mode: an error inside a node's backward names that node and where it was made."""
    try:
        return node.fn.backward(node, *grads)
    except Exception as error:
        site = node.creation_site or "an unknown place (run the forward pass inside " \
                                     "detect_anomaly to record it)"
        raise RuntimeError(f"Function {node.name()} failed in backward: "
                           f"{str(error).rstrip('.')}. "
                           f"Its forward op was created at {site}") from error


def _fit_to_input(node, position, g):
    """The gradient as a Tensor of the input's shape and dtype (broadcasting summed away)."""
    if not isinstance(g, Tensor):
        g = Tensor(g)
    shape, dtype = node.input_meta[position]
    if g.array.shape != shape:
        try:
            g = sum_to(g, shape)
        except ValueError:
            raise RuntimeError(f"{node.fn.__name__}.backward returned a gradient of shape "
                               f"{tuple(g.shape)} for input {position} of shape {tuple(shape)}"
                               ) from None
    if g.array.dtype != dtype:
        g = g.to(dtype)
    return g


def _zeros(node, index, xp):
    """A zero gradient for an output of a multi-output op that no later op used."""
    shape, dtype = node.output_meta[index]
    return Tensor(xp.zeros(shape, dtype))


def _add_to_buffer(buffers, node, index, g):
    grads = buffers.get(node)
    if grads is None:
        grads = buffers[node] = [None] * node.n_outputs
    grads[index] = g if grads[index] is None else _sum(grads[index], g)


def _add(leaf_grads, leaf, g):
    previous = leaf_grads.get(leaf)
    leaf_grads[leaf] = g if previous is None else _sum(previous, g)


def _sum(a, b):
    """a + b; recorded only when the backward pass itself is being recorded (create_graph)."""
    return a + b if state.grad_enabled else Tensor._wrap(_as_array(a.array + b.array))


def _run_output_hooks(node, grads):
    grads = list(grads)
    for index, hooks in node.output_hooks.items():
        if grads[index] is not None:
            grads[index] = _run_hooks(hooks, grads[index])
    return grads


def _run_leaf_hooks(leaf, g):
    return _run_hooks(leaf._hooks, g)


def _run_hooks(hooks, g):
    """Each hook sees the gradient the previous ones left; a hook marked ``runs_last``
    (retain_grad's) runs after the others, as in PyTorch, so it keeps what they made."""
    for hook in sorted(hooks, key=lambda hook: getattr(hook, "runs_last", False)):
        if getattr(hook, "post_accumulate", False):
            continue                       # run after accumulation: _run_post_accumulate_hooks
        result = hook(g)
        if result is not None:
            if tuple(result.shape) != tuple(g.shape):
                raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} has changed the "
                                   f"size of the gradient from {tuple(g.shape)} to "
                                   f"{tuple(result.shape)}")
            g = result
    return g


def _accumulate(leaf, g, create_graph):
    """Run the leaf's hooks, then add ``g`` into ``leaf.grad`` (a fresh array, never shared).

    As PyTorch's AccumulateGrad: a second backward adds into the existing ``.grad`` in place
    (so a reference to it stays current), or, with create_graph, out of place, recorded.
    """
    stealable = not (create_graph or leaf._hooks) and g.array.base is None
    if leaf._hooks:
        g = _run_leaf_hooks(leaf, g)
    if leaf._grad is None:
        if create_graph:
            leaf._grad = g.clone()         # recorded, and never the tensor of another leaf
        elif stealable and _reference_counts(g) == _UNSHARED_COUNTS:
            # Nothing else holds g or its array (no view of it, no other tensor, no hook, no
            # caller), so .grad takes it as it is; PyTorch's AccumulateGrad makes the same
            # use-count test. Anything shared is copied: .grad never aliases other memory.
            leaf._grad = g
        else:
            leaf._grad = Tensor(g.array.copy())
    elif create_graph or leaf._grad.requires_grad:
        leaf._grad = leaf._grad + g
    else:
        grad_array = leaf._grad.array
        if getattr(getattr(grad_array, "flags", None), "writeable", True):
            grad_array += g.array
            leaf._grad._shared_version()[0] += 1
        else:                              # a read-only .grad the user assigned
            leaf._grad = Tensor(grad_array + g.array)
    if leaf._hooks:
        _run_post_accumulate_hooks(leaf)


def _run_post_accumulate_hooks(leaf):
    """``register_post_accumulate_grad_hook``'s hooks: each gets the leaf, its .grad updated."""
    for hook in [hook for hook in leaf._hooks if getattr(hook, "post_accumulate", False)]:
        hook(leaf)


def _reference_counts(g):
    """How many references there are to the gradient tensor ``g`` and to its array."""
    array = g.array
    return sys.getrefcount(g), sys.getrefcount(array)


def _as_if_accumulating(g):
    """Stands where ``_accumulate`` stands, one call below ``backward``'s loop variable."""
    return _reference_counts(g)


def _measure_unshared_counts():
    """The counts ``_reference_counts`` gives inside ``_accumulate`` when nothing but the
    engine holds the gradient: measured once through the same chain of calls, so the test holds
    whatever the interpreter's own reference-counting details."""
    local = Tensor(np.empty(1))
    return _as_if_accumulating(local)


from tinygen.ops.shape import sum_to  # noqa: E402  (ops import the autograd package)
from tinygen.tensor import Tensor  # noqa: E402

_UNSHARED_COUNTS = _measure_unshared_counts()

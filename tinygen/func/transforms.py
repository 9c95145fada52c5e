"""torch.func's differentiation transforms -- grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian -- over tinygen's reverse-mode tape.

PyTorch's functorch lifts tensors to a new "level" per transform. Here a transform runs the
function on fresh leaves (or, when the caller's tensors already require grad, on views of them)
and calls ``autograd.grad``. When the result may be differentiated again -- the transform is
nested inside another one, or an input requires grad -- it builds the graph of its own backward
(``create_graph``), so ``grad(grad(f))`` and ``jacrev(jacrev(f))`` give second derivatives.
Otherwise results are detached, as torch.func's are. Forward mode (jvp, jacfwd) runs on
``tg.autograd.forward_ad``: one dual level, the function run once on dual inputs. Inside a level
that is already live (``jacfwd(jacfwd(f))``; tinygen has one level at a time) jvp falls back to
the double-vjp trick, as does ``linearize``, which keeps the graph of ``u -> J^T u`` so that each
call of its jvp_fn is one backward pass, not a new forward pass.
"""

from contextlib import contextmanager

from tinygen.autograd import forward_ad
from tinygen.autograd.engine import grad as _autograd_grad
from tinygen.autograd.grad_mode import enable_grad, is_grad_enabled
from tinygen.creation import zeros_like
from tinygen.func._pytree import tree_flatten, tree_unflatten
from tinygen.ops.shape import stack
from tinygen.tensor import Tensor

_depth = [0]        # how many differentiation transforms are running around this call


@contextmanager
def _transform(leaves):
    """Run a transform's body under grad mode; yields whether its results must keep a graph."""
    keep = is_grad_enabled() and (_depth[0] > 0 or any(
        isinstance(t, Tensor) and t.requires_grad for t in leaves))
    _depth[0] += 1
    try:
        with enable_grad():
            yield keep
    finally:
        _depth[0] -= 1


def _lift(t, name):
    """A tensor the transform differentiates by: a view of ``t`` when it is already in a graph
    (so results stay connected), else a fresh leaf."""
    if not isinstance(t, Tensor):
        raise RuntimeError(f"{name}: Expected all differentiated inputs to be Tensors, got "
                           f"{type(t).__name__}")
    tangent = forward_ad.tangent_of(t) if forward_ad._levels else None
    if tangent is not None:             # a dual input (jvp of grad): keep its tangent
        return forward_ad.make_dual(t.detach().requires_grad_(True), tangent)
    return t.view_as(t) if t.requires_grad else t.detach().requires_grad_(True)


def _finish(tree, keep):
    """Detach every tensor leaf of ``tree`` unless the results must keep their graph."""
    if keep:
        return tree
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


def _grads(outputs, inputs, cotangents, keep):
    """d(sum <outputs, cotangents>)/d inputs, zeros where an input is not reached."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        grads = _autograd_grad([o for o, _ in pairs], list(inputs), [c for _, c in pairs],
                               retain_graph=True, create_graph=keep, allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def _check_argnums(argnums, nargs, name):
    """argnums as a tuple of non-negative ints, checked against the number of arguments."""
    many = isinstance(argnums, tuple)
    nums = argnums if many else (argnums,)
    if not nums or not all(isinstance(a, int) for a in nums):
        raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got: {argnums}")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnums={a}, but only {nargs} positional inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{name}: argnums must be unique, got {argnums}")
    return out, many


def _lift_args(args, argnums, name):
    """(new args, flat lifted leaves, specs per argnum, original leaves)."""
    nums, many = _check_argnums(argnums, len(args), name)
    args, flat, specs, originals = list(args), [], [], []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        lifted = [_lift(t, name) for t in leaves]
        originals += leaves
        flat += lifted
        specs.append(spec)
        args[a] = tree_unflatten(lifted, spec)
    return args, flat, (specs, many), originals


def _regroup(flat, specs_many):
    """Flat per-input values back into the argnums structure (one tree, or a tuple of trees)."""
    specs, many = specs_many
    trees, start = [], 0
    for spec in specs:
        trees.append(tree_unflatten(flat[start:start + spec.num_leaves], spec))
        start += spec.num_leaves
    return tuple(trees) if many else trees[0]


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise RuntimeError(f"{name}(f)(*args): output of function f should be a tuple: "
                           f"(output, aux) if has_aux is True")
    return out[0], out[1]


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of ``func`` w.r.t. the arguments at ``argnums``, value
    of ``func``); ``func`` must return a 0-d tensor (or ``(tensor, aux)`` with ``has_aux``,
    and then the value is ``(tensor, aux)``)."""
    def wrapper(*args, **kwargs):
        name = "grad_and_value"
        with _transform(tree_flatten(args)[0]) as keep:
            args, flat, specs, _ = _lift_args(args, argnums, name)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, name)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"{name}(f)(*args): Expected f(*args) to return a Tensor, "
                                   f"got {type(output)}")
            if output.ndim != 0:
                raise RuntimeError(f"{name}(f)(*args): Expected f(*args) to return a scalar "
                                   f"Tensor, got tensor with {output.ndim} dims. Maybe you "
                                   f"wanted to use the vjp or jacrev APIs instead?")
            grads = _grads([output], flat, [None], keep)
        value = (output, aux) if has_aux else output
        return _finish(_regroup(grads, specs), keep), _finish(value, keep)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar ``func`` w.r.t. its arguments at ``argnums`` (an int, or a
    tuple giving a tuple of gradients); arguments may be trees (a dict of parameters). With
    ``has_aux``, ``func`` returns ``(loss, aux)`` and this returns ``(gradient, aux)``."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        grads, value = gv(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): ``vjp_fn(cotangents)`` (a tree shaped as the output)
    returns the tuple of vector-Jacobian products, one tree per primal."""
    with _transform(tree_flatten(primals)[0]) as keep:
        lifted, spec_in = tree_flatten(primals)
        lifted = [_lift(t, "vjp") for t in lifted]
        output, aux = _split_aux(func(*tree_unflatten(lifted, spec_in)), has_aux, "vjp")
    outs, spec_out = tree_flatten(output)
    for o in outs:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that has only "
                               f"Tensors as outputs, got {type(o)}")

    def vjp_fn(cotangents):
        cots, spec = tree_flatten(cotangents)
        if spec != spec_out:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{spec}, primal output: {spec_out}")
        for i, (c, o) in enumerate(zip(cots, outs)):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{tuple(c.shape)} and output[{i}] has a shape of "
                                   f"{tuple(o.shape)}.")
        again = keep or any(c.requires_grad for c in cots)
        with _transform(()):
            grads = _grads(outs, lifted, cots, again)
        return _finish(tree_unflatten(grads, spec_in), again)

    result = (_finish(output, keep), vjp_fn)
    return result + (_finish(aux, keep),) if has_aux else result


def _check_jvp_args(primals, tangents):
    """Flat primals and tangents with their structure, checked as torch.func.jvp checks them."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. "
                           "it should be valid to call f(*primals).")
    flat_p, spec_p = tree_flatten(primals)
    flat_t, spec_t = tree_flatten(tangents)
    if not isinstance(tangents, tuple) or spec_p != spec_t:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure. For example, if primals is a tuple of "
                           "3 tensors, tangents also must be.")
    for p, t in zip(flat_p, flat_t):
        if not (isinstance(p, Tensor) and isinstance(t, Tensor)):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to "
                               f"be Tensors, got {type(p).__name__} and {type(t).__name__}")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to "
                               f"have the same shape. Got {tuple(p.shape)} and "
                               f"{tuple(t.shape)}.")
    return flat_p, spec_p, flat_t


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J tangents[, aux]), in forward mode: ``func`` runs once on dual
    tensors (tg.autograd.forward_ad)."""
    flat_p, spec_p, flat_t = _check_jvp_args(primals, tangents)
    if forward_ad._levels:              # inside another jvp: one level at a time
        output, aux, tangent_fn, keep = _linearized(func, flat_p, spec_p, has_aux, "jvp")
        result = (output, _finish(tangent_fn(flat_t), keep))
        return result + (aux,) if has_aux else result
    with _transform(flat_p + flat_t) as keep, forward_ad.dual_level():
        duals = [forward_ad.make_dual(p, t) for p, t in zip(flat_p, flat_t)]
        output, aux = _split_aux(func(*tree_unflatten(duals, spec_p)), has_aux, "jvp")
        outs, spec_out = tree_flatten(output)
        unpacked = [forward_ad.unpack_dual(o) for o in _checked_outputs(outs, "jvp")]
        primal_outs = [u.primal for u in unpacked]
        tangent_outs = [zeros_like(u.primal) if u.tangent is None else u.tangent
                        for u in unpacked]
    result = (_finish(tree_unflatten(primal_outs, spec_out), keep),
              _finish(tree_unflatten(tangent_outs, spec_out), keep))
    return result + (_finish(aux, keep),) if has_aux else result


def _checked_outputs(outs, name):
    for o in outs:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{name}(f, primals, tangents): Expected f to be a function that "
                               f"has only Tensors as outputs, got {type(o)}")
    return outs


def _linearized(func, flat_p, spec_p, has_aux, name):
    """(output, aux, tangent_fn, keep): ``tangent_fn(flat tangents)`` gives J tangents by the
    double-vjp trick: u -> J^T u is linear in u, so its own vjp with the tangents is J
    tangents. The graph of J^T u is built once and kept for every call."""
    with _transform(flat_p) as keep:
        lifted = [_lift(t, name) for t in flat_p]
        output, aux = _split_aux(func(*tree_unflatten(lifted, spec_p)), has_aux, name)
        outs, spec_out = tree_flatten(output)
        us = [zeros_like(o).requires_grad_(True) for o in _checked_outputs(outs, name)]
        back = _grads(outs, lifted, us, True)

    def tangent_fn(flat_t):
        with _transform(()):
            again = keep or any(t.requires_grad for t in flat_t)
            return tree_unflatten(_grads(back, us, flat_t, again), spec_out)
    return _finish(output, keep), _finish(aux, keep), tangent_fn, keep


def linearize(func, *primals):
    """(func(*primals), jvp_fn) with ``jvp_fn(*tangents)`` = J tangents at ``primals``, as
    torch.func.linearize. torch traces the function once; tinygen keeps the graph of the
    vector-Jacobian product instead, so each jvp_fn call is a backward pass of that graph."""
    flat_p, spec_p = tree_flatten(primals)
    for p in flat_p:
        if not isinstance(p, Tensor):
            raise TypeError(f"linearize(func, *primals): expected the primals to be Tensors, "
                            f"got {type(p).__name__}")
    output, _, tangent_fn, keep = _linearized(func, flat_p, spec_p, False, "linearize")

    def jvp_fn(*tangents):
        flat_t, spec_t = tree_flatten(tangents)
        if spec_t != spec_p:
            raise RuntimeError(f"Expected the tangents {spec_t} to have the same argspec as "
                               f"the primals {spec_p}")
        for i, (p, t) in enumerate(zip(flat_p, flat_t)):
            if tuple(t.shape) != tuple(p.shape):
                raise RuntimeError(f"tangent:{i} with shape {tuple(t.shape)} in flattened "
                                   f"pytree doesn't match the shape {tuple(p.shape)} of the "
                                   f"corresponding primal.")
        again = keep or any(t.requires_grad for t in flat_t)
        return _finish(tangent_fn(flat_t), again)
    return output, jvp_fn


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of ``func`` w.r.t. the arguments at ``argnums``, one vjp per output
    element. For an output leaf of shape O and input of shape I the block has shape O + I;
    blocks are nested as the output tree, then as ``argnums`` (and each argument's tree)."""
    def wrapper(*args, **kwargs):
        with _transform(tree_flatten(args)[0]) as keep:
            args, flat, specs, _ = _lift_args(args, argnums, "jacrev")
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "jacrev")
            outs, spec_out = tree_flatten(output)
            blocks = [_regroup(_jacobian_blocks(o, flat, keep), specs) for o in outs]
        jac = _finish(tree_unflatten(blocks, spec_out), keep)
        return (jac, _finish(aux, keep)) if has_aux else jac
    return wrapper


def _jacobian_blocks(out, inputs, keep):
    """d out / d x for each x in ``inputs``, each of shape out.shape + x.shape."""
    if not isinstance(out, Tensor):
        raise RuntimeError(f"jacrev(f, ...)(*args): Expected f to return Tensors, got "
                           f"{type(out)}")
    flat = out.reshape(-1)
    rows = [_grads([flat[k]], inputs, [None], keep) for k in range(flat.numel())]
    return [(stack([r[j] for r in rows]) if rows else zeros_like(x).reshape(0, *x.shape))
            .reshape(*out.shape, *x.shape) for j, x in enumerate(inputs)]


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` w.r.t. the arguments at ``argnums``, one jvp per input element
    (a column each, with the basis vector as tangent); blocks shaped and nested as jacrev's."""
    def wrapper(*args, **kwargs):
        nums, _ = _check_argnums(argnums, len(args), "jacfwd")
        flat, specs = [], []
        for a in nums:
            leaves, spec = tree_flatten(args[a])
            flat += leaves
            specs.append(spec)
        for t in flat:
            if not isinstance(t, Tensor):
                raise RuntimeError(f"jacfwd: Expected all differentiated inputs to be Tensors, "
                                   f"got {type(t).__name__}")

        def of_flat(*xs):
            new, start = list(args), 0
            for a, spec in zip(nums, specs):
                new[a] = tree_unflatten(list(xs[start:start + spec.num_leaves]), spec)
                start += spec.num_leaves
            return func(*new, **kwargs)

        zeros = [zeros_like(x) for x in flat]
        columns = []                    # per input: the output tangents of each basis vector
        for j, x in enumerate(flat):
            cols = []
            for k in range(x.numel()):
                basis = zeros_like(x).reshape(-1)
                basis[k] = 1
                tangents = zeros[:j] + [basis.reshape(x.shape)] + zeros[j + 1:]
                output, tang, aux = jvp(of_flat, tuple(flat), tuple(tangents), has_aux=True) \
                    if has_aux else jvp(of_flat, tuple(flat), tuple(tangents)) + (None,)
                cols.append(tree_flatten(tang)[0])
            columns.append(cols)
        if not any(columns):            # no input element: run func once for the shapes
            output, aux = _split_aux(of_flat(*flat), has_aux, "jacfwd")
        outs, spec_out = tree_flatten(output)
        blocks = [_regroup([_block(o, x, [c[i] for c in cols]) for x, cols in zip(flat, columns)],
                           (specs, isinstance(argnums, tuple))) for i, o in enumerate(outs)]
        jac = tree_unflatten(blocks, spec_out)
        return (jac, aux) if has_aux else jac
    return wrapper


def _block(out, x, cols):
    """d out / d x, of shape out.shape + x.shape, from the output tangent of each basis
    vector of x."""
    if not cols:
        return zeros_like(out).reshape(*out.shape, 1)[..., :0].reshape(*out.shape, *x.shape)
    return stack([c.reshape(-1) for c in cols], 1).reshape(*out.shape, *x.shape)


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: the Jacobian of its gradient (``jacfwd(jacrev)``)."""
    return jacfwd(jacrev(func, argnums), argnums)

"""A small pytree: nested tuples, lists and dicts whose leaves are anything else (tensors,
numbers, None). torch.func's transforms take and return such trees (a model's parameter dict,
a tuple of outputs); they flatten them to a list of leaves, act on the leaves and rebuild."""


class TreeSpec:
    """The shape of a tree: ``kind`` is 'leaf', 'tuple', 'list' or 'dict' (with ``keys``);
    ``children`` are the specs of the items; ``cls`` rebuilds a namedtuple or dict subclass."""

    def __init__(self, kind, children=(), keys=None, cls=None):
        self.kind, self.children, self.keys, self.cls = kind, tuple(children), keys, cls
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind == other.kind
                and self.keys == other.keys and self.children == other.children)

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        if self.kind == "dict":
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children))
            return "{" + inner + "}"
        return f"({inner},)" if self.kind == "tuple" else f"[{inner}]"


def tree_flatten(tree):
    """(leaves, spec): the leaves left to right (dicts in their key order)."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves):
    if isinstance(tree, (tuple, list)):
        kind = "tuple" if isinstance(tree, tuple) else "list"
        return TreeSpec(kind, [_flatten(t, leaves) for t in tree], cls=type(tree))
    if isinstance(tree, dict):
        keys = list(tree.keys())
        return TreeSpec("dict", [_flatten(tree[k], leaves) for k in keys], keys, type(tree))
    leaves.append(tree)
    return TreeSpec("leaf")


def tree_unflatten(leaves, spec):
    """The tree of shape ``spec`` holding ``leaves``."""
    it = iter(leaves)
    return _unflatten(it, spec)


def _unflatten(it, spec):
    if spec.kind == "leaf":
        return next(it)
    items = [_unflatten(it, c) for c in spec.children]
    if spec.kind == "dict":
        return spec.cls(zip(spec.keys, items))
    if spec.kind == "tuple" and spec.cls is not tuple and hasattr(spec.cls, "_fields"):
        return spec.cls(*items)                       # namedtuple
    return spec.cls(items) if spec.cls in (tuple, list) else spec.cls(items)


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_to_and_flatten(prefix, spec):
    """``prefix`` (e.g. in_dims) expanded to one entry per leaf of ``spec``: a non-container
    in ``prefix`` applies to the whole subtree under it. None when the structures differ."""
    out = []
    return out if _broadcast(prefix, spec, out) else None


def _broadcast(prefix, spec, out):
    if not isinstance(prefix, (tuple, list, dict)):
        out.extend([prefix] * spec.num_leaves)
        return True
    if spec.kind == "leaf" or len(prefix) != len(spec.children):
        return False
    if isinstance(prefix, dict):
        if spec.kind != "dict" or set(prefix) != set(spec.keys):
            return False
        return all(_broadcast(prefix[k], c, out) for k, c in zip(spec.keys, spec.children))
    if spec.kind == "dict" or isinstance(prefix, tuple) != (spec.kind == "tuple"):
        return False
    return all(_broadcast(p, c, out) for p, c in zip(prefix, spec.children))

"""The backward graph behind a tensor, as plain data: boxes and arrows, ready to draw.

``build_graph(output)`` walks ``output.grad_fn`` the way the engine does (through each node's
``next_edges``) and returns a ``Graph``: one box per op node, one per leaf tensor that needs a
gradient, one per output, and arrows in the direction gradients flow (output -> ops -> leaves).
``draw.py`` lays it out with matplotlib and ``dot.py`` writes it as Graphviz text; tests read it
directly.

Module boxes. ``nn.Module.__call__`` tags every node recorded inside it with the open module calls
(``node.scope``, see ``autograd/scope.py``). With ``collapse=True``, or on its own above
``COLLAPSE_ABOVE`` op nodes, the ops of each top-level module call become one box named by the
module's dotted name (``blocks.0``), together with the parameters only that call uses. Names in
``expand`` open their box into the module calls one level down.
"""

import math
from dataclasses import dataclass, field

from tinygen.autograd.function import _FREED, _SAVED_CONSTANT, _SAVED_INPUT, Node

COLLAPSE_ABOVE = 200                # op nodes; larger graphs collapse their module calls


@dataclass
class GraphNode:
    """One box. ``kind`` is "output", "op", "leaf" or "module"; ``lines`` is its label."""
    id: int
    kind: str
    title: str
    lines: list = field(default_factory=list)
    grad_norm: float = None         # leaves (and modules' parameters) after backward
    is_parameter: bool = False      # a leaf named by ``params``
    members: list = field(default_factory=list)   # a module box: the objects it holds

    @property
    def label(self):
        return "\n".join([self.title] + self.lines)


@dataclass
class Graph:
    """Boxes and arrows; an edge ``(a, b)`` means the gradient flows from box a to box b."""
    nodes: list
    edges: list

    def of_kind(self, kind):
        return [n for n in self.nodes if n.kind == kind]

    def titles(self, kind=None):
        return sorted(n.title for n in self.nodes if kind is None or n.kind == kind)

    def edge_titles(self):
        """Edges as (title, title) pairs, sorted: handy for comparing with a known graph."""
        by_id = {n.id: n.title for n in self.nodes}
        return sorted((by_id[a], by_id[b]) for a, b in self.edges)


def build_graph(output, params=None, show_grads=True, expand=(), collapse=None):
    """The graph of ``output`` (a tensor or a sequence of tensors): see the module docstring.

    ``params``: an ``nn.Module``, a dict ``{name: tensor}`` or ``named_parameters()`` pairs;
    their names label leaves and module boxes. ``show_grads``: add ``|grad|`` to leaves whose
    ``.grad`` is set. ``collapse``: True, False or None (collapse large graphs only).
    """
    outputs = [output] if hasattr(output, "grad_fn") else list(output)
    param_names, module_names = _names(params)
    objects, edges = _walk(outputs)
    ops = [obj for obj in objects if type(obj) is Node]
    if collapse is None:
        collapse = len(ops) > COLLAPSE_ABOVE
    group_of = _groups(ops, module_names, set(expand)) if collapse else {}   # id -> call
    calls = list(dict.fromkeys(group_of.values()))
    users = {}                                          # id(leaf) -> the calls that use it
    for a, b in edges:
        if type(b) is not Node:
            users.setdefault(id(b), set()).add(group_of.get(id(a)))
    for leaf in objects:
        if id(leaf) in users:
            call = _owning_call(leaf, users[id(leaf)])
            if call is not None:
                group_of[id(leaf)] = call

    nodes, index = [], {}                               # index: id(object or call) -> box
    members = {call: [] for call in calls}
    for obj in objects:
        if id(obj) in group_of:
            members[group_of[id(obj)]].append(obj)
    for obj in objects + calls:
        if id(obj) not in group_of:
            index[id(obj)] = len(nodes)
            nodes.append(_describe(obj, len(nodes), param_names, module_names, members,
                                   show_grads))
    box_edges = []
    for a, b in edges:
        a = index[id(group_of.get(id(a), a))]
        b = index[id(group_of.get(id(b), b))]
        if a != b:
            box_edges.append((a, b))
    return Graph(nodes, list(dict.fromkeys(box_edges)))


class _Output:
    """A box for one of the tensors the graph was drawn from."""

    def __init__(self, tensor, position):
        self.tensor, self.position = tensor, position


def _is_output(obj):
    return type(obj) is _Output


def _walk(outputs):
    """All objects reachable from the outputs (output boxes, Nodes, leaf tensors) in the order
    first met, and the edges between them, without recursion. Objects are told apart by id():
    a Tensor's == compares values."""
    objects, edges, seen, stack = [], [], set(), []

    def visit(obj):
        if id(obj) not in seen:
            seen.add(id(obj))
            objects.append(obj)
            if type(obj) is Node:
                stack.append(obj)

    for position, tensor in enumerate(outputs):
        box = _Output(tensor, position)
        target = tensor.grad_fn if tensor.grad_fn is not None else tensor
        visit(box)
        visit(target)
        edges.append((box, target))
    linked = set()
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is not None and (id(node), id(edge[0])) not in linked:
                linked.add((id(node), id(edge[0])))
                visit(edge[0])
                edges.append((node, edge[0]))
    return objects, edges


def _names(params):
    """({id(tensor): name}, {id(module): dotted name}) from a Module, dict or pairs."""
    if params is None:
        return {}, {}
    if hasattr(params, "named_parameters"):
        modules = {id(m): name for name, m in params.named_modules()}
        return {id(p): name for name, p in params.named_parameters()}, modules
    pairs = params.items() if hasattr(params, "items") else params
    return {id(p): name for name, p in pairs}, {}


def _module_name(module, module_names, param_names):
    """A module's dotted name; without a Module for ``params``, found from its parameters'."""
    name = module_names.get(id(module))
    if name is not None:
        return name
    for local, p in getattr(module, "named_parameters", lambda: ())():
        full = param_names.get(id(p))
        if full is not None and full.endswith(local):
            return full[:len(full) - len(local)].rstrip(".")
    return None


def _groups(ops, module_names, expand):
    """{id(op node): (module, call number)} for the ops inside a module call drawn as one box:
    the outermost call that is not the root (its name is "" or it holds every op) and not
    expanded. Ops outside any such call stay boxes of their own."""
    counts = {}
    for node in ops:
        for call in node.scope or ():
            counts[call] = counts.get(call, 0) + 1
    group_of = {}
    for node in ops:
        for call in node.scope or ():
            name = module_names.get(id(call[0]))
            if name == "" or name in expand or counts[call] == len(ops):
                continue
            group_of[id(node)] = call
            break
    return group_of


def _owning_call(leaf, users):
    """The module call a parameter leaf is drawn inside: every op using it is in that call
    (``users`` holds one call, not None) and the call's module owns it. Inputs and weights
    shared between calls stay outside."""
    if len(users) != 1:
        return None
    (call,) = users
    if call is None:
        return None
    owned = getattr(call[0], "parameters", lambda: ())()
    return call if any(p is leaf for p in owned) else None


def _describe(obj, node_id, param_names, module_names, members, show_grads):
    if _is_output(obj):
        t = obj.tensor
        return GraphNode(node_id, "output", f"output {obj.position}" if obj.position else
                         "output", [_tensor_line(t)])
    if type(obj) is Node:
        lines = [_saved_line(obj)] if obj.saved is not None else []
        if obj.n_outputs > 1:
            lines.append(f"{obj.n_outputs} outputs")
        return GraphNode(node_id, "op", obj.name(), lines)
    if type(obj) is tuple:                               # a module call
        return _describe_module(obj, node_id, param_names, module_names, members[obj],
                                show_grads)
    name = param_names.get(id(obj))
    node = GraphNode(node_id, "leaf", name or "leaf", [_tensor_line(obj),
                                                        f"requires_grad={obj.requires_grad}"],
                     is_parameter=name is not None)
    if show_grads and obj.grad is not None:
        node.grad_norm = _norm([obj.grad])
        node.lines.append(f"|grad| {node.grad_norm:.3g}")
    return node


def _describe_module(call, node_id, param_names, module_names, members, show_grads):
    module = call[0]
    ops = [m for m in members if type(m) is Node]
    params = [m for m in members if type(m) is not Node]
    name = _module_name(module, module_names, param_names) or type(module).__name__
    lines = [type(module).__name__, f"{_count(len(ops), 'op')}, {_count(len(params), 'param')}"]
    node = GraphNode(node_id, "module", name, lines, members=members)
    grads = [p.grad for p in params if p.grad is not None]
    if show_grads and grads:
        node.grad_norm = _norm(grads)
        lines.append(f"|grad| {node.grad_norm:.3g}")
    return node


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _tensor_line(t):
    return f"{tuple(t.shape)} {t.dtype} {t.device}"


def _saved_line(node):
    """The shapes an op saved for backward, or that they were freed by a backward pass."""
    if node.saved is _FREED:
        return "saved: freed"
    shapes = []
    for kind, item, _, _ in node.saved:
        if kind == _SAVED_CONSTANT and not hasattr(item, "shape"):
            shapes.append(repr(item))
        elif kind == _SAVED_INPUT or kind == _SAVED_CONSTANT:
            shapes.append(str(tuple(item.shape)))
        else:
            shapes.append(str(tuple(item[0].shape)))    # an output: (array, index)
    return "saved " + ", ".join(shapes)


def _norm(grads):
    """The 2-norm of all the gradients together, as a Python float (on any device)."""
    return math.sqrt(sum(float((g.array.astype("float64") ** 2).sum()) for g in grads))

"""``draw_graph``: the backward graph drawn with matplotlib alone (no Graphviz binary).

The layout is Sugiyama's layered drawing, kept simple:

1. Layers by topological depth: a box sits one layer below the lowest box with an arrow into it
   (longest path from the outputs), so every arrow points down, outputs at the top, leaves low.
2. Order within each layer by the barycenter heuristic: a box moves towards the mean position
   of its neighbours in the layers already placed; sweeps alternate down and up, which removes
   most crossings (Sugiyama, Tagawa and Toda, 1981).
3. Coordinates: layers are rows, boxes spread evenly in each row, centred.

This stays readable to a few hundred boxes; larger graphs collapse module calls into boxes
(``graph.py``). matplotlib is imported only here, when a drawing is asked for.
"""

from pathlib import Path

from tinygen.viz.dot import color_of
from tinygen.viz.graph import build_graph

SWEEPS = 8                      # barycenter passes (down + up); more rarely helps
FORMATS = (".png", ".svg", ".pdf")
FONT_SIZE = 8
CHAR_WIDTH = 0.075              # inches per character of the monospace font at FONT_SIZE
LINE_HEIGHT = 0.16              # inches per label line
MAX_PIXELS = 30000              # keep huge graphs under matplotlib's image size limits


def draw_graph(output, path=None, params=None, show_grads=True, expand=(), collapse=None):
    """Draw the backward graph of ``output`` (a tensor, or several).

    One box per op (its name and the shapes it saved), per leaf and per named parameter (name
    from ``params``: an ``nn.Module``, a dict or ``named_parameters()``; shape, dtype, device,
    ``requires_grad``, and ``|grad|`` after backward when ``show_grads``), arrows in the direction
    gradients flow. ``collapse`` (default: above ``COLLAPSE_ABOVE`` ops) draws each module call
    as one box; ``expand=("blocks.0",)`` opens the named ones.

    Saves to ``path`` (.png, .svg or .pdf, by extension) and returns None, or returns the
    matplotlib Figure when ``path`` is None (Jupyter shows it inline).
    """
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise ValueError(f"draw_graph: cannot tell the format of {str(path)!r}; use a path "
                         f"ending in one of {FORMATS}")
    graph = build_graph(output, params=params, show_grads=show_grads, expand=expand,
                        collapse=collapse)
    figure = _draw(graph)
    if path is None:
        return figure
    import matplotlib
    with matplotlib.rc_context({"svg.fonttype": "none"}):    # SVG text stays text
        figure.savefig(path, dpi=figure.dpi)
    return None


def layout(graph):
    """Where to draw: ``({box id: (column, row)}, {edge: [(column, row), ...]})``.

    Rows are layers (0 at the top), columns are centred on 0. An arrow that skips layers gets a
    chain of invisible points, one per layer it crosses, ordered with the boxes (the standard
    "dummy nodes"), so long arrows bend around boxes instead of running through them; the
    second dict gives those points for each such edge.
    """
    children = {n.id: [] for n in graph.nodes}
    parents = {n.id: [] for n in graph.nodes}
    depth = _depths(graph, children, parents)
    routes = {}
    for a, b in graph.edges:
        chain = [("via", a, b, row) for row in range(depth[a] + 1, depth[b])]
        for point, row in zip(chain, range(depth[a] + 1, depth[b])):
            depth[point] = row
            children[point], parents[point] = [], []
        if chain:
            routes[(a, b)] = chain
        hops = [a] + chain + [b]
        for u, v in zip(hops, hops[1:]):
            children[u].append(v)
            parents[v].append(u)
    layers = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for item in [n.id for n in graph.nodes] + [p for chain in routes.values() for p in chain]:
        layers[depth[item]].append(item)          # boxes in first-met order: a good start
    x = {}
    _place(layers, x)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        for layer in (layers[1:] if down else reversed(layers[:-1])):
            neighbours = parents if down else children
            layer.sort(key=lambda i: _barycenter(i, neighbours, x))
            _place([layer], x)
    _straighten(layers, x, parents, children)
    positions = {n.id: (x[n.id], depth[n.id]) for n in graph.nodes}
    return positions, {edge: [(x[p], depth[p]) for p in chain] for edge, chain in routes.items()}


def _depths(graph, children, parents):
    """Longest-path layering in topological order (Kahn's algorithm); fills the adjacency."""
    for a, b in graph.edges:
        children[a].append(b)
        parents[b].append(a)
    waiting = {i: len(parents[i]) for i in parents}
    ready = [n.id for n in graph.nodes if waiting[n.id] == 0]
    depth = {i: 0 for i in ready}
    while ready:
        a = ready.pop()
        for b in children[a]:
            depth[b] = max(depth.get(b, 0), depth[a] + 1)
            waiting[b] -= 1
            if waiting[b] == 0:
                ready.append(b)
    for i in children:                            # the layering is done: keep only the ids
        children[i], parents[i] = [], []
    return depth


def _place(layers, x):
    for layer in layers:
        for column, i in enumerate(layer):
            x[i] = column - (len(layer) - 1) / 2


def _straighten(layers, x, parents, children, passes=12):
    """Columns that keep each layer's order and one column of space, but pull every item
    towards the mean column of its neighbours and its evenly spread start (which keeps deep
    graphs from drifting sideways): arrows run straight where they can. The closest spaced
    columns to the wanted ones, packed from the left and from the right, are averaged (both
    keep the spacing, so their mean does too)."""
    start = dict(x)
    for _ in range(passes):
        for layer in layers:
            want = [sum([x[j] for j in parents[i] + children[i]], start[i])
                    / (1 + len(parents[i]) + len(children[i])) for i in layer]
            left, right = [], []
            for w in want:
                left.append(w if not left else max(w, left[-1] + 1))
            for w in reversed(want):
                right.append(w if not right else min(w, right[-1] - 1))
            for i, a, b in zip(layer, left, reversed(right)):
                x[i] = (a + b) / 2
    middle = (min(x.values()) + max(x.values())) / 2
    for i in x:
        x[i] -= middle


def _barycenter(i, neighbours, x):
    """Mean column of the placed neighbours; a box with none keeps its column."""
    placed = [x[j] for j in neighbours[i]]
    return sum(placed) / len(placed) if placed else x[i]


def _draw(graph):
    """A matplotlib Figure of the laid-out graph; boxes and arrows carry SVG ids
    ("node-3", "edge-3-5") so tests and scripts can find them in an SVG."""
    from matplotlib.figure import Figure

    position, routes = layout(graph)
    points = list(position.values()) + [p for route in routes.values() for p in route]
    rows = 1 + max(r for _, r in points)
    columns = 1 + max(c for c, _ in points) - min(c for c, _ in points)
    widest = max(max(len(s) for s in n.label.split("\n")) for n in graph.nodes)
    tallest = max(n.label.count("\n") + 1 for n in graph.nodes)
    col_in = widest * CHAR_WIDTH + 0.35           # inches between box centres
    row_in = tallest * LINE_HEIGHT + 0.45
    width, height = max(3.0, columns * col_in), max(2.0, rows * row_in)
    figure = Figure(figsize=(width, height), dpi=min(100, MAX_PIXELS / max(width, height)))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(-width / 2, width / 2)
    ax.set_ylim(-height + row_in / 2, row_in / 2)

    def at(column, row):
        return column * col_in, -row * row_in

    boxes = {}
    for node in graph.nodes:
        boxes[node.id] = ax.text(
            *at(*position[node.id]), node.label, ha="center", va="center",
            fontsize=FONT_SIZE, family="monospace", gid=f"node-{node.id}",
            bbox={"boxstyle": "round,pad=0.35", "facecolor": color_of(node),
                  "edgecolor": "#555555", "linewidth": 0.8})
    style = {"color": "#444444", "linewidth": 0.8, "shrinkA": 4, "shrinkB": 4,
             "mutation_scale": 8}
    for a, b in graph.edges:
        via = [at(*p) for p in routes.get((a, b), ())]
        starts = [((0.5, 0.0), boxes[a])] + [(p, "data") for p in via]
        ends = [(p, "data") for p in via] + [((0.5, 1.0), boxes[b])]
        for k, ((xytext, textcoords), (xy, xycoords)) in enumerate(zip(starts, ends)):
            last = k == len(via)
            arrow = ax.annotate("", xy=xy, xycoords=xycoords, xytext=xytext,
                                textcoords=textcoords, arrowprops={
                                    **style, "arrowstyle": "-|>" if last else "-",
                                    "shrinkA": 4 if k == 0 else 0, "shrinkB": 4 if last else 0})
            arrow.arrow_patch.set_gid(f"edge-{a}-{b}" if last else f"edge-{a}-{b}-part{k}")
    return figure

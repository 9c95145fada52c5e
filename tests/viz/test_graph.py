"""tg.viz: the graph structure, its drawing (parsed back from SVG), DOT text and module boxes."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.viz import graph as graph_module

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def affine_tanh(device, rng):
    """loss = sum(tanh(x * w + b)), x a constant: four ops, two leaves."""
    x = tg.tensor(rng.standard_normal((4, 3)), device=device)
    w = tg.tensor(rng.standard_normal(3), device=device, requires_grad=True)
    b = tg.tensor(rng.standard_normal(3), device=device, requires_grad=True)
    return (x * w + b).tanh().sum(), w, b


AFFINE_EDGES = [("AddBackward", "MulBackward"), ("AddBackward", "b"), ("MulBackward", "w"),
                ("SumBackward", "TanhBackward"), ("TanhBackward", "AddBackward"),
                ("output", "SumBackward")]


def test_known_graph(device, rng):
    loss, w, b = affine_tanh(device, rng)
    graph = tg.viz.build_graph(loss, params={"w": w, "b": b})
    assert graph.titles("op") == ["AddBackward", "MulBackward", "SumBackward", "TanhBackward"]
    assert graph.titles("leaf") == ["b", "w"]
    assert graph.titles("output") == ["output"]
    assert graph.edge_titles() == AFFINE_EDGES
    (leaf_w,) = [n for n in graph.nodes if n.title == "w"]
    assert leaf_w.is_parameter
    assert leaf_w.lines[:2] == [f"(3,) float64 {w.device}", "requires_grad=True"]


def test_names_from_named_parameters_pairs(rng):
    loss, w, b = affine_tanh("cpu", rng)
    graph = tg.viz.build_graph(loss, params=[("weight", w)])
    assert graph.titles("leaf") == ["leaf", "weight"]


def test_shared_leaf_is_one_box(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    graph = tg.viz.build_graph((x * x + x).sum())
    assert graph.titles("leaf") == ["leaf"]
    assert graph.edge_titles() == [("AddBackward", "MulBackward"), ("AddBackward", "leaf"),
                                   ("MulBackward", "leaf"), ("SumBackward", "AddBackward"),
                                   ("output", "SumBackward")]


def test_several_outputs_and_a_leaf_output(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    a, b = x.exp(), x.sin()
    graph = tg.viz.build_graph([a, b, x])
    assert graph.titles("output") == ["output", "output 1", "output 2"]
    assert graph.edge_titles() == [("ExpBackward", "leaf"), ("SinBackward", "leaf"),
                                   ("output", "ExpBackward"), ("output 1", "SinBackward"),
                                   ("output 2", "leaf")]


def test_saved_shapes_then_freed(rng):
    loss, w, b = affine_tanh("cpu", rng)
    ops = {n.title: n for n in tg.viz.build_graph(loss).of_kind("op")}
    assert ops["MulBackward"].lines == ["saved (4, 3), (3,)"]
    assert ops["TanhBackward"].lines == ["saved (4, 3)"]
    loss.backward()
    ops = {n.title: n for n in tg.viz.build_graph(loss).of_kind("op")}
    assert ops["MulBackward"].lines == ["saved: freed"]


def test_gradient_norms_equal_the_leaves_grads(device, rng):
    loss, w, b = affine_tanh(device, rng)
    assert all(n.grad_norm is None for n in tg.viz.build_graph(loss).nodes)
    loss.backward()
    graph = tg.viz.build_graph(loss, params={"w": w, "b": b})
    for leaf, tensor in [("w", w), ("b", b)]:
        (node,) = [n for n in graph.nodes if n.title == leaf]
        expected = np.linalg.norm(tensor.grad.cpu().numpy())
        assert node.grad_norm == pytest.approx(expected, rel=1e-12)
        assert node.lines[-1] == f"|grad| {expected:.3g}"
    hidden = tg.viz.build_graph(loss, params={"w": w}, show_grads=False)
    assert all(n.grad_norm is None for n in hidden.nodes)


def test_double_backward_graph(rng):
    """A gradient penalty: the graph of |d loss / dx|^2 holds the backward ops themselves."""
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    w = tg.tensor(rng.standard_normal(3), requires_grad=True)
    (g,) = tg.autograd.grad((x * w).tanh().sum(), x, create_graph=True)
    penalty = (g * g).sum()
    graph = tg.viz.build_graph(penalty, params={"x": x, "w": w})
    ops = graph.titles("op")
    assert "TanhBackwardBackward" in ops and ops.count("MulBackward") >= 2
    assert graph.titles("leaf") == ["w", "x"]
    penalty.backward()
    graph = tg.viz.build_graph(penalty, params={"x": x, "w": w})
    norms = {n.title: n.grad_norm for n in graph.of_kind("leaf")}
    assert norms["w"] == pytest.approx(np.linalg.norm(w.grad.cpu().numpy()))


def svg_ids_and_text(path):
    root = ET.parse(path).getroot()
    ids = [el.get("id") for el in root.iter() if el.get("id", "").startswith(("node-", "edge-"))]
    text = " ".join("".join(el.itertext()) for el in root.iter(f"{SVG}text"))
    return ids, text


def test_svg_has_exactly_the_boxes_and_arrows(tmp_path, rng):
    loss, w, b = affine_tanh("cpu", rng)
    loss.backward()
    graph = tg.viz.build_graph(loss, params={"w": w, "b": b})
    path = tmp_path / "graph.svg"
    assert tg.viz.draw_graph(loss, path, params={"w": w, "b": b}) is None
    ids, text = svg_ids_and_text(path)
    boxes = sorted(int(i.split("-")[1]) for i in ids if i.startswith("node-"))
    arrows = sorted(tuple(map(int, i.split("-")[1:])) for i in ids if i.startswith("edge-"))
    assert boxes == [n.id for n in graph.nodes]
    assert arrows == sorted(graph.edges)
    for node in graph.nodes:
        for line in node.label.split("\n"):
            assert line in text
    assert f"|grad| {np.linalg.norm(w.grad.cpu().numpy()):.3g}" in text


def test_png_and_returned_figure(tmp_path, rng):
    from matplotlib.figure import Figure

    loss, _, _ = affine_tanh("cpu", rng)
    path = tmp_path / "graph.png"
    tg.viz.draw_graph(loss, path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    figure = tg.viz.draw_graph(loss)
    assert isinstance(figure, Figure)
    assert {t.get_gid() for t in figure.axes[0].texts} - {None} == {f"node-{i}" for i in range(7)}
    with pytest.raises(ValueError, match="format"):
        tg.viz.draw_graph(loss, tmp_path / "graph.jpeg")


def test_layout_layers_point_down_and_do_not_overlap(rng):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    y = x
    for _ in range(5):
        y = y.tanh() + x                         # long arrows from every Add down to x
    graph = tg.viz.build_graph(y.sum())
    position, routes = tg.viz.layout(graph)
    assert all(position[a][1] < position[b][1] for a, b in graph.edges)
    places = list(position.values()) + [p for route in routes.values() for p in route]
    assert len(set(places)) == len(places)
    for (a, b), route in routes.items():
        assert [r for _, r in route] == list(range(position[a][1] + 1, position[b][1]))


def count_crossings(graph, position, routes):
    segments = []
    for a, b in graph.edges:
        hops = [position[a]] + routes.get((a, b), []) + [position[b]]
        segments += list(zip(hops, hops[1:]))
    return sum(1 for (p, q) in segments for (r, s) in segments
               if p[1] == r[1] and (p[0] - r[0]) * (q[0] - s[0]) < 0)


def test_barycenter_order_removes_crossings(rng):
    """Two independent chains whose leaves are met in the opposite order cross unless the
    layers are reordered."""
    a = tg.tensor(rng.standard_normal(2), requires_grad=True)
    b = tg.tensor(rng.standard_normal(2), requires_grad=True)
    y = (b.exp().sin() * a.cos().exp()).sum()
    graph = tg.viz.build_graph(y)
    assert count_crossings(graph, *tg.viz.layout(graph)) == 0


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        return x + self.fc2(self.fc1(x).tanh())


class Net(nn.Module):
    def __init__(self, n_blocks):
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in range(n_blocks)])
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def net_loss(rng, n_blocks=3):
    tg.manual_seed(0)
    model = Net(n_blocks)
    x = tg.tensor(rng.standard_normal((5, 4)), dtype=tg.float32)
    return (model(x) ** 2).mean(), model


def test_collapsing_gives_one_box_per_module_call(rng):
    loss, model = net_loss(rng)
    loss.backward()
    graph = tg.viz.build_graph(loss, params=model, collapse=True)
    assert graph.titles("module") == ["blocks.0", "blocks.1", "blocks.2", "head"]
    assert graph.titles("leaf") == []                # every parameter sits in its module box
    assert graph.edge_titles() == [
        ("DivBackward", "SumBackward"), ("PowBackward", "head"), ("SumBackward", "PowBackward"),
        ("blocks.1", "blocks.0"), ("blocks.2", "blocks.1"), ("head", "blocks.2"),
        ("output", "DivBackward")]
    (head,) = [n for n in graph.nodes if n.title == "head"]
    assert head.lines[:2] == ["Linear", "1 op, 2 params"]
    grads = [p.grad.cpu().numpy().ravel() for p in model.head.parameters()]
    assert head.grad_norm == pytest.approx(np.linalg.norm(np.concatenate(grads)), rel=1e-6)
    full = tg.viz.build_graph(loss, params=model, collapse=False)
    assert sum(len(n.members) for n in graph.of_kind("module")) == (
        len(full.nodes) - len(graph.nodes) + len(graph.of_kind("module")))


def test_expand_opens_one_module(rng):
    loss, model = net_loss(rng)
    graph = tg.viz.build_graph(loss, params=model, collapse=True, expand=("blocks.1",))
    assert graph.titles("module") == ["blocks.0", "blocks.1.fc1", "blocks.1.fc2", "blocks.2",
                                      "head"]
    assert ("AddBackward", "blocks.1.fc2") in graph.edge_titles()   # the block's residual add
    assert ("TanhBackward", "blocks.1.fc1") in graph.edge_titles()


def test_a_module_called_twice_gives_two_boxes(rng):
    tg.manual_seed(0)
    layer = nn.Linear(3, 3)
    x = tg.tensor(rng.standard_normal((2, 3)), dtype=tg.float32)
    y = layer(layer(x).tanh()).sum()
    graph = tg.viz.build_graph(y, params={"layer." + k: v for k, v in layer.named_parameters()},
                               collapse=True)
    assert graph.titles("module") == ["layer", "layer"]
    assert graph.titles("leaf") == ["layer.bias", "layer.weight"]   # shared by both calls


def test_large_graphs_collapse_on_their_own(rng, monkeypatch):
    loss, model = net_loss(rng)
    assert tg.viz.build_graph(loss, params=model).titles("module") == []
    monkeypatch.setattr(graph_module, "COLLAPSE_ABOVE", 5)
    assert len(tg.viz.build_graph(loss, params=model).titles("module")) == 4


def test_to_dot(rng):
    loss, w, b = affine_tanh("cpu", rng)
    graph = tg.viz.build_graph(loss, params={"w": w, "b": b})
    dot = tg.viz.to_dot(loss, params={"w": w, "b": b})
    assert dot.startswith("digraph tinygen {") and dot.rstrip().endswith("}")
    labels = dict(re.findall(r'^  n(\d+) \[label="(.*?)", fillcolor', dot, re.M))
    assert {int(k): v.replace("\\n", "\n") for k, v in labels.items()} == {
        n.id: n.label for n in graph.nodes}
    edges = [tuple(map(int, e)) for e in re.findall(r"^  n(\d+) -> n(\d+);$", dot, re.M)]
    assert edges == graph.edges


def test_importing_tinygen_does_not_import_matplotlib():
    code = "import sys, tinygen; assert 'matplotlib' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)

"""A tour of tinygen's engine, in reading order. Run it whole, or cell by cell in an editor that
understands ``# %%`` cells (VS Code, PyCharm, Spyder, Jupytext).

    python examples/tour.py                  # pictures go to runs/tour/
    python examples/tour.py --tiny --out DIR # the small configuration the test suite runs

Each cell names the file and function it is about: open them next. Every claim the tour makes
is checked, and a failed check stops it with an error.
"""

# %% Setup: arguments, and a check that stays on under `python -O`
import argparse
import math
import os
import time
from pathlib import Path

import numpy as np

import tinygen as tg
from tinygen import kernels, nn, optim
from tinygen.autograd import engine
from tinygen.autograd.function import Node
from tinygen.ops.elementwise import Tanh
from tinygen.ops.shape import sum_to

parser = argparse.ArgumentParser(description="A runnable tour of the tinygen engine.")
parser.add_argument("--tiny", action="store_true", default=bool(os.environ.get("TOUR_TINY")),
                    help="small sizes and few steps (the test suite's configuration)")
parser.add_argument("--out", default="runs/tour", help="folder for the pictures")
args, _ = parser.parse_known_args()        # known args only: Jupyter passes its own
OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)


def check(condition, message):
    """Raise when a claim of the tour is false."""
    if not condition:
        raise AssertionError(f"tour check failed: {message}")
    print(f"  ok: {message}")


# %% 1. A tensor and its array -- tinygen/tensor.py, class Tensor
# A Tensor wraps one NumPy (or CuPy) array. `Tensor(array)` does not copy: `.array` is the
# very same object. Autograd adds `requires_grad`, `grad` and `grad_fn` around it.
a = np.array([[1.0, 2.0], [3.0, 4.0]])
x = tg.Tensor(a)
print(x, x.shape, x.dtype, x.device)
check(x.array is a, "Tensor(array) wraps the array itself, no copy")
check(x.grad_fn is None and x.is_leaf and not x.requires_grad, "a new tensor is a leaf")

# %% 2. One op, forward and backward -- tinygen/ops/elementwise.py, class Tanh
# Tanh.forward sees raw arrays and saves its output y; Tanh.backward sees Tensors and returns
# grad_y * (1 - y**2). `apply` (tinygen/autograd/function.py) runs forward and records a node.
x = tg.tensor([-1.0, 0.0, 0.5, 2.0], dtype=tg.float64, requires_grad=True)
y = x.tanh()
print("y.grad_fn =", y.grad_fn, "  its inputs:", y.grad_fn.next_edges)
check(y.grad_fn.fn is Tanh, "the output remembers the op that made it")
grad_y = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64)
with tg.no_grad():
    grad_x = Tanh.backward(y.grad_fn, grad_y)   # the node is the ctx forward filled in
check(np.allclose(grad_x.numpy(), grad_y.numpy() * (1 - np.tanh(x.detach().numpy()) ** 2)),
      "Tanh.backward gives grad_y * (1 - tanh(x)**2)")

# %% 3. The graph an expression builds, drawn -- tinygen/viz/graph.py, build_graph; draw.py
# Each recorded op is a node; arrows point the way gradients flow, from the output down to the
# leaves. `draw_graph` needs only matplotlib; `to_dot` gives the same graph for Graphviz.
tg.manual_seed(0)
x = tg.randn(4, 3, dtype=tg.float64)
w = tg.randn(3, dtype=tg.float64, requires_grad=True)
b = tg.randn(3, dtype=tg.float64, requires_grad=True)
loss = (x * w + b).tanh().sum()
graph = tg.viz.build_graph(loss, params={"w": w, "b": b})
for node in graph.nodes:
    print(f"  box {node.id}: {node.label.replace(chr(10), ' | ')}")
check(graph.titles("op") == ["AddBackward", "MulBackward", "SumBackward", "TanhBackward"],
      "four ops: mul, add, tanh, sum")
tg.viz.draw_graph(loss, OUT / "graph_small.png", params={"w": w, "b": b})
print(f"  drew {OUT / 'graph_small.png'}")

# %% 4. The backward walk, step by step -- tinygen/autograd/engine.py, _topological_order, _run
# The engine orders the nodes so each comes before the nodes its inputs came from, then walks
# that order once: a node's incoming gradient is complete when it is reached. Here the walk is
# redone by hand (what `_run` and `_propagate` do), printing each step.
order = engine._topological_order([loss.grad_fn])
print("  order:", [node.name() for node in order])
expected = tg.autograd.grad(loss, (w, b), retain_graph=True)   # the engine's own answer
pending = {loss.grad_fn: tg.ones_like(loss)}
leaf_grads = {}
with tg.no_grad():
    for step, node in enumerate(order):
        grad_out = pending.pop(node)
        grads_in = node.fn.backward(node, grad_out)
        grads_in = grads_in if isinstance(grads_in, tuple) else (grads_in,)
        print(f"  step {step}: {node.name():13s} gets grad {tuple(grad_out.shape)}, sends",
              [None if g is None else tuple(g.shape) for g in grads_in])
        for edge, g, meta in zip(node.next_edges, grads_in, node.input_meta):
            if edge is None or g is None:         # not a tensor, or needs no gradient
                continue
            g = sum_to(g, meta[0])                # undo broadcasting, once, for every op
            target = edge[0]                      # a Node, or a leaf tensor
            store = pending if isinstance(target, Node) else leaf_grads
            store[target] = store[target] + g if target in store else g
check(np.allclose(leaf_grads[w].numpy(), expected[0].numpy())
      and np.allclose(leaf_grads[b].numpy(), expected[1].numpy()),
      "the hand-made walk gives the engine's gradients")

# %% 5. Gradients accumulate -- tinygen/autograd/engine.py, _accumulate
# backward() adds into .grad; it never overwrites. So a training loop clears .grad each step,
# and a tensor used twice receives the sum of both paths.
u = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
(u * u).sum().backward()                         # d/du sum(u*u) = 2u: u is used twice
first = u.grad.numpy().copy()
(u * u).sum().backward()
check(np.allclose(first, 2 * u.detach().numpy()), "both uses of u add up: grad = 2u")
check(np.allclose(u.grad.numpy(), 2 * first), "a second backward adds to .grad")
u.grad = None

# %% 6. create_graph: a second derivative -- tinygen/autograd/engine.py, grad
# With create_graph=True the backward pass is recorded too, so the gradient can be
# differentiated again. For y = tanh(x): y' = 1 - y^2 and y'' = -2 y (1 - y^2).
x = tg.tensor(np.linspace(-2, 2, 9), dtype=tg.float64, requires_grad=True)
y = x.tanh()
(dy,) = tg.autograd.grad(y.sum(), x, create_graph=True)
tg.viz.draw_graph(dy, OUT / "graph_second_derivative.png", params={"x": x})
print(f"  drew the gradient's own graph: {OUT / 'graph_second_derivative.png'}")
(d2y,) = tg.autograd.grad(dy.sum(), x)
t = np.tanh(x.detach().numpy())
check(np.allclose(dy.detach().numpy(), 1 - t ** 2), "first derivative 1 - tanh^2")
check(np.allclose(d2y.numpy(), -2 * t * (1 - t ** 2)), "second derivative -2 tanh (1 - tanh^2)")


# %% 7. gradcheck catches a wrong backward -- tinygen/autograd/gradcheck.py, gradcheck
# gradcheck compares backward with central finite differences, with a random upstream
# gradient. A backward with the wrong constant (2x^2 instead of 3x^2) cannot hide.
class WrongCube(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * 2 * x ** 2                # wrong on purpose: d(x^3)/dx = 3x^2


x = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
try:
    tg.autograd.gradcheck(WrongCube.apply, (x,))
    caught = None
except tg.autograd.GradcheckError as error:
    caught = error
    print("  gradcheck says:", error)
check(caught is not None, "gradcheck rejects the wrong backward")


# %% 8. A custom Function -- tinygen/autograd/function.py, Function.apply
# An ArrayFunction's forward sees the raw arrays (as tinygen's own ops do: here NumPy's
# logaddexp), backward sees Tensors and is written in tensor ops, so the op has second
# derivatives too. softplus(x) = log(1 + e^x), derivative sigmoid(x). (A plain Function's
# forward gets Tensors, as in PyTorch: WrongCube above.)
class Softplus(tg.autograd.ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)                 # log(1 + e^x) without overflow

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * x.sigmoid()


x = tg.tensor(np.random.default_rng(0).standard_normal(5), requires_grad=True)
check(tg.autograd.gradcheck(Softplus.apply, (x,)), "Softplus passes gradcheck")
check(tg.autograd.gradgradcheck(Softplus.apply, (x,)), "and gradgradcheck")

# %% 9. A fused kernel beside its reference -- tinygen/kernels/reference.py and cpu_norm.py
# kernels/reference.py is the specification in plain NumPy: layer_norm there makes several
# passes over the array (mean, centre, variance, scale), each with a temporary. The fused twin
# (Numba on CPU, CuPy on CUDA) does one pass per row and must give the same numbers.
# kernels.layer_norm dispatches; kernels.use("reference") forces the specification.
rows, cols, repeat = (64, 128, 5) if args.tiny else (4096, 1024, 20)
z = np.random.default_rng(0).standard_normal((rows, cols)).astype(np.float32)
weight, bias = np.full(cols, 1.5, np.float32), np.full(cols, 0.1, np.float32)
fused_out = kernels.layer_norm(z, weight, bias, 1e-5)   # the first call compiles (or loads)
with kernels.use("reference"):
    reference_out = kernels.layer_norm(z, weight, bias, 1e-5)
check(all(np.allclose(f, r, rtol=1e-4, atol=1e-5) for f, r in zip(fused_out, reference_out)),
      f"{kernels.path('layer_norm', z)} layer_norm equals the reference (y, mean, rstd)")


def best_time(fn):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


fused_s = best_time(lambda: kernels.layer_norm(z, weight, bias, 1e-5))
with kernels.use("reference"):
    reference_s = best_time(lambda: kernels.layer_norm(z, weight, bias, 1e-5))
print(f"  layer_norm of ({rows}, {cols}) float32: {kernels.path('layer_norm', z)} "
      f"{fused_s * 1e6:.0f} us, reference {reference_s * 1e6:.0f} us "
      f"(fused speed-up {reference_s / fused_s:.1f}x)")

# %% 10. A 2-layer MLP trained, drawn and profiled -- tinygen/nn/linear.py, tinygen/optim/
# nn.Linear and the optimizer are built on everything above. The model fits sin(x); its graph
# is drawn with parameter names, and one training step is profiled op by op
# (tinygen/autograd/profiler.py).
tg.manual_seed(0)
steps, hidden = (60, 16) if args.tiny else (1500, 64)
xs = tg.tensor(np.linspace(-math.pi, math.pi, 128, dtype=np.float32).reshape(-1, 1))
ys = xs.sin()
model = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))
opt = optim.Adam(model.parameters(), lr=0.02)
losses = []
for step in range(steps):
    loss = ((model(xs / math.pi) - ys) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(f"  loss {losses[0]:.4f} -> {losses[-1]:.4f} in {steps} steps")
check(losses[-1] < 0.5 * losses[0], "training halves the loss at least")

with tg.autograd.profile() as prof:
    loss = ((model(xs / math.pi) - ys) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print(prof.table(sort_by="total", top=10))
prof.export_chrome_trace(OUT / "mlp_step_trace.json")
calls = {row.name: row.calls for row in prof.key_averages()}
check(calls.get("Tanh") == 1 and sum(1 for e in prof.events if e.phase == "backward") >= 5,
      "the profiler saw each op of the step")
tg.viz.draw_graph(loss, OUT / "graph_mlp.png", params=model)
tg.viz.draw_graph(loss, OUT / "graph_mlp_modules.png", params=model, collapse=True)
graph = tg.viz.build_graph(loss, params=model, collapse=True)
check(graph.titles("module") == ["0", "1", "2"], "collapsed, each layer call is one box")
print(f"  drew {OUT / 'graph_mlp.png'} and {OUT / 'graph_mlp_modules.png'}")
print("tour complete")

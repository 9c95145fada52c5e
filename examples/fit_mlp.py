"""Fit y = sin(x) with a two-layer tanh MLP, using nothing but tensors, autograd and plain SGD.

    python examples/fit_mlp.py             # 3000 steps, a few seconds on a laptop CPU
    python examples/fit_mlp.py --smoke     # 100 steps, for CI

Prints the loss as it falls and saves a picture of the fit to runs/fit_mlp.png.
"""

import argparse
import math
from pathlib import Path

import numpy as np

import tinygen as tg


def param(*shape):
    """A weight scaled by 1/sqrt(fan_in), so the tanh units start out of saturation."""
    return (tg.randn(*shape) / math.sqrt(shape[0])).requires_grad_()


def mlp(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h = ((x / math.pi) @ w1 + b1).tanh()   # inputs scaled to [-1, 1]
    h = (h @ w2 + b2).tanh()
    return h @ w3 + b3


def train(steps, lr=0.04, hidden=32):
    """Full-batch gradient descent on 256 points of sin(x), x in [-pi, pi]."""
    tg.manual_seed(0)
    x_np = np.linspace(-math.pi, math.pi, 256, dtype=np.float32).reshape(-1, 1)
    x, y = tg.tensor(x_np), tg.tensor(np.sin(x_np))
    params = [param(1, hidden), tg.zeros(hidden, requires_grad=True),
              param(hidden, hidden), tg.zeros(hidden, requires_grad=True),
              param(hidden, 1), tg.zeros(1, requires_grad=True)]
    log_every = max(steps // 10, 1)
    losses = []
    for step in range(steps + 1):
        loss = ((mlp(params, x) - y) ** 2).mean()
        loss.backward()
        with tg.no_grad():                 # the update itself must not be recorded
            for p in params:
                p -= lr * p.grad
                p.grad = None              # gradients accumulate, so clear them each step
        losses.append(loss.item())
        if step % log_every == 0 or step == steps:
            print(f"step {step:5d}  loss {losses[-1]:.6f}")
    return x, y, params, losses


def plot(x, y, params, losses, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with tg.no_grad():
        pred = mlp(params, x)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(x.numpy(), y.numpy(), color="0.6", linewidth=4, label="sin(x)")
    left.plot(x.numpy(), pred.numpy(), color="C1", label="MLP")
    left.set(title="fit", xlabel="x")
    left.legend()
    right.semilogy(losses)
    right.set(title="training loss (MSE)", xlabel="step")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="gradient steps (default 3000)")
    parser.add_argument("--smoke", action="store_true", help="run 100 steps only, as CI does")
    parser.add_argument("--out", default="runs", help="folder for the picture (default runs/)")
    args = parser.parse_args()

    x, y, params, losses = train(100 if args.smoke else args.steps)
    path = Path(args.out) / "fit_mlp.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    plot(x, y, params, losses, path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()

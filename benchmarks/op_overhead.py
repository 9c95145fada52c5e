"""Per-op overhead: a chain of 100 elementwise ops on a 16-element tensor, timed in tinygen and,
where it is installed, in PyTorch eager. At this size the arithmetic is free, so the figures
measure what each op costs in Python: building the graph, dispatching, and walking it backward.

It also measures what the profiler and module-scope hooks cost when they are off: the same chain
with ``Function.apply`` and the engine's ``_walk`` as they are (hooks compiled in, off) and
rebuilt from their source without the lines marked ``# hook`` (no hooks), alternating in one run.

    python benchmarks/op_overhead.py            # print a markdown table
    python benchmarks/op_overhead.py --write    # also record it in benchmarks/RESULTS.md
"""

import argparse
import contextlib
import inspect
import statistics
import textwrap
from pathlib import Path

import tinygen as tg
from tinygen.autograd import engine, function
from tinygen.bench.results import best_median_s, machine, publish

N_OPS = 100
SIZE = 16
TARGET = 1.5                               # tinygen within 1.5x of PyTorch eager
RESULTS = Path(__file__).with_name("RESULTS.md")
WHERE_THE_TIME_GOES = (
    "At 16 elements NumPy's arithmetic costs 0.2-0.4 µs a call; the rest is Python: a Node and an\n"
    "output Tensor per recorded op, and in backward one tensor op per input gradient (backward is\n"
    "written in tensor ops so that it can itself be differentiated). On a shared 2-core machine\n"
    "the ratio moves by a few hundredths from run to run.")
SECTION = "## op_overhead"
OPS = [lambda y, x: y * 1.01, lambda y, x: y + 0.1, lambda y, x: y.tanh(), lambda y, x: y * x]


def chain(x):
    y = x
    for i in range(N_OPS):
        y = OPS[i % len(OPS)](y, x)
    return y


def forward_backward(x):
    chain(x).sum().backward()
    x.grad = None


def forward_only(lib, x):
    with lib.no_grad():
        chain(x)


def best_median_us(fn):
    """Median time of one call in each round, best round, in microseconds."""
    return best_median_s(fn) * 1e6


def per_op_us(lib):
    """(forward + backward, forward under no_grad) in microseconds per op of the chain."""
    lib.manual_seed(0)
    x = lib.randn(SIZE, requires_grad=True)
    both = best_median_us(lambda: forward_backward(x))
    forward = best_median_us(lambda: forward_only(lib, x))
    return both / N_OPS, forward / N_OPS


@contextlib.contextmanager
def without_hooks():
    """Swap in ``Function.apply`` and ``engine._walk`` compiled without their ``# hook`` lines."""
    originals = [(function.Function, "apply", vars(function.Function)["apply"]),
                 (engine, "_walk", engine._walk)]
    replacements = []
    for owner, name, original in originals:
        module = function if owner is function.Function else engine
        source = textwrap.dedent(inspect.getsource(getattr(original, "__func__", original)))
        kept = [line for line in source.splitlines() if "# hook" not in line]
        assert len(kept) < len(source.splitlines()), f"no hook lines found in {name}"
        namespace = dict(vars(module))           # the module's globals, as the original sees
        exec("\n".join(kept), namespace)
        replacements.append((owner, name, namespace[name]))
    for owner, name, replacement in replacements:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def hook_cost_us(rounds=9):
    """Per op, (forward + backward, forward only), with the hooks compiled in but off and
    without them: pairs of runs, in alternating order so drift on a shared machine hits both
    alike. Returns the best of each and the per-pair differences."""
    with_hooks, without = [], []
    for i in range(rounds):
        for hooks in ((True, False) if i % 2 == 0 else (False, True)):
            if hooks:
                with_hooks.append(per_op_us(tg))
            else:
                with without_hooks():
                    without.append(per_op_us(tg))
    best = [tuple(min(r[k] for r in runs) for k in range(2)) for runs in (with_hooks, without)]
    differences = [[a[k] - b[k] for a, b in zip(with_hooks, without)] for k in range(2)]
    return best[0], best[1], differences


def hook_table(with_hooks, without, differences):
    rows = ["| per op, chain of 100 on shape (16,) float32 | hooks compiled in, off µs | "
            "no hooks µs | difference, median of pairs (range) |", "|---|---:|---:|---:|"]
    for k, name in enumerate(["forward + backward", "forward only (no_grad)"]):
        d = sorted(differences[k])
        rows.append(f"| {name} | {with_hooks[k]:.2f} | {without[k]:.2f} | "
                    f"{1e3 * statistics.median(d):+.0f} ns "
                    f"({100 * statistics.median(d) / without[k]:+.1f}%; "
                    f"{1e3 * d[0]:+.0f} to {1e3 * d[-1]:+.0f} ns) |")
    rows.append("\nThe hooks: two tests in `Function.apply` (the profiler, forward AD), one in "
                "its recording\nbranch for module scopes, one per backward() call in the engine. "
                "No hooks: the "
                "same functions rebuilt\nfrom their source without the lines marked `# hook`. "
                f"Best of {len(differences[0])} runs each, alternating;\nthe difference is the "
                "median over pairs of runs, with its range: noise on a shared machine.")
    return "\n".join(rows)


def table(ours, theirs):
    rows = ["| per op, chain of 100 on shape (16,) float32 | tinygen µs | PyTorch µs | ratio |",
            "|---|---:|---:|---:|"]
    for name, a, b in [("forward + backward", ours[0], theirs and theirs[0]),
                       ("forward only (no_grad)", ours[1], theirs and theirs[1])]:
        torch_us, ratio = (f"{b:.2f}", f"{a / b:.2f}x") if b else ("n/a", "n/a")
        rows.append(f"| {name} | {a:.2f} | {torch_us} | {ratio} |")
    rows.append(f"\nTarget: tinygen within {TARGET}x of PyTorch eager (ratio ≤ {TARGET}).")
    rows.append(f"\n{WHERE_THE_TIME_GOES}")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description="Per-op overhead of tinygen vs PyTorch.")
    parser.add_argument("--write", action="store_true", help=f"record the table in {RESULTS.name}")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None

    ours, without, differences = hook_cost_us()      # ours: as shipped, hooks in and off
    theirs = per_op_us(torch) if torch else None
    hooks = hook_table(ours, without, differences)
    section = (f"{SECTION}\n\n{machine(torch)}\n\n{table(ours, theirs)}\n\n"
               f"### Cost of the profiler hooks when off\n\n{hooks}\n")
    publish(section, RESULTS, args.write)


if __name__ == "__main__":
    main()

"""Per-op overhead: a chain of 100 elementwise ops on a 16-element tensor, timed in tinygen and,
where it is installed, in PyTorch eager. At this size the arithmetic is free, so the figures
measure what each op costs in Python: building the graph, dispatching, and walking it backward.

    python benchmarks/op_overhead.py            # print a markdown table
    python benchmarks/op_overhead.py --write    # also record it in benchmarks/RESULTS.md
"""

import argparse
import datetime
import os
import platform
import re
import statistics
import time
from pathlib import Path

import numpy as np

import tinygen as tg

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


def best_median_us(fn, rounds=7, calls=50, warmup=20):
    """Median time of one call in each round, best round, in microseconds."""
    for _ in range(warmup):
        fn()
    medians = []
    for _ in range(rounds):
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
    return min(medians) * 1e6


def per_op_us(lib):
    """(forward + backward, forward under no_grad) in microseconds per op of the chain."""
    lib.manual_seed(0)
    x = lib.randn(SIZE, requires_grad=True)
    both = best_median_us(lambda: forward_backward(x))
    forward = best_median_us(lambda: forward_only(lib, x))
    return both / N_OPS, forward / N_OPS


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


def machine(torch):
    """Where and with what the figures were measured, as a markdown list."""
    cpu = platform.processor() or "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = names[0] if names else cpu
    software = f"Python {platform.python_version()}, NumPy {np.__version__}"
    software += f", tinygen {tg.__version__}"
    software += f", PyTorch {torch.__version__}" if torch else ", PyTorch not installed"
    return (f"- machine: {cpu}, {os.cpu_count()} cores\n- software: {software}\n"
            f"- date: {datetime.date.today()}")


def write_results(section):
    """Replace this benchmark's section of RESULTS.md, creating the file when needed."""
    header = ("# Benchmark results\n\n"
              "Each section is written by the script of the same name in `benchmarks/`, run with\n"
              "`--write` on the machine named in it; running it again replaces the section.\n"
              "Times are the best of several rounds of the median of many calls, after warm-up.\n")
    text = RESULTS.read_text() if RESULTS.exists() else header
    pattern = re.compile(rf"^{SECTION}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main():
    parser = argparse.ArgumentParser(description="Per-op overhead of tinygen vs PyTorch.")
    parser.add_argument("--write", action="store_true", help=f"record the table in {RESULTS.name}")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None

    ours = per_op_us(tg)
    theirs = per_op_us(torch) if torch else None
    section = f"{SECTION}\n\n{machine(torch)}\n\n{table(ours, theirs)}\n"
    print(section)
    if args.write:
        write_results(section)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

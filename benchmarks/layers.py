"""Layer throughput: forward + backward of Linear, Conv2d, ConvTranspose2d (DCGAN sizes, batch 64)
and causal attention (GPT sizes) in float32, as achieved GFLOP/s against the machine's own float32
GEMM rate (a NumPy matmul of two large squares, measured in the same run), and against PyTorch
on the same shapes and thread count where it is installed.

    python benchmarks/layers.py            # print a markdown table
    python benchmarks/layers.py --write    # also record it in benchmarks/RESULTS.md

FLOPs count the multiply-adds of the matrix products (2 per multiply-add): forward once,
backward twice (input and weight gradients); attention counts the full T x T score matrix.
"""

import argparse
import json
import os
import textwrap
from pathlib import Path

import numpy as np

import tinygen as tg
from tinygen import nn
from tinygen.bench.results import (
    best_in_turns_ms, installed_torch, keep_best, machine, publish, run_child, run_timed)

SECTION = "## layers"
RESULTS = Path(__file__).with_name("RESULTS.md")
GEMM_SIZE = 1024
LINEAR_TARGET = 0.85                       # of the measured GEMM rate
CONV_TARGET = 1.5                          # at most 1.5x PyTorch's time
WHERE_THE_TIME_GOES = "\n".join(textwrap.fill(paragraph, 92, break_on_hyphens=False)
                                for paragraph in (
    "Where the time goes, Conv2d 64->128 at 2 threads (tinygen's profiler, one step of ~17-18 "
    "ms): the three GEMMs ~13-14 ms (OpenBLAS, ~180-190 GFLOP/s), im2col + col2im ~2.5-3 ms, "
    "and ~0.7 ms moving the GEMM's channel-major result into (N, C, H, W) order and the "
    "gradient back. PyTorch's whole step, a oneDNN convolution that builds no columns, takes "
    "~11.4 ms: our three GEMMs alone take 1.15-1.25x that. Within 1.5x the rest of a step "
    "would have to fit in 3-4 ms; ours takes ~4 (inside a step im2col and col2im run 1.5-2x "
    "slower than back to back, see below; memory is not what holds them: a core fills their "
    "13 MB of columns in 0.22 ms). Two fixes brought the step from ~20 ms: im2col and col2im "
    "gather through a per-geometry index table, one loop per channel, kernel offset and "
    "sample (1.7x faster than a loop per 7-wide output row), and tinygen sets "
    "OPENBLAS_THREAD_TIMEOUT so that OpenBLAS's idle threads sleep after ~0.1 ms instead of "
    "spinning ~0.1 s on the cores the kernels need (a 2-thread im2col right after a GEMM went "
    "from 4.8 to 1.3 ms). What is left is waking threads: a 2-thread im2col takes 0.6-0.9 ms "
    "right after another one but 1.0-1.3 ms after a GEMM or any idle millisecond, the time "
    "for the sleeping second core to start running again on this virtual machine; a step has "
    "two such wake-ups. Tried and dropped: a Numba kernel for the layout move (faster alone, "
    "no faster inside a DCGAN step); splitting the batch so each chunk's columns stay in "
    "cache (smaller GEMMs lost more than the cache won); letting Numba's threads spin before "
    "they sleep (GOMP_SPINCOUNT 3e3-3e4: no faster; 3e5: steps 35% slower, the spinning "
    "threads take the cores from OpenBLAS's); handing out im2col's rows in chunks to "
    "whichever thread is awake (numba.parallel_chunksize 16-64: no faster).",
    "Linear: the GEMM rate is a 1024x1024 product. The three 128-sided GEMMs of the Linear "
    "row, chained in bare NumPy on a quiet machine, run at 86-88% of the square rate with the "
    "forward taken weight-first, (W @ x^T)^T, as tinygen does for batches of up to 128 rows "
    "(OpenBLAS runs x @ W^T 15% slower at 128 rows, 2-3x slower at 2-16). Weight-first gives "
    "the result transposed, and copying it into row order costs 3-5 points of the rate, "
    "keeping the three results alive (as .grad and the output are) about 1 more: hence 79-84% "
    "for tinygen's row, and PyTorch's Linear is no faster. Returning the transposed view "
    "instead of the copy made the row ~2% and MLP GAN steps 5-7% faster, but a Linear's "
    "output would then not be contiguous, and y.view(...), which PyTorch scripts call on "
    "Linear outputs, would fail: tinygen keeps the copy. OpenBLAS's AVX2 kernels "
    "(OPENBLAS_CORETYPE=Haswell) instead of the AVX-512 ones it picks on this Zen 4 made the "
    "square GEMM 7% and the Linear row 13% faster (86% of the rate), but the DCGAN, conv VAE "
    "and MLP GAN training steps 3-17% slower, so tinygen leaves OpenBLAS's choice.",
    "tinygen (with the GEMM) and PyTorch run in separate processes (in one process their two "
    "OpenMP runtimes slow each other down), alternating three times; within a process every "
    "round times each row in turn, pausing between them. Each row keeps its best: single runs "
    "moved Conv2d 64->128 between 1.4x and 1.7x PyTorch with the machine's load.",
))


def conv_rows():
    """(name, layer class, args, input shape): the DCGAN layers for 28x28 images."""
    return [
        ("Conv2d 1->64 k4 s2 p1, 28x28", "Conv2d", (1, 64, 4, 2, 1), (64, 1, 28, 28)),
        ("Conv2d 64->128 k4 s2 p1, 14x14", "Conv2d", (64, 128, 4, 2, 1), (64, 64, 14, 14)),
        ("ConvTranspose2d 128->64 k4 s2 p1, 7x7", "ConvTranspose2d", (128, 64, 4, 2, 1),
         (64, 128, 7, 7)),
        ("ConvTranspose2d 64->1 k4 s2 p1, 14x14", "ConvTranspose2d", (64, 1, 4, 2, 1),
         (64, 64, 14, 14)),
    ]


def gemm_step():
    """One float32 (GEMM_SIZE)^2 NumPy matmul: the machine's GEMM rate, timed like the rows."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_SIZE, GEMM_SIZE), dtype=np.float32)
    b = rng.standard_normal((GEMM_SIZE, GEMM_SIZE), dtype=np.float32)
    return lambda: a @ b


def conv_flops(kind, args, shape):
    """Forward + backward FLOPs: 3 GEMMs of 2 * (output pixels) * (inputs per output)."""
    c_in, c_out, k, s, p = args
    n, _, h, w = shape
    if kind == "Conv2d":
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        return 3 * 2 * n * c_out * oh * ow * c_in * k * k
    return 3 * 2 * n * h * w * c_in * c_out * k * k         # the adjoint: same products


def cases(lib, lib_nn, lib_f):
    """(name, FLOPs, step) per row; step runs forward + backward once in library ``lib``."""
    lib.manual_seed(0)
    rows = []

    def step_of(layer, x, params):
        y = layer(x)
        grad = lib.randn(*y.shape)

        def step():
            layer(x).backward(grad)
            for t in params:
                t.grad = None
        return step

    linear = lib_nn.Linear(1024, 1024)
    x = lib.randn(128, 1024, requires_grad=True)
    rows.append(("Linear 1024->1024, batch 128", 3 * 2 * 128 * 1024 * 1024,
                 step_of(linear, x, [x, *linear.parameters()])))
    for name, kind, args, shape in conv_rows():
        layer = getattr(lib_nn, kind)(*args)
        x = lib.randn(*shape, requires_grad=True)
        rows.append((name, conv_flops(kind, args, shape),
                     step_of(layer, x, [x, *layer.parameters()])))
    attention = getattr(lib_f, "scaled_dot_product_attention", None)
    if attention is not None:
        B, nh, T, hs = 16, 6, 256, 64
        q, k, v = (lib.randn(B, nh, T, hs, requires_grad=True) for _ in range(3))
        rows.append((f"causal attention B={B} nh={nh} T={T} hs={hs}", 3 * 4 * B * nh * T * T * hs,
                     step_of(lambda q: attention(q, k, v, is_causal=True), q, [q, k, v])))
    return rows


def measure_here(side, threads):
    """{row name: (FLOPs, best ms)} for one library ("tinygen" or "torch") in this process; the
    tinygen side also times the GEMM (row "GEMM"), in turns with its rows."""
    if side == "torch":
        import torch
        torch.set_num_threads(threads)
        rows = cases(torch, torch.nn, torch.nn.functional)
    else:
        import tinygen.nn.functional as F
        rows = [("GEMM", 2 * GEMM_SIZE ** 3, gemm_step())] + cases(tg, nn, F)
    times = best_in_turns_ms([step for _, _, step in rows], rounds=12, calls=5, warmup=3)
    return {"rows": {name: (flops, ms) for (name, flops, _), ms in zip(rows, times)},
            "numba": numba_line()}


def measure_apart(side, threads):
    """``measure_here(side)`` in a fresh process. Each library gets its own: Numba's and
    PyTorch's OpenMP runtimes in one process slow each other down, each one's idle threads
    spinning on the cores the other needs (the small layers ran 2-3x slower either way)."""
    return run_child(__file__, ["--side", side, "--threads", str(threads)])


def measure(threads, repeats, with_torch):
    """The GEMM rate in GFLOP/s, [(name, flops, tinygen ms, PyTorch ms or None)] per row, and
    the line saying how tinygen's Numba kernels ran. The two libraries' processes alternate
    ``repeats`` times; each row keeps its best."""
    ours, theirs = {}, {}
    for _ in range(repeats):
        tinygen_side = measure_apart("tinygen", threads)
        keep_best(ours, {name: ms for name, (_, ms) in tinygen_side["rows"].items()})
        if with_torch:
            keep_best(theirs, {name: ms for name, (_, ms) in
                               measure_apart("torch", threads)["rows"].items()})
    flops = {name: row_flops for name, (row_flops, _) in tinygen_side["rows"].items()}
    gemm_ms = ours.pop("GEMM")
    results = [(name, flops[name], ms, theirs.get(name)) for name, ms in ours.items()]
    return flops["GEMM"] / gemm_ms / 1e6, results, tinygen_side["numba"]


def verdict(name, ms, gflops, gemm, torch_ms):
    if name.startswith("Linear"):
        met = gflops >= LINEAR_TARGET * gemm
        return f"≥ {LINEAR_TARGET:.0%} of GEMM: {'met' if met else 'MISSED'}"
    if name.startswith("Conv") and torch_ms:
        met = ms <= CONV_TARGET * torch_ms
        return f"≤ {CONV_TARGET}x PyTorch: {'met' if met else 'MISSED'}"
    return ""


def table(results, gemm, threads):
    rows = [f"Float32 GEMM rate ({GEMM_SIZE}x{GEMM_SIZE} NumPy matmul, {threads} threads): "
            f"**{gemm:.0f} GFLOP/s**.\n",
            "| forward + backward, float32 | tinygen ms | GFLOP/s | % of GEMM | PyTorch ms "
            "| ratio | target |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for name, flops, ms, torch_ms in results:
        gflops = flops / ms / 1e6
        theirs = (f"{torch_ms:.2f}", f"{ms / torch_ms:.2f}x") if torch_ms else ("n/a", "n/a")
        rows.append(f"| {name} | {ms:.2f} | {gflops:.0f} | {gflops / gemm:.0%} | {theirs[0]} "
                    f"| {theirs[1]} | {verdict(name, ms, gflops, gemm, torch_ms)} |")
    return "\n".join(rows)


def numba_line():
    """Which threading layer Numba's parallel kernels ran on (it matters on a 2-core machine)."""
    try:
        import numba
        layer = numba.threading_layer()
    except (ImportError, ValueError):        # no Numba, or no parallel kernel ran
        return "- Numba: not used"
    chosen = os.environ.get("NUMBA_THREADING_LAYER", "default")
    return (f"- Numba threading layer: {layer} (NUMBA_THREADING_LAYER={chosen}, "
            f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}); tinygen and PyTorch each "
            f"timed in a process of its own")


def main():
    parser = argparse.ArgumentParser(description="Layer GFLOP/s vs GEMM rate and PyTorch.")
    parser.add_argument("--write", action="store_true",
                        help=f"record the table in {RESULTS.name}")
    parser.add_argument("--side", choices=("tinygen", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=int(
        os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        or os.cpu_count()), help="PyTorch's thread count (default: NumPy's)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="processes per library, alternating (default: 3)")
    args = parser.parse_args()
    if args.side:                                   # a child process of measure_apart
        print(json.dumps(measure_here(args.side, args.threads)))
        return
    torch = installed_torch()
    gemm, results, numba = measure(args.threads, args.repeats, torch is not None)
    section = (f"{SECTION}\n\n{machine(torch)}\n{numba}\n\n"
               f"{table(results, gemm, args.threads)}\n\n{WHERE_THE_TIME_GOES}\n")
    publish(section, RESULTS, args.write)


if __name__ == "__main__":
    run_timed(main)

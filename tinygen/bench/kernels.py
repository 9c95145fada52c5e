"""``tinygen bench kernels``: every kernel of ``tinygen.kernels`` at three sizes, timed as its plain
reference, its fused twin (Numba on the CPU, CuPy on CUDA) and PyTorch's equivalent when PyTorch
is installed, with the bandwidth each achieves beside the machine's copy bandwidth measured in the
same run; then the im2col strategies side by side.

    tinygen bench kernels [--device cuda] [--quick] [--write]
    python benchmarks/kernels.py [...]          # the same
"""

import functools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinygen import kernels
from tinygen.backend import cupy_module
from tinygen.bench.kernel_cases import CASES, image_shape
from tinygen.bench.results import best_in_turns_ms, best_median_s, machine, write_section
from tinygen.kernels import reference

SIZES = {"small": 2**12, "medium": 2**18, "large": 2**22}
# Targets at the large size, from the kernels issue. "No slower than PyTorch" allows 5% for
# timing noise on a shared machine; the GPU targets say nothing about bandwidth.
TARGETS = {"cpu": dict(speedup=2.0, copy_fraction=0.5, torch_ratio=1.05),
           "cuda": dict(speedup=1.0, copy_fraction=None, torch_ratio=1.5)}
ROUND_S = 0.05                             # time budget of one timing round
CONTENDERS = ("reference", "fused", "torch")
HOW_TO_READ = (
    "GB/s counts the bytes a kernel must read and write once (`traffic` in\n"
    "`tinygen/bench/kernel_cases.py`) over its time. The copy bandwidth is measured on the\n"
    "working set of the largest size timed (the small one with --quick), so caches help it as\n"
    "they help the kernels; im2col and col2im move ten times that working set, so their\n"
    "percentages understate them.")


@dataclass
class Row:
    """One kernel at one size: seconds per call for each contender (None: not available)."""
    name: str
    size: str
    elements: int
    nbytes: int
    seconds: dict = field(default_factory=dict)

    def gbps(self, who):
        s = self.seconds.get(who)
        return self.nbytes / s / 1e9 if s else None

    def ratio(self, a, b):
        """seconds[a] / seconds[b], or None when either is missing."""
        sa, sb = self.seconds.get(a), self.seconds.get(b)
        return sa / sb if sa and sb else None


class Device:
    """The array module, the PyTorch module and device, and a synchronize for one device."""

    def __init__(self, kind, threads=None):
        self.kind = kind
        self.xp = np if kind == "cpu" else cupy_module()
        self.torch = _torch_for(kind)
        if threads and kind == "cpu":
            from tinygen import idle_threads
            idle_threads.let_openmp_sleep()        # before Numba starts its threads
            import numba
            numba.set_num_threads(threads)
            if self.torch is not None:
                self.torch.set_num_threads(threads)

    def array(self, value):
        """A private device copy of a host array; anything else passes through."""
        return self.xp.array(value) if isinstance(value, np.ndarray) else value

    def tensor(self, value):
        if not isinstance(value, np.ndarray):
            return value
        return self.torch.from_numpy(value.copy()).to(self.kind)

    def sync(self):
        if self.kind == "cuda":
            self.xp.cuda.Device().synchronize()
            if self.torch is not None:
                self.torch.cuda.synchronize()


def _threading_layer():
    import numba
    try:
        return numba.threading_layer()
    except ValueError:                     # no parallel kernel has run
        return "none used"


def _torch_for(kind):
    """PyTorch when it is installed and can run on ``kind``, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch if kind == "cpu" or torch.cuda.is_available() else None


def seconds_per_call(fn, device, quick):
    """Best-of-rounds median time of fn() after a warm-up call (which compiles); in quick mode
    the time of a single call."""
    fn()
    device.sync()
    start = time.perf_counter()
    fn()
    device.sync()
    once = time.perf_counter() - start
    if quick:
        return once
    calls = max(1, min(50, int(ROUND_S / max(once, 1e-9))))
    return best_median_s(fn, rounds=5, calls=calls, warmup=0, sync=device.sync)


def copy_bandwidth(device, n, dtype, quick):
    """GB/s (bytes read + written) of copying n elements: the practical limit for a kernel whose
    operands are that large (the same working set, so the same caches help both)."""
    xp = device.xp
    src = xp.ones(n, dtype)
    dst = xp.empty_like(src)
    return 2 * src.nbytes / seconds_per_call(lambda: xp.copyto(dst, src), device, quick) / 1e9


def _tinygen_calls(case, device, args, kwargs):
    """name -> no-argument callable on private device copies of the arguments."""
    fused = getattr(kernels.fused_module(device.kind), case.name, None)
    calls = {"reference": getattr(reference, case.name), "fused": fused}
    if case.name == "im2col":
        calls["strided"] = reference.im2col_strided
    out = {}
    for who, fn in calls.items():
        if fn is not None:
            a, k = [device.array(v) for v in args], {n: device.array(v) for n, v in kwargs.items()}
            out[who] = functools.partial(fn, *a, **k)
    return out


def _torch_calls(case, device, args, kwargs):
    if device.torch is None or case.torch is None:
        return {}
    a, k = [device.tensor(v) for v in args], {n: device.tensor(v) for n, v in kwargs.items()}
    return {"torch": case.torch(device.torch, *a, **k)}


def race(fns, device, quick):
    """{who: seconds per call} of the fused kernel and PyTorch's, timed in turns: round by
    round each runs a batch of calls after a pause, so both see the same load (timed in
    separate passes, a kernel at par with PyTorch's came out 10% ahead or behind with the
    pass it drew) and neither runs while the other's idle threads still spin."""
    if quick or len(fns) < 2:
        return {who: seconds_per_call(fn, device, quick) for who, fn in fns.items()}
    slowest = max(seconds_per_call(fn, device, quick=True) for fn in fns.values())
    calls = max(1, min(50, int(ROUND_S / max(slowest, 1e-9))))
    ms = best_in_turns_ms(list(fns.values()), rounds=7, calls=calls, warmup=1, pause=0.05,
                          sync=device.sync)
    return {who: t / 1e3 for who, t in zip(fns, ms)}


def measure(device, dtype, sizes, quick, only=None):
    """One Row per (kernel, size): the references timed alone, then the fused kernel and
    PyTorch's in turns (``race``)."""
    dtype = np.dtype(dtype)
    jobs = [(case, size, n) for case in CASES if not only or case.name in only
            for size, n in sizes.items()]
    rows = [Row(case.name, size, n, case.traffic * n * dtype.itemsize) for case, size, n in jobs]
    for (case, size, n), row in zip(jobs, rows):
        args, kwargs = case.make(np.random.default_rng(0), n, dtype)
        contenders = {**_tinygen_calls(case, device, args, kwargs),
                      **_torch_calls(case, device, args, kwargs)}
        for who in ("reference", "strided"):
            if who in contenders:
                row.seconds[who] = seconds_per_call(contenders.pop(who), device, quick)
        row.seconds.update(race(contenders, device, quick))
    return rows


def _ms(s):
    return f"{s * 1e3:.3f}" if s else "n/a"


def _times(x, fmt="{:.2f}x"):
    return fmt.format(x) if x else "n/a"


def table(rows, copy_gbps):
    """The main markdown table."""
    lines = ["| kernel | size | elements | reference ms | fused ms | PyTorch ms | fused speedup "
             "| fused GB/s | % of copy | fused / PyTorch |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        gbps = r.gbps("fused")
        lines.append(
            f"| {r.name} | {r.size} | {r.elements:,} | {_ms(r.seconds.get('reference'))} | "
            f"{_ms(r.seconds.get('fused'))} | {_ms(r.seconds.get('torch'))} | "
            f"{_times(r.ratio('reference', 'fused'))} | {_times(gbps, '{:.2f}')} | "
            f"{_times(gbps and 100 * gbps / copy_gbps, '{:.0f}%')} | "
            f"{_times(r.ratio('fused', 'torch'))} |")
    return "\n".join(lines)


def misses(rows, copy_gbps, targets):
    """{kernel: [reasons]} for the targets missed at the large size."""
    out = {}
    for r in rows:
        if r.size != "large":
            continue
        reasons = []
        speedup, gbps, vs_torch = r.ratio("reference", "fused"), r.gbps("fused"), None
        if r.seconds.get("fused") is None:
            reasons.append("no fused kernel")
        else:
            vs_torch = r.ratio("fused", "torch")
            if speedup < targets["speedup"] or speedup <= 1.0:
                reasons.append(f"{speedup:.2f}x its reference")
            if targets["copy_fraction"] and gbps < targets["copy_fraction"] * copy_gbps:
                reasons.append(f"{100 * gbps / copy_gbps:.0f}% of copy bandwidth")
            if vs_torch is not None and vs_torch > targets["torch_ratio"]:
                reasons.append(f"{vs_torch:.2f}x PyTorch's time")
        if reasons:
            out[r.name] = reasons
    return out


def im2col_table(rows):
    """Which im2col strategy wins at which size."""
    names = {"fused": "fused", "reference": "slices (reference)", "strided": "strided view",
             "torch": "PyTorch unfold"}
    lines = ["| size | input (N, C, H, W) | " + " | ".join(f"{v} ms" for v in names.values())
             + " | fastest |", "|---|---|" + "---:|" * len(names) + "---|"]
    for r in rows:
        if r.name != "im2col":
            continue
        present = {k: s for k, s in r.seconds.items() if s}
        best = names[min(present, key=present.get)]
        cells = " | ".join(_ms(r.seconds.get(k)) for k in names)
        lines.append(f"| {r.size} | {image_shape(r.elements)} | {cells} | {best} |")
    return "\n".join(lines)


def summary(rows, copy_gbps, targets):
    large = [r for r in rows if r.size == "large"]
    if not large:
        return "Targets are judged at the large size, which this run did not measure."
    missed = misses(rows, copy_gbps, targets)
    goals = [f"fused at least {targets['speedup']:g}x faster than its reference"
             if targets["speedup"] > 1 else "fused faster than its reference"]
    if targets["copy_fraction"]:
        goals.append(f"at least {100 * targets['copy_fraction']:.0f}% of copy bandwidth")
    goals.append(f"at most {targets['torch_ratio']:g}x PyTorch's time")
    text = (f"Targets at the large size (>= 4M elements): {', '.join(goals)}. "
            f"Met by {len(large) - len(missed)} of {len(large)} kernels.")
    if missed:
        text += "\n\nMissed:\n" + "\n".join(f"- {name}: {', '.join(reasons)}"
                                              for name, reasons in missed.items())
    return text


def chart(rows, copy_gbps, path, device_kind):
    """Bar chart of GB/s per kernel at the largest size measured, copy bandwidth as a line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = next(s for s in reversed(SIZES) if any(r.size == s for r in rows))
    chosen = [r for r in rows if r.size == size]
    fig, ax = plt.subplots(figsize=(14, 5))
    x = np.arange(len(chosen))
    for i, who in enumerate(CONTENDERS):
        values = [r.gbps(who) or 0 for r in chosen]
        ax.bar(x + (i - 1) * 0.27, values, 0.27, label="PyTorch" if who == "torch" else who)
    ax.axhline(copy_gbps, color="black", linestyle="--", label=f"copy {copy_gbps:.1f} GB/s")
    ax.axhline(copy_gbps / 2, color="gray", linestyle=":", label="50% of copy")
    ax.set_yscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * 10)           # room for the legend above the bars
    ax.set_xticks(x, [r.name for r in chosen], rotation=45, ha="right")
    ax.set_ylabel("GB/s (bytes read + written / time)")
    ax.set_title(f"tinygen kernels on {device_kind}, {size} size ({chosen[0].elements:,} elements)")
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def add_arguments(parser, out_dir):
    """The options of ``tinygen bench kernels`` (also used by ``benchmarks/kernels.py``)."""
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where to run: the Numba kernels (cpu) or the CuPy ones (cuda)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: the small size only, one timed call each")
    parser.add_argument("--only", nargs="+", metavar="KERNEL", choices=[c.name for c in CASES],
                        help="time only these kernels")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads for Numba and PyTorch (default: every core)")
    parser.add_argument("--write", action="store_true",
                        help="record the table in RESULTS.md and draw the PNG chart")
    parser.add_argument("--out-dir", type=Path, default=Path(out_dir),
                        help=f"where --write puts RESULTS.md and the chart (default {out_dir})")


def run(args):
    """Measure, print the markdown section, and with --write record it; returns the exit
    status (2 when the device is not usable)."""
    try:
        device = Device(args.device, args.threads)
    except RuntimeError as error:
        print(f"tinygen bench kernels: error: {error}", file=sys.stderr)
        return 2
    sizes = {"small": SIZES["small"]} if args.quick else SIZES
    copied = max(sizes.values())
    copy_gbps = copy_bandwidth(device, copied, args.dtype, args.quick)
    rows = measure(device, args.dtype, sizes, args.quick, args.only)
    suffix = "" if args.device == "cpu" else f"-{args.device}"
    what = "Numba" if args.device == "cpu" else "CuPy"
    threads = (f"{args.threads} thread{'s' if args.threads > 1 else ''} for Numba and PyTorch"
               if args.threads else "threads: library defaults")
    if args.device == "cpu":
        threads += f"; Numba threading layer: {_threading_layer()}"
    setup = machine(device.torch, f", fused kernels: {what}", gpu=args.device == "cuda")
    section = (f"## kernels{suffix}\n\n{setup}\n"
               f"- dtype: {args.dtype}; {threads}; copy bandwidth of {copied:,} elements "
               f"(bytes read + written): {copy_gbps:.1f} GB/s\n\n{table(rows, copy_gbps)}\n\n"
               f"{HOW_TO_READ}\n\n{summary(rows, copy_gbps, TARGETS[args.device])}\n")
    if any(r.name == "im2col" for r in rows):
        section += f"\n### im2col strategies\n\n{im2col_table(rows)}\n"
    print(section)
    if args.write:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        picture = args.out_dir / f"kernels{suffix}.png"
        chart(rows, copy_gbps, picture, args.device)
        write_section(args.out_dir / "RESULTS.md", section + f"\n![kernels]({picture.name})\n")
        print(f"wrote {args.out_dir / 'RESULTS.md'} and {picture}")
    return 0

"""What every benchmark shares: a robust timer, a line naming the machine and the software, and
the replacement of one ``## name`` section of ``benchmarks/RESULTS.md``; and for the scripts that
time each library in a process of its own, running such a child and finding PyTorch."""

import datetime
import importlib
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HEADER = ("# Benchmark results\n\n"
          "Each section is written by the script of the same name in `benchmarks/`, run with\n"
          "`--write` on the machine named in it; running it again replaces the section.\n"
          "Times are the best of several rounds of the median of many calls, after warm-up.\n")


def best_median_s(fn, rounds=7, calls=50, warmup=20, sync=None):
    """Median time of one call in each round, best round, in seconds: ``best_in_turns_ms`` of
    one step, without pauses."""
    return best_in_turns_ms([fn], rounds, calls, warmup, pause=0.0, sync=sync)[0] / 1e3


def best_in_turns_ms(steps, rounds, calls, warmup, pause=0.3, sync=None):
    """Best-round median time of each step in ms. The steps take turns round by round, so on a
    shared machine all see the same load; a pause before each turn lets the previous step's idle
    worker threads (OpenBLAS, OpenMP) stop spinning on the cores first. ``sync`` (e.g. a GPU
    synchronize) runs after every call, inside the timed span."""
    for step in steps:
        for _ in range(warmup):
            step()
    if sync is not None:
        sync()
    best = [float("inf")] * len(steps)
    for _ in range(rounds):
        for i, step in enumerate(steps):
            if pause:
                time.sleep(pause)
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                step()
                if sync is not None:
                    sync()
                times.append(time.perf_counter() - start)
            best[i] = min(best[i], statistics.median(times) * 1e3)
    return best


def machine(torch=None, extra="", gpu=False):
    """Where and with what the figures were measured, as a markdown list; with ``gpu``, also
    the GPU's name, memory and CUDA version (figures from a GPU name it)."""
    cpu = platform.processor() or "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = names[0] if names else cpu
    from tinygen import __version__
    software = f"Python {platform.python_version()}, NumPy {np.__version__}"
    software += f", tinygen {__version__}{extra}"
    software += f", PyTorch {torch.__version__}" if torch else ", PyTorch not installed"
    lines = f"- machine: {cpu}, {os.cpu_count()} cores\n"
    if gpu:
        from tinygen import cuda
        total = cuda.get_device_memory()[1]
        lines += (f"- GPU: {cuda.get_device_name()}, {total / 2**30:.0f} GiB, CUDA "
                  f"{cuda.runtime_version()}\n")
    return lines + f"- software: {software}\n- date: {datetime.date.today()}"


def write_section(path, section):
    """Replace the section of ``path`` (a markdown file) that starts with ``section``'s first line
    (``## name``), or append it; the file is created with the shared header when missing."""
    path = Path(path)
    title = section.split("\n", 1)[0]
    text = path.read_text() if path.exists() else HEADER
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = section.rstrip("\n") + "\n\n"
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def publish(section, path, write):
    """Print a benchmark's section; with ``write`` (its ``--write`` flag) also record it in
    ``path`` (``benchmarks/RESULTS.md``)."""
    print(section)
    if write:
        write_section(path, section)
        print(f"wrote {path}")


def run_child(script, args, stdin=None):
    """Run ``python script *args`` in a fresh process and return the JSON object it printed (its
    line starting with "{"); a child that fails raises with the end of its stderr."""
    out = subprocess.run([sys.executable, str(script), *args], input=stdin, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{Path(script).name} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(next(line for line in out.stdout.splitlines() if line.startswith("{")))


def keep_best(best, times):
    """Fold one run's {row: ms} into ``best``, each row keeping its lowest time: for scripts that
    run each library's process in turn several times, so that a burst of load on a shared
    machine during one process does not decide a ratio."""
    for row, ms in times.items():
        best[row] = min(best.get(row, float("inf")), ms)
    return best


def installed_torch():
    """The torch module, the yardstick, when it is installed; else None."""
    return importlib.import_module("torch") if importlib.util.find_spec("torch") else None


def run_timed(main):
    """Run a benchmark script's ``main()`` and print how long it took."""
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")

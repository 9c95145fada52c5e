"""Run every family's default ``tinygen train`` and record what it gives: times and metrics.

    python benchmarks/default_runs.py [--families gan vae ...] [--runs runs] [--write]

Each family trains with its defaults, exactly as ``tinygen train <family>`` does for a user, in
a process of its own, one after another (the classifier first: the GANs are scored with it).
The table reports wall time, steps per second and the final metrics from each run's
``metrics.json``. ``--write`` records it as the ``## default runs`` section of
``benchmarks/RESULTS.md`` and copies the final samples into ``docs/gallery/`` for the README.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from tinygen.bench.results import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ("classifier", "gan", "dcgan", "wgan-gp", "vae", "convvae", "gpt")
# The metrics worth a column, per family, with how to print them.
METRICS = {
    "classifier": [("test_accuracy", "test accuracy {:.1%}")],
    "gan": [("fd", "FD {:.1f}"), ("class_entropy", "class entropy {:.2f}"),
            ("confidence", "confidence {:.2f}")],
    "vae": [("elbo", "test ELBO {:.1f} nats")],
    "gpt": [("val_loss", "val loss {:.3f} nats"), ("val_bpc", "{:.2f} bits/char")],
}
METRICS.update({"dcgan": METRICS["gan"], "wgan-gp": METRICS["gan"], "convvae": METRICS["vae"]})


def run(family, runs):
    """Train ``family`` with its defaults into ``runs/<family>``; its metrics.json as a dict."""
    out = runs / family
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "tinygen", "train", family, "--out", str(out)]
    print("$", " ".join(command[2:]), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads((out / "metrics.json").read_text())


def row(family, metrics):
    shown = [fmt.format(metrics["metrics"][key]) for key, fmt in METRICS[family]
             if key in metrics["metrics"]]
    minutes, seconds = divmod(round(metrics["wall_time_s"]), 60)
    return (f"| `tinygen train {family}` | {metrics['steps']} | {minutes}:{seconds:02d} | "
            f"{metrics['steps_per_s']:.1f} | {', '.join(shown)} |")


def gallery(family, metrics):
    """Copy the run's final samples (a PNG grid, or text) into docs/gallery/<family>.*"""
    samples = Path(metrics.get("samples") or "")
    if not samples.is_file():
        return None
    target = ROOT / "docs" / "gallery" / f"{family}{samples.suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(samples, target)
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", nargs="+", default=FAMILIES, choices=FAMILIES)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs")
    parser.add_argument("--write", action="store_true",
                        help="record the table in benchmarks/RESULTS.md and the gallery")
    args = parser.parse_args()
    results = {family: run(family, args.runs.resolve()) for family in args.families}
    lines = ["## default runs", "", machine(), "",
             "Each family's `tinygen train` with its defaults, one run after another on the "
             "machine above (the GANs are scored by the classifier trained first).", "",
             "| command | steps | wall time | steps/s | final metrics |",
             "|---|---:|---:|---:|---|"]
    lines += [row(family, metrics) for family, metrics in results.items()]
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section(ROOT / "benchmarks" / "RESULTS.md", table)
        for family, metrics in results.items():
            target = gallery(family, metrics)
            if target is not None:
                print(f"gallery: {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""examples/gpt_char.py --smoke on a small text file: it trains, the loss falls and it prints a
sample of characters from the text that is not one repeated character."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom,\n"
        "it was the age of foolishness, it was the epoch of belief.\n") * 40


@pytest.mark.slow
def test_gpt_example_smoke(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gpt_char.py"), "--smoke", "--text", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"val loss ([0-9.]+)", result.stdout)]
    assert len(losses) == 4, result.stdout
    assert losses[-1] < losses[0] - 0.5, result.stdout
    assert f"{len(set(TEXT))} distinct" in result.stdout
    sample = result.stdout.split("--- sample ---\n", 1)[1].rstrip("\n")
    assert len(sample) == 101 and set(sample) <= set(TEXT), sample
    assert len(set(sample)) > 3, sample

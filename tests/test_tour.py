"""examples/tour.py runs start to end in its tiny configuration; any failed check fails here."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_tour_runs_and_every_check_passes(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "tour.py"), "--tiny", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.rstrip().endswith("tour complete")
    assert "tour check failed" not in result.stdout
    assert result.stdout.count("  ok: ") >= 15
    for name in ["graph_small.png", "graph_second_derivative.png", "graph_mlp.png",
                 "graph_mlp_modules.png"]:
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE), name
    assert (tmp_path / "mlp_step_trace.json").stat().st_size > 0


def test_a_failed_check_fails_the_tour(tmp_path):
    """The checks are real: a tour whose gradcheck is fooled stops with an error."""
    source = (ROOT / "examples" / "tour.py").read_text()
    broken = source.replace("return grad_y * x.sigmoid()", "return grad_y * x.tanh()")
    assert broken != source
    script = tmp_path / "tour_broken.py"
    script.write_text(broken)
    result = subprocess.run([sys.executable, str(script), "--tiny", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "GradcheckError" in result.stderr

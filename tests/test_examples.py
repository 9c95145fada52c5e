import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_fit_mlp_smoke(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "fit_mlp.py"), "--smoke", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"loss ([0-9.eE+-]+)", result.stdout)]
    assert len(losses) >= 2, result.stdout
    assert losses[-1] < losses[0], result.stdout
    picture = tmp_path / "fit_mlp.png"
    assert picture.read_bytes().startswith(PNG_SIGNATURE)
    assert f"saved {picture}" in result.stdout

"""examples/vae_mnist.py --smoke on the synthetic digits: it trains, the loss falls and the
samples it saves differ from one another."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_vae_example_smoke(mnist_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "vae_mnist.py"), "--smoke", "--latent-dim", "2",
         "--data-dir", str(mnist_dir), "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"\] loss ([0-9.eE+-]+)", result.stdout)]
    assert len(losses) >= 4, result.stdout
    assert losses[-1] < 0.9 * losses[0], result.stdout
    assert re.search(r"ELBO -[0-9.]+ nats", result.stdout), result.stdout
    spread = float(re.search(r"std across images ([0-9.]+)", result.stdout).group(1))
    assert spread > 1e-3, result.stdout                   # not one constant image
    for name in ("vae_samples.png", "vae_manifold.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)
        assert f"saved {tmp_path / name}" in result.stdout

"""A training step brings to the host only the scalars it returns for logging.

Every family's ``train_step`` ends by reading its losses with ``item()``, one per metric; before
that, forward, backward and the optimizer step must keep every value on the device, because on
a GPU each read of a tensor's value (``item()``, ``float()``, ``bool()``, ``tolist()``,
``numpy()``) waits for the queued kernels and copies to the host. This counts those reads at the
Tensor level on every device the suite runs on. (Reads of raw arrays inside ops, such as a range
check of embedding ids, are invisible to it.)
"""

import pytest

from tinygen import backend
from tinygen.tensor import Tensor
from tinygen.train import get_recipe
from tinygen.train.trainer import make_config

TINY = {
    "gan": dict(batch_size=8, latent_dim=8, width=16, score=False),
    "dcgan": dict(batch_size=8, latent_dim=8, base_channels=4, score=False),
    "wgan-gp": dict(batch_size=8, latent_dim=8, width=16, n_critic=2, score=False),
    "vae": dict(batch_size=16, hidden_dim=32, latent_dim=3),
    "convvae": dict(batch_size=8, base_channels=4, latent_dim=3),
    "classifier": dict(batch_size=8, width=4, hidden=8),
    "gpt": dict(batch_size=2, n_layer=1, n_head=2, n_embd=16, block_size=16),
}
HOST_READS = ("item", "tolist", "numpy")     # float(), int() and bool() go through item()


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("the quick brown fox jumps over the lazy dog.\n" * 40, encoding="utf-8")
    return path


def first_batch(family, device, mnist_dir, text_file, out):
    """The family's recipe at its tiny sizes on ``device``, and its first training batch."""
    cls = get_recipe(family)
    config = make_config(cls, dict(TINY[family], data_dir=mnist_dir, text=text_file, out=out))
    backend.manual_seed(0)
    recipe = cls(config, backend.Device(device))
    recipe.load_data()
    return recipe, next(recipe.batches(0))


@pytest.mark.parametrize("family", sorted(TINY))
def test_train_step_reads_only_the_scalars_it_logs(family, device, mnist_dir, text_file,
                                                   tmp_path, monkeypatch):
    recipe, batch = first_batch(family, device, mnist_dir, text_file, tmp_path)
    recipe.train_step(batch)                       # first-call work (compiling, caches) aside
    reads = []
    for name in HOST_READS:
        def read(self, *args, _original=getattr(Tensor, name), _name=name, **kwargs):
            reads.append(_name)
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(Tensor, name, read)
    metrics = recipe.train_step(batch)
    assert reads == ["item"] * len(metrics), f"{family}: host reads {reads} for {list(metrics)}"

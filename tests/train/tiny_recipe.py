"""A tiny recipe for the trainer's tests: a small MLP with dropout regressing a fixed function of
synthetic inputs, so a run takes milliseconds and tg's generator matters (dropout, samples)."""

import itertools

import numpy as np

import tinygen as tg
from tinygen import nn
from tinygen.train import Recipe, register

N_TRAIN, N_VAL, FEATURES = 64, 32, 4


def _data(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype(np.float32)
    return x, np.sin(x.sum(axis=1, keepdims=True)).astype(np.float32)


@register("tiny-test")
class TinyRecipe(Recipe):
    """A small MLP with dropout on synthetic data (trainer tests only)."""

    defaults = dict(steps=6, batch_size=16, lr=1e-2, eval_every=4, checkpoint_every=5,
                    hidden=16, epochs_known=True, text_samples=False)
    sample_count = 4

    def __init__(self, config, device):
        super().__init__(config, device)
        self.model = nn.Sequential(nn.Linear(FEATURES, config["hidden"]), nn.ReLU(),
                                   nn.Dropout(0.5), nn.Linear(config["hidden"], 1)).to(device)
        self.modules = {"model": self.model}
        self.optimizers = {"model": tg.optim.Adam(self.model.parameters(), lr=config["lr"])}
        self.state = {"note": "tiny"}
        self.x, self.y = _data(0, N_TRAIN)
        self.val = _data(1, N_VAL)
        if config["epochs_known"]:
            self.batches_per_epoch = N_TRAIN // config["batch_size"]

    def batches(self, start):
        for step in itertools.count(start):
            index = np.random.default_rng((self.config["seed"], step)).choice(
                N_TRAIN, self.config["batch_size"], replace=False)
            yield (tg.tensor(self.x[index], device=self.device),
                   tg.tensor(self.y[index], device=self.device))

    def train_step(self, batch):
        x, y = batch
        optimizer = self.optimizers["model"]
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(self.model(x), y)
        loss.backward()
        optimizer.step()
        return {"loss": loss.item()}

    def evaluate(self):
        self.model.eval()
        x, y = (tg.tensor(a, device=self.device) for a in self.val)
        loss = nn.functional.mse_loss(self.model(x), y).item()
        self.model.train()
        return {"val_loss": loss}

    def sample(self, n, **options):
        values = tg.sigmoid(self.model(tg.rand(n, FEATURES, device=self.device))).cpu().numpy()
        if self.config["text_samples"]:
            return " ".join(f"{v:.3f}" for v in values[:, 0]) + options.get("prompt", "")
        return np.broadcast_to(values[:, :, None], (n, 28, 28)).copy()

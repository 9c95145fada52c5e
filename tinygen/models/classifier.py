"""A small MNIST classifier: the yardstick that scores the generators' samples.

    x (N, 1, 28, 28) in [-1, 1]
      -> conv 3x3 (32) -> ReLU -> max-pool 2      (N, 32, 14, 14)
      -> conv 3x3 (64) -> ReLU -> max-pool 2      (N, 64, 7, 7)
      -> flatten -> linear 128 -> ReLU            (N, 128)   = features(x)
      -> dropout -> linear 10                     (N, 10)    logits

The layout is pytorch/examples' MNIST network, made smaller so it trains in a minute or two on a
CPU. ``features`` gives the penultimate activations, on which ``tinygen.train.scores`` measures the
Frechet distance between generated and real digits (as FID uses Inception's pool features).
Inputs use the same [-1, 1] scale as the GANs' samples, so samples are scored as they come.
"""

from tinygen import nn


class Classifier(nn.Module):
    """Digits (N, 1, H, W) in [-1, 1] -> class logits (N, num_classes).

    ``channels``, ``hidden`` and ``img_size`` set the sizes (tests use tiny ones); ``dropout``
    is applied to the features during training only.
    """

    def __init__(self, channels=(32, 64), hidden=128, num_classes=10, dropout=0.5,
                 img_size=28):
        super().__init__()
        if img_size % 4 != 0:
            raise ValueError(f"Classifier: img_size must be a multiple of 4 (two 2x2 "
                             f"poolings), got {img_size}")
        c1, c2 = channels
        self.img_size = img_size
        self.conv = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(nn.Linear(c2 * (img_size // 4) ** 2, hidden), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x):
        """The penultimate activations (N, hidden): what the Frechet distance compares."""
        size = self.img_size
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, size, size):
            raise ValueError(f"Classifier: expected images of shape (N, 1, {size}, {size}) "
                             f"scaled to [-1, 1], got {tuple(x.shape)}")
        return self.fc(self.conv(x))

    def forward(self, x):
        return self.head(self.dropout(self.features(x)))

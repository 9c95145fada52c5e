"""The classic fully connected GAN (Goodfellow et al., 2014) for 28x28 images in [-1, 1].

    G: z (N, 100) -> 256 -> 512 -> 784, LeakyReLU(0.2) between, Tanh out, as (N, 1, 28, 28)
    D: x (N, 1, 28, 28) -> 784 -> 512 -> 256 -> 1, LeakyReLU(0.2) and Dropout(0.25), Sigmoid out

D outputs a probability and is trained with nn.BCELoss; G is trained with the non-saturating loss
-log D(G(z)) (BCE against the label "real"). The widths and the image shape are arguments, so the
tests can check gradients on a tiny configuration.
"""

import math

from tinygen import nn


class Generator(nn.Module):
    """z (N, latent_dim) -> images (N, *img_shape) in [-1, 1]."""

    def __init__(self, latent_dim=100, hidden_dims=(256, 512), img_shape=(1, 28, 28)):
        super().__init__()
        self.latent_dim = latent_dim
        self.img_shape = tuple(img_shape)
        widths = (latent_dim, *hidden_dims)
        layers = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(widths[-1], math.prod(self.img_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"Generator: expected z of shape (N, {self.latent_dim}), got "
                             f"{tuple(z.shape)}")
        return self.net(z).reshape(z.shape[0], *self.img_shape)


class Discriminator(nn.Module):
    """images (N, *img_shape) -> (N, 1): the probability that each image is real."""

    def __init__(self, hidden_dims=(512, 256), img_shape=(1, 28, 28), dropout=0.25):
        super().__init__()
        self.img_shape = tuple(img_shape)
        widths = (math.prod(self.img_shape), *hidden_dims)
        layers = [nn.Flatten()]
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
        layers += [nn.Linear(widths[-1], 1), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if tuple(x.shape[1:]) != self.img_shape:
            raise ValueError(f"Discriminator: expected images of shape (N, "
                             f"{', '.join(map(str, self.img_shape))}), got {tuple(x.shape)}")
        return self.net(x)

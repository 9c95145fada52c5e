"""DCGAN (Radford et al., 2015) sized for 28x28 images, after PyTorch's examples/dcgan.

    G: z (N, latent) as (N, latent, 1, 1) -ConvT 7x7-> (2b, 7, 7) -ConvT-> (b, 14, 14) -ConvT->
       (1, 28, 28); BatchNorm2d + ReLU after each hidden layer, Tanh out
    D: (1, 28, 28) -Conv s2-> (b, 14, 14) -Conv s2-> (2b, 7, 7) -Conv 7x7-> (1, 1, 1) logit;
       LeakyReLU(0.2) after each hidden layer, BatchNorm2d on the middle one

b is ``base_channels``. As in the paper, there are no pooling or fully connected layers (strided
convolutions do the resampling), the layers followed by BatchNorm have no bias, and every weight
is drawn from N(0, 0.02) (BatchNorm's scale from N(1, 0.02), its shift zero): ``dcgan_init_``.
D returns logits, so train it with nn.BCEWithLogitsLoss (the sigmoid is folded into the loss,
which is the numerically stable form).
"""

from tinygen import nn


def dcgan_init_(module):
    """The DCGAN paper's initialisation, applied with ``model.apply(dcgan_init_)``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, latent_dim=100, base_channels=64):
        super().__init__()
        self.latent_dim = latent_dim
        b = base_channels
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * b, 7, 1, 0, bias=False),   # (2b, 7, 7)
            nn.BatchNorm2d(2 * b),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * b, b, 4, 2, 1, bias=False),            # (b, 14, 14)
            nn.BatchNorm2d(b),
            nn.ReLU(),
            nn.ConvTranspose2d(b, 1, 4, 2, 1, bias=False),                # (1, 28, 28)
            nn.Tanh(),
        )
        self.apply(dcgan_init_)

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"DCGANGenerator: expected z of shape (N, {self.latent_dim}), got "
                             f"{tuple(z.shape)}")
        return self.net(z.reshape(z.shape[0], self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """images (N, 1, 28, 28) -> (N, 1) logits (positive: judged real)."""

    def __init__(self, base_channels=64):
        super().__init__()
        b = base_channels
        self.net = nn.Sequential(
            nn.Conv2d(1, b, 4, 2, 1, bias=False),                         # (b, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(b, 2 * b, 4, 2, 1, bias=False),                     # (2b, 7, 7)
            nn.BatchNorm2d(2 * b),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * b, 1, 7, 1, 0, bias=False),                     # (1, 1, 1)
        )
        self.apply(dcgan_init_)

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"DCGANDiscriminator: expected images of shape (N, 1, 28, 28), got "
                             f"{tuple(x.shape)}")
        return self.net(x).reshape(x.shape[0], 1)

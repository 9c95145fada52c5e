"""Variational autoencoders for 28x28 images in [0, 1] (Kingma & Welling 2014): an MLP VAE, a
convolutional one, and their loss, the negative evidence lower bound (ELBO).

    model = VAE(latent_dim=20)
    recon_logits, mu, logvar = model(x)          # x: (N, 1, 28, 28) in [0, 1]
    loss = vae_loss(recon_logits, x, mu, logvar)  # nats per image, to minimise
    images = model.decode(tg.randn(64, 20)).sigmoid()

The encoder outputs the mean and log-variance of a diagonal Gaussian q(z | x); the decoder
outputs the logits of a Bernoulli p(x | z) per pixel. Training maximises

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || N(0, I))

with one sample z = mu + exp(0.5 logvar) * eps, eps ~ N(0, I) (the reparameterisation trick,
so the sample is differentiable in mu and logvar).
"""

import math

import tinygen as tg
from tinygen import nn
from tinygen.nn import functional as F


def reparameterize(mu, logvar, eps=None):
    """z = mu + std * eps with std = exp(0.5 logvar). eps defaults to a draw from tg's generator
    (``tg.manual_seed`` repeats it); pass one to decode without touching that generator."""
    std = (0.5 * logvar).exp()
    if eps is None:
        eps = tg.randn_like(std)
    elif eps.shape != std.shape:
        raise ValueError(f"reparameterize: eps shape {tuple(eps.shape)} differs from the "
                         f"latent shape {tuple(std.shape)}")
    return mu + std * eps


def vae_loss(recon_logits, x, mu, logvar):
    """The negative ELBO in nats, averaged over the batch: Bernoulli cross entropy of the
    reconstruction (on logits, summed over pixels) plus KL(q(z | x) || N(0, I)) summed over
    latents (Kingma & Welling 2014, appendix B). Lower is better; -loss is the ELBO."""
    if recon_logits.shape != x.shape:
        raise ValueError(f"vae_loss: recon_logits shape {tuple(recon_logits.shape)} differs from "
                         f"x shape {tuple(x.shape)}; decode to the images' shape")
    if mu.ndim != 2 or mu.shape[0] != x.shape[0]:
        raise ValueError(f"vae_loss: mu of shape {tuple(mu.shape)} should be (N, latent_dim) "
                         f"with N = {x.shape[0]} images")
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="sum")
    kl = F.gaussian_kl(mu, logvar, reduction="sum")
    return (bce + kl) / x.shape[0]


class _VAEBase(nn.Module):
    """encode -> reparameterize -> decode; subclasses define encode(x) and decode(z)."""

    def forward(self, x):
        """(recon_logits shaped like x, mu, logvar) for x of shape (N, 1, 28, 28)."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar

    def extra_repr(self):
        return f"latent_dim={self.latent_dim}"


class VAE(_VAEBase):
    """The MLP VAE of pytorch/examples (and its parameter names): input_dim -> hidden_dim (ReLU)
    -> mu, logvar (latent_dim each); latent_dim -> hidden_dim (ReLU) -> input_dim logits.

    Images are flattened to input_dim values. decode(z) returns (N, 1, s, s) with s * s =
    input_dim when input_dim is a perfect square (784 gives 28x28), else (N, input_dim).
    """

    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20):
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        side = math.isqrt(input_dim)
        self.image_shape = (1, side, side) if side * side == input_dim else (input_dim,)
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc21 = nn.Linear(hidden_dim, latent_dim)   # mu
        self.fc22 = nn.Linear(hidden_dim, latent_dim)   # logvar
        self.fc3 = nn.Linear(latent_dim, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, input_dim)

    def encode(self, x):
        """(mu, logvar), each (N, latent_dim), for images x with input_dim values each."""
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.input_dim:
            raise ValueError(f"VAE.encode: x of shape {tuple(x.shape)} does not hold "
                             f"input_dim={self.input_dim} values per image")
        h = F.relu(self.fc1(x.reshape(x.shape[0], self.input_dim)))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        """Bernoulli logits of shape (N, *image_shape) for latents z of shape (N, latent_dim)."""
        h = F.relu(self.fc3(z))
        return self.fc4(h).reshape(z.shape[0], *self.image_shape)


class ConvVAE(_VAEBase):
    """A convolutional VAE for (N, 1, 28, 28) images; C = base_channels.

    encoder: conv 4x4 stride 2 (1 -> C, 28 -> 14), ReLU, conv 4x4 stride 2 (C -> 2C, 14 -> 7),
    ReLU, then two linear heads from the 2C*7*7 features to mu and logvar.
    decoder: linear latent_dim -> 2C*7*7, ReLU, transposed conv 4x4 stride 2 (2C -> C, 7 -> 14),
    ReLU, transposed conv 4x4 stride 2 (C -> 1, 14 -> 28) giving the logits.
    """

    def __init__(self, latent_dim=20, base_channels=32):
        super().__init__()
        self.latent_dim = latent_dim
        c = base_channels
        features = 2 * c * 7 * 7
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten())
        self.fc_mu = nn.Linear(features, latent_dim)
        self.fc_logvar = nn.Linear(features, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, features), nn.ReLU(),
            nn.Unflatten(1, (2 * c, 7, 7)),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1))

    def encode(self, x):
        """(mu, logvar), each (N, latent_dim), for images x of shape (N, 1, 28, 28)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"ConvVAE.encode: x must have shape (N, 1, 28, 28), got "
                             f"{tuple(x.shape)}")
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        """Bernoulli logits of shape (N, 1, 28, 28) for latents z of shape (N, latent_dim)."""
        return self.decoder(z)

"""WGAN-GP (Gulrajani et al., 2017): a critic and the gradient penalty that keeps it 1-Lipschitz.

The critic scores images with unbounded reals (no sigmoid): the Wasserstein-1 distance between the
data and the generator is estimated as E[C(real)] - E[C(fake)] over 1-Lipschitz critics C. Instead
of clipping weights, the penalty lambda * E[(||grad_x C(x_hat)||_2 - 1)^2] is added to the critic's
loss, at random points x_hat on lines between real and fake samples (the paper's eq. 3).

Batch norm would make each score depend on the rest of the batch, which the per-sample gradient
norm forbids, so the critic has none (the paper's advice; layer norm would be the alternative).
It is a fully connected net, 784 -> 512 -> 256 -> 1 with LeakyReLU(0.2): the penalty needs a
second backward pass through every layer and the critic runs n_critic times per generator step,
so on a CPU a dense critic trains several times more steps in the same time than a conv one, and
on MNIST that buys more than convolutions do in a five-minute run. Pair it with the MLP
``Generator`` of ``tinygen.models.gan``.
"""

import math

import tinygen as tg
from tinygen import nn


class Critic(nn.Module):
    """images (N, *img_shape) -> (N, 1) scores: higher means judged more real."""

    def __init__(self, hidden_dims=(512, 256), img_shape=(1, 28, 28)):
        super().__init__()
        self.img_shape = tuple(img_shape)
        widths = (math.prod(self.img_shape), *hidden_dims)
        layers = [nn.Flatten()]
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if tuple(x.shape[1:]) != self.img_shape:
            raise ValueError(f"Critic: expected images of shape (N, "
                             f"{', '.join(map(str, self.img_shape))}), got {tuple(x.shape)}")
        return self.net(x)


def gradient_penalty(critic, real, fake):
    """mean over the batch of (||grad_x critic(x_hat)||_2 - 1)^2, x_hat = eps real + (1-eps) fake
    with eps ~ U(0, 1) drawn per sample from tinygen's generator.

    The gradient is taken with create_graph=True, so the penalty is a differentiable function of
    the critic's parameters: its backward is a second derivative of the critic. Multiply by lambda
    (10 in the paper) and add it to the critic's loss.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real and fake batches must have one shape, got "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}")
    n = real.shape[0]
    eps = tg.rand(n, *([1] * (real.ndim - 1)), dtype=real.dtype, device=real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_()
    scores = critic(x_hat)
    (grad_x,) = tg.autograd.grad(scores, x_hat, grad_outputs=tg.ones_like(scores),
                                 create_graph=True)
    norms = tg.linalg.vector_norm(grad_x.reshape(n, -1), dim=1)
    return ((norms - 1) ** 2).mean()

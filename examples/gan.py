"""A DCGAN on MNIST: a generator of ConvTranspose2d layers against a convolutional discriminator.

    python examples/gan.py                     # 12,000 digits, 4 epochs, batch 64
    python examples/gan.py --limit 0 --epochs 5 --width 16 --width-d 8 --backend torch

Radford, Metz & Chintala (2016), "Unsupervised representation learning with deep convolutional
generative adversarial networks", scaled to 28x28 grey digits:

- generator: z (``--nz``) -> ConvTranspose2d to 4w x 7 x 7 -> BatchNorm2d, ReLU ->
  ConvTranspose2d to 2w x 14 x 14 -> BatchNorm2d, ReLU -> ConvTranspose2d to 1 x 28 x 28 -> Tanh;
- discriminator: the mirror image with its own unit w_d (``--width-d``, half the generator's by
  default): Conv2d to 2w_d x 14 x 14 -> LeakyReLU(0.2) -> Conv2d to 4w_d x 7 x 7 ->
  BatchNorm2d, LeakyReLU(0.2) -> Linear to one logit;
- losses: ``BCEWithLogitsLoss`` (the non-saturating generator loss of Goodfellow et al., 2014),
  the real images' target 0.9 rather than 1 (one-sided label smoothing, Salimans et al. 2016,
  which keeps the discriminator from winning outright on this small budget);
  Adam(2e-4, betas=(0.5, 0.999)) for both, weights drawn from N(0, 0.02) as in the paper.

Images are scaled to [-1, 1]. After each epoch it saves a grid of 64 samples from the same fixed
noise with ``vision.utils.save_image`` (``gan_epoch<N>.png``), and at the end the losses and the
discriminator's mean outputs D(x), D(G(z)) per step (``gan.png``).
"""

import sys
from pathlib import Path

import numpy as np

from _common import Timer, load_mnist, loader, parse, parser, progress, pyplot, save_figure, \
    setup


def generator(nn, nz, w):
    return nn.Sequential(
        nn.Unflatten(1, (nz, 1, 1)),
        nn.ConvTranspose2d(nz, 4 * w, 7, 1, 0, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
        nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.ConvTranspose2d(2 * w, 1, 4, 2, 1), nn.Tanh())


def discriminator(nn, w):
    return nn.Sequential(
        nn.Conv2d(1, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(4 * w * 49, 1))


def dcgan_init(nn, module):
    """The paper's initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def main(argv=None):
    p = parser(__doc__, limit=12_000, out="gan.png", epochs=4, lr=2e-4, batch_size=64)
    p.add_argument("--nz", type=int, default=32, help="size of the noise vector z")
    p.add_argument("--width", type=int, default=8, help="w: the generator's channel unit")
    p.add_argument("--width-d", type=int, default=4, help="the discriminator's channel unit")
    p.add_argument("--real-label", type=float, default=0.9,
                   help="the discriminator's target for real images (1: no smoothing)")
    args = parse(p, argv, limit=512, epochs=2, width=4, width_d=4)
    B = setup(args)
    lib, nn = B.lib, B.nn
    images, _ = load_mnist("mnist", args.data_dir, limit=args.limit)
    x = images.astype(np.float32)[:, None] / 127.5 - 1.0           # [-1, 1], as Tanh outputs
    batches = loader(B, x, np.zeros(len(x), np.int64), args.batch_size, seed=args.seed)

    G, D = generator(nn, args.nz, args.width), discriminator(nn, args.width_d)
    G.apply(lambda m: dcgan_init(nn, m))
    D.apply(lambda m: dcgan_init(nn, m))
    opt_g = B.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = B.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    gen = lib.Generator().manual_seed(args.seed)
    fixed = lib.randn(64, args.nz, generator=gen)
    out = Path(args.out or "gan.png")
    hist = {"loss_d": [], "loss_g": [], "d_real": [], "d_fake": []}

    with Timer() as timer:
        for epoch in range(1, args.epochs + 1):
            G.train()
            D.train()
            for real, _ in progress(batches, f"epoch {epoch}/{args.epochs}", unit="batch"):
                n = len(real)
                ones, zeros = lib.ones(n, 1), lib.zeros(n, 1)
                fake = G(lib.randn(n, args.nz, generator=gen))
                # discriminator: real -> 1, fake -> 0 (fake detached: G is not updated here)
                d_real, d_fake = D(real), D(fake.detach())
                loss_d = bce(d_real, ones * args.real_label) + bce(d_fake, zeros)
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                # generator: make D call the fakes real
                loss_g = bce(D(fake), ones)
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                hist["loss_d"].append(loss_d.item())
                hist["loss_g"].append(loss_g.item())
                hist["d_real"].append(lib.sigmoid(d_real).mean().item())
                hist["d_fake"].append(lib.sigmoid(d_fake).mean().item())
            G.eval()
            with lib.no_grad():
                samples = G(fixed) * 0.5 + 0.5
            if args.out:
                grid = out.with_name(f"{out.stem}_epoch{epoch}.png")
                B.vision.utils.save_image(samples, str(grid), nrow=8, padding=2, pad_value=1.0)
            k = len(batches)
            print(f"epoch {epoch}: loss D {np.mean(hist['loss_d'][-k:]):.3f}  "
                  f"loss G {np.mean(hist['loss_g'][-k:]):.3f}  "
                  f"D(x) {np.mean(hist['d_real'][-k:]):.3f}  "
                  f"D(G(z)) {np.mean(hist['d_fake'][-k:]):.3f}", flush=True)
    print(f"backend {args.backend}: {args.epochs} epochs of {len(x)} digits in "
          f"{timer.seconds:.1f} s")

    if args.out:
        plt = pyplot()
        fig, (ax_loss, ax_d, ax_img) = plt.subplots(1, 3, figsize=(15, 4.5))
        steps = np.arange(1, len(hist["loss_d"]) + 1)
        ax_loss.plot(steps, hist["loss_d"], lw=0.6, label="discriminator")
        ax_loss.plot(steps, hist["loss_g"], lw=0.6, label="generator")
        ax_loss.set(xlabel="step", ylabel="BCE loss", title="losses")
        ax_d.plot(steps, hist["d_real"], lw=0.6, label="D(x), real")
        ax_d.plot(steps, hist["d_fake"], lw=0.6, label="D(G(z)), fake")
        ax_d.set(xlabel="step", ylabel="mean probability 'real'", ylim=(0, 1),
                 title="discriminator outputs")
        for ax in (ax_loss, ax_d):
            ax.legend()
            ax.grid(alpha=0.3)
        grid = B.vision.utils.make_grid(samples, nrow=8, padding=2, pad_value=1.0)
        ax_img.imshow(B.numpy(grid)[0], cmap="gray", vmin=0, vmax=1)
        ax_img.set(title=f"samples after epoch {args.epochs}", xticks=[], yticks=[])
        fig.suptitle(f"DCGAN on MNIST ({args.backend})")
        save_figure(fig, out)
    return hist


if __name__ == "__main__":
    main(sys.argv[1:])

"""A convolutional variational autoencoder on Fashion-MNIST: reconstructions, samples, latent space.

    python examples/autoencoder.py              # 12,000 images, 4 epochs, 2-D latent space
    python examples/autoencoder.py --latent 16 --limit 0 --backend torch

Kingma & Welling (2014), "Auto-encoding variational Bayes". The encoder (Conv2d 1->16->32, stride
2, then Linear) gives the mean and log-variance of a Gaussian q(z|x); z is drawn with the
reparameterisation trick, z = mu + exp(logvar / 2) * eps, so that autograd differentiates
through the sampling; the decoder (Linear, then ConvTranspose2d 32->16->1) gives a Bernoulli
logit per pixel. The loss is the negative evidence lower bound per image: the pixels' binary
cross-entropy (``binary_cross_entropy_with_logits``, summed) plus the closed-form KL divergence
of q(z|x) from N(0, I), -1/2 sum(1 + logvar - mu^2 - exp(logvar)).

It prints the training and test loss in nats per image, and saves (``autoencoder.png``) test
images against their reconstructions, images decoded from a grid over the 2-D latent space (or
from random z if ``--latent`` > 2) and the test set's latent means coloured by class.
"""

import sys

import numpy as np

from _common import FASHION_CLASSES, Timer, grid_and_legend, load_mnist, loader, parse, parser, \
    progress, pyplot, save_figure, setup


def build(B, latent):
    """The Module: ``encode(x) -> (mu, logvar)``, ``decode(z) -> logits``, ``forward(x, eps)``."""
    nn = B.nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 16, 4, 2, 1), nn.ReLU(),              # 16 x 14 x 14
                nn.Conv2d(16, 32, 4, 2, 1), nn.ReLU(),             # 32 x 7 x 7
                nn.Flatten(), nn.Linear(32 * 49, 2 * latent))
            self.decoder = nn.Sequential(
                nn.Linear(latent, 32 * 49), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
                nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.ReLU(),    # 16 x 14 x 14
                nn.ConvTranspose2d(16, 1, 4, 2, 1))                # 1 x 28 x 28 logits

        def encode(self, x):
            mu, logvar = self.encoder(x).chunk(2, dim=1)
            return mu, logvar

        def decode(self, z):
            return self.decoder(z)

        def forward(self, x, eps):
            mu, logvar = self.encode(x)
            z = mu + (0.5 * logvar).exp() * eps
            return self.decode(z), mu, logvar

    return VAE()


def neg_elbo(B, logits, x, mu, logvar):
    """``(loss, reconstruction)`` per image: summed pixel BCE plus KL(q(z|x) || N(0, I))."""
    n = len(x)
    recon = B.F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum() / n
    return recon + kl, recon


def main(argv=None):
    p = parser(__doc__, limit=12_000, out="autoencoder.png", epochs=4, lr=2e-3, batch_size=128)
    p.add_argument("--latent", type=int, default=2, help="size of z")
    args = parse(p, argv, limit=512, epochs=2)
    B = setup(args)
    lib = B.lib
    images, _ = load_mnist("fashion-mnist", args.data_dir, limit=args.limit)
    test_images, test_labels = load_mnist("fashion-mnist", args.data_dir, train=False,
                                          limit=2000 if args.smoke else 10_000)
    x = images.astype(np.float32)[:, None] / 255.0
    xte = test_images.astype(np.float32)[:, None] / 255.0
    batches = loader(B, x, np.zeros(len(x), np.int64), args.batch_size, seed=args.seed)
    model = build(B, args.latent)
    opt = B.optim.Adam(model.parameters(), lr=args.lr)
    gen = lib.Generator().manual_seed(args.seed)

    def test_loss():
        model.eval()
        with lib.no_grad():
            total = 0.0
            for i in range(0, len(xte), 1000):
                xb = B.tensor(xte[i:i + 1000])
                mu, logvar = model.encode(xb)
                loss, _ = neg_elbo(B, model.decode(mu), xb, mu, logvar)
                total += loss.item() * len(xb)
        return total / len(xte)

    hist = {"train_loss": [], "test_loss": []}
    with Timer() as timer:
        for epoch in range(1, args.epochs + 1):
            model.train()
            total = seen = 0
            for xb, _ in progress(batches, f"epoch {epoch}/{args.epochs}", unit="batch"):
                mu_shape = (len(xb), args.latent)
                logits, mu, logvar = model(xb, lib.randn(*mu_shape, generator=gen))
                loss, _ = neg_elbo(B, logits, xb, mu, logvar)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
                seen += len(xb)
            hist["train_loss"].append(total / seen)
            # test: the bound with z = mu (the decoder's best guess), in nats per image
            hist["test_loss"].append(test_loss())
            print(f"epoch {epoch}: train -ELBO {hist['train_loss'][-1]:.1f}  "
                  f"test -ELBO (z = mu) {hist['test_loss'][-1]:.1f} nats/image", flush=True)
    print(f"backend {args.backend}: {args.epochs} epochs of {len(x)} images in "
          f"{timer.seconds:.1f} s")

    if args.out:
        model.eval()
        with lib.no_grad():
            mu = np.concatenate([B.numpy(model.encode(B.tensor(xte[i:i + 1000]))[0])
                                 for i in range(0, len(xte), 1000)])
            recon = B.numpy(lib.sigmoid(model.decode(model.encode(B.tensor(xte[:10]))[0])))
            if args.latent == 2:
                k = 15
                lin = np.linspace(-2.5, 2.5, k, dtype=np.float32)
                z = np.stack(np.meshgrid(lin, -lin), -1).reshape(-1, 2)
            else:
                k = 10
                z = np.random.default_rng(args.seed).standard_normal((k * k, args.latent))
            decoded = B.numpy(lib.sigmoid(model.decode(B.tensor(z.astype(np.float32)))))
        tiles = decoded[:, 0].reshape(k, k, 28, 28).transpose(0, 2, 1, 3).reshape(28 * k, -1)
        fig = pyplot().figure(figsize=(16, 6))
        grid = fig.add_gridspec(2, 3, height_ratios=[1, 3])
        ax = fig.add_subplot(grid[0, :])
        pairs = np.concatenate([np.concatenate(list(xte[:10, 0]), 1),
                                np.concatenate(list(recon[:, 0]), 1)], 0)
        ax.imshow(pairs, cmap="gray")
        ax.set(title="test images (top) and their reconstructions (bottom)", xticks=[],
               yticks=[])
        ax = fig.add_subplot(grid[1, 0])
        ax.imshow(tiles, cmap="gray")
        ax.set(title="decoded from a grid over z" if args.latent == 2 else "samples, z ~ N(0, I)",
               xticks=[], yticks=[])
        ax = fig.add_subplot(grid[1, 1])
        if args.latent > 2:                     # the two leading principal axes of the means
            centred = mu - mu.mean(0)
            mu = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
        points = ax.scatter(mu[:, 0], mu[:, 1], c=test_labels, cmap="tab10", s=3)
        ax.legend(points.legend_elements()[0], FASHION_CLASSES, fontsize=7, markerscale=0.8,
                  loc="upper right")
        ax.set(title="test set's latent means by class", xlabel="z1", ylabel="z2")
        ax = fig.add_subplot(grid[1, 2])
        epochs = range(1, len(hist["train_loss"]) + 1)
        ax.plot(epochs, hist["train_loss"], "--", label="train")
        ax.plot(epochs, hist["test_loss"], label="test (z = mu)")
        ax.set(xlabel="epoch", ylabel="-ELBO (nats / image)", title="loss")
        grid_and_legend(ax)
        save_figure(fig, args.out, f"convolutional VAE on Fashion-MNIST, {args.latent}-D latent "
                                   f"({args.backend})")
    return hist


if __name__ == "__main__":
    main(sys.argv[1:])

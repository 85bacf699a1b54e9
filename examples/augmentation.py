"""Data augmentation: one CNN on 2,000 Fashion-MNIST images, with and without random transforms.

    python examples/augmentation.py             # 2,000 training images, 10 epochs, each way
    python examples/augmentation.py --limit 5000 --backend torch

With few training images a CNN learns them by heart: the training loss keeps falling while the
validation loss turns up. Augmentation draws a new variant of every image each epoch, with
``vision.transforms`` (``torchvision.transforms`` with ``--backend torch``) applied per image
by the dataset, as PyTorch programs do:

    Compose([RandomHorizontalFlip(), RandomAffine(degrees=10, translate=(0.1, 0.1),
             scale=(0.9, 1.1)), ToTensor(), Normalize(mean, std)])

The baseline has only ``ToTensor()`` and ``Normalize``. It prints both runs' validation
accuracy per epoch and saves their curves side by side with a few augmented images
(``augmentation.png``).
"""

import sys

import numpy as np

from _common import Timer, evaluate, image_dataset, load_mnist, as_input, parse, parser, \
    plot_history, pyplot, save_figure, setup, small_cnn, train_epoch


def main(argv=None):
    p = parser(__doc__, limit=2000, out="augmentation.png", epochs=10, lr=2e-3, batch_size=64)
    p.add_argument("--val", type=int, default=5000, help="test images used for validation")
    args = parse(p, argv, limit=256, epochs=2, val=500)
    B = setup(args)
    T = B.vision.transforms
    images, _ = load_mnist("fashion-mnist", args.data_dir, limit=args.limit)
    mean, std = float(images.mean() / 255), float(images.std() / 255)
    xva, yva = load_mnist("fashion-mnist", args.data_dir, train=False, limit=args.val)
    xva = as_input(xva, mean, std)
    tail = [T.ToTensor(), T.Normalize((mean,), (std,))]
    pipelines = {
        "plain": T.Compose(tail),
        "augmented": T.Compose([T.RandomHorizontalFlip(),
                                T.RandomAffine(degrees=10, translate=(0.1, 0.1),
                                               scale=(0.9, 1.1)), *tail]),
    }

    runs = {}
    with Timer() as timer:
        for name, transform in pipelines.items():
            B.lib.manual_seed(args.seed)
            ds = image_dataset(B, "fashion-mnist", args.data_dir, transform, limit=args.limit)
            batches = B.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True,
                                        generator=B.lib.Generator().manual_seed(args.seed))
            model = small_cnn(B)
            opt = B.optim.Adam(model.parameters(), lr=args.lr)
            hist = runs[name] = {"train_loss": [], "train_acc": [], "val_loss": [],
                                 "val_acc": []}
            for epoch in range(1, args.epochs + 1):
                loss, acc = train_epoch(B, model, batches, opt,
                                        desc=f"{name} {epoch}/{args.epochs}")
                val_loss, val_acc = evaluate(B, model, xva, yva)
                for key, value in zip(hist, (loss, acc, val_loss, val_acc)):
                    hist[key].append(value)
                print(f"{name:9s} epoch {epoch:2d}: train loss {loss:.3f}  validation loss "
                      f"{val_loss:.3f} acc {val_acc:.1f}%", flush=True)
    for name, hist in runs.items():
        best = int(np.argmax(hist["val_acc"]))
        print(f"{name:9s}: final validation accuracy {hist['val_acc'][-1]:.1f}% "
              f"(best {hist['val_acc'][best]:.1f}% at epoch {best + 1}), lowest validation loss "
              f"{min(hist['val_loss']):.3f}")
    print(f"backend {args.backend}: {timer.seconds:.1f} s for both runs")

    if args.out:
        fig = pyplot().figure(figsize=(14, 7.5))
        grid = fig.add_gridspec(2, 2, height_ratios=[3, 1])
        axes = (fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]))
        for (name, hist), color in zip(runs.items(), ("C0", "C3")):
            plot_history(axes, hist, name, color=color)
        ax = fig.add_subplot(grid[1, :])
        ds = image_dataset(B, "fashion-mnist", args.data_dir, pipelines["augmented"], limit=4)
        tiles = [B.numpy(ds[i % 4][0])[0] * std + mean for i in range(16)]
        ax.imshow(np.concatenate(tiles, 1), cmap="gray", vmin=0, vmax=1)
        ax.set(title="augmented draws of the first four training images", xticks=[], yticks=[])
        save_figure(fig, args.out, f"Fashion-MNIST, {args.limit} training images: augmentation "
                                   f"against overfitting ({args.backend})")
    return runs


if __name__ == "__main__":
    main(sys.argv[1:])

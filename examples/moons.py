"""Two moons with a small ``nn`` network trained on mini-batches: decision boundary as it learns.

    python examples/moons.py                   # 2-32-32-2 ReLU MLP, Adam, batch 32, 60 epochs
    python examples/moons.py --noise 0.35 --width 64 --backend torch

Data: scikit-learn's ``make_moons`` (``--points`` points, Gaussian ``--noise``), 70% for training
and 30% for validation. The network is an ``nn.Sequential`` of ``Linear`` and ``ReLU`` layers
trained with cross-entropy and Adam on shuffled mini-batches from a ``DataLoader``. It prints the
per-epoch losses and accuracies, and saves the decision boundary after a few epochs and at the
end, with the learning curves (``moons.png``).
"""

import sys

import numpy as np

from _common import Timer, evaluate, loader, parse, parser, plot_boundary, plot_history, \
    pyplot, save_figure, setup, train_epoch


def main(argv=None):
    p = parser(__doc__, out="moons.png", epochs=60, lr=3e-3, batch_size=32)
    p.add_argument("--points", type=int, default=1000)
    p.add_argument("--noise", type=float, default=0.25)
    p.add_argument("--width", type=int, default=32)
    args = parse(p, argv, epochs=3, points=300)
    B = setup(args)
    nn = B.nn
    from sklearn.datasets import make_moons

    x, y = make_moons(args.points, noise=args.noise, random_state=args.seed)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    n_train = int(0.7 * len(x))
    xtr, ytr, xva, yva = x[:n_train], y[:n_train], x[n_train:], y[n_train:]

    model = nn.Sequential(nn.Linear(2, args.width), nn.ReLU(),
                          nn.Linear(args.width, args.width), nn.ReLU(),
                          nn.Linear(args.width, 2))
    opt = B.optim.Adam(model.parameters(), lr=args.lr)
    batches = loader(B, xtr, ytr, args.batch_size, seed=args.seed)
    snap_epochs = sorted({1, max(1, args.epochs // 10), max(1, args.epochs // 3), args.epochs})
    plt = pyplot() if args.out else None
    if plt:
        fig = plt.figure(figsize=(4 * len(snap_epochs), 8))
        grid = fig.add_gridspec(2, len(snap_epochs))
    hist = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
    with Timer() as timer:
        for epoch in range(1, args.epochs + 1):
            loss, acc = train_epoch(B, model, batches, opt, desc=f"epoch {epoch}/{args.epochs}")
            val_loss, val_acc = evaluate(B, model, xva, yva)
            for k, v in zip(hist, (loss, val_loss, acc, val_acc)):
                hist[k].append(v)
            if epoch in snap_epochs or epoch % 10 == 0:
                print(f"epoch {epoch:3d}: train loss {loss:.4f} acc {acc:.1f}%   "
                      f"validation loss {val_loss:.4f} acc {val_acc:.1f}%", flush=True)
            if plt and epoch in snap_epochs:
                plot_boundary(fig.add_subplot(grid[0, snap_epochs.index(epoch)]), B, model,
                              xva, yva, f"after epoch {epoch} (val acc {val_acc:.1f}%)")
    print(f"backend {args.backend}: {args.epochs} epochs ({len(batches)} batches of "
          f"{args.batch_size} each) in {timer.seconds:.2f} s; final validation accuracy "
          f"{hist['val_acc'][-1]:.1f}%")
    if plt:
        half = len(snap_epochs) // 2
        plot_history((fig.add_subplot(grid[1, :half]), fig.add_subplot(grid[1, half:])), hist,
                     "")
        save_figure(fig, args.out, f"two moons, {args.width}-unit MLP, mini-batches of "
                                   f"{args.batch_size} ({args.backend})")
    return hist


if __name__ == "__main__":
    main(sys.argv[1:])

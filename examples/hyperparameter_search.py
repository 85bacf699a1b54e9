"""Random search over learning rate, width and dropout with scikit-learn's ParameterSampler.

    python examples/hyperparameter_search.py    # 12 trials, MLP on 5,000 Fashion-MNIST images
    python examples/hyperparameter_search.py --trials 30 --backend torch

Random search (Bergstra & Bengio 2012) draws each trial's settings from distributions instead of
walking a grid, so that every trial tries a new value of the settings that matter. The space:
learning rate log-uniform on [1e-4, 3e-2] (``scipy.stats.loguniform``), hidden width one of 32,
64, 128, 256, dropout uniform on [0, 0.5]. Each trial trains an MLP 784-width-width-10 with Adam
for ``--epochs`` on ``--limit`` training images and is scored on 2,000 held-out training images;
the best settings are then scored once on the test set (choosing on the test set would report an
optimistic number). It prints the results table and plots validation accuracy against each
setting (``hyperparameter_search.png``).
"""

import sys

import numpy as np

from _common import Timer, evaluate, fit, mnist_arrays, parse, parser, pyplot, save_figure, \
    setup, split


def main(argv=None):
    p = parser(__doc__, limit=7000, out="hyperparameter_search.png", epochs=3, batch_size=64)
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--val", type=int, default=2000, help="held-out training images")
    args = parse(p, argv, limit=600, val=200, trials=3, epochs=2)
    B = setup(args)
    nn = B.nn
    from scipy.stats import loguniform, uniform
    from sklearn.model_selection import ParameterSampler

    x, y, xte, yte = mnist_arrays("fashion-mnist", args.data_dir, args.limit,
                                  1000 if args.smoke else None)
    x, xte = x.reshape(len(x), -1), xte.reshape(len(xte), -1)
    tr, va = split(len(x), args.val, args.seed)
    space = {"lr": loguniform(1e-4, 3e-2), "width": [32, 64, 128, 256],
             "dropout": uniform(0.0, 0.5)}
    trials = list(ParameterSampler(space, n_iter=args.trials, random_state=args.seed))

    def build(width, dropout):
        return nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Dropout(dropout),
                             nn.Linear(width, width), nn.ReLU(), nn.Dropout(dropout),
                             nn.Linear(width, 10))

    results, models = [], []
    with Timer() as timer:
        for k, params in enumerate(trials, 1):
            B.lib.manual_seed(args.seed)
            model = build(params["width"], params["dropout"])
            hist = fit(B, model, B.optim.Adam(model.parameters(), lr=params["lr"]),
                       (x[tr], y[tr]), (x[va], y[va]), args.epochs, args.batch_size, args.seed,
                       desc=f"trial {k}/{len(trials)} ")
            results.append({**params, "val_acc": hist["val_acc"][-1],
                            "val_loss": hist["val_loss"][-1], "train_loss": hist["train_loss"]})
            models.append(model)
    order = sorted(range(len(results)), key=lambda i: -results[i]["val_acc"])
    print(f"{'rank':>4} {'lr':>9} {'width':>5} {'dropout':>7} {'val acc':>8} {'val loss':>8}")
    for rank, i in enumerate(order, 1):
        r = results[i]
        print(f"{rank:4d} {r['lr']:9.2e} {r['width']:5d} {r['dropout']:7.3f} "
              f"{r['val_acc']:7.1f}% {r['val_loss']:8.3f}")
    best = results[order[0]]
    _, test_acc = evaluate(B, models[order[0]], xte, yte)
    print(f"best: lr {best['lr']:.2e}, width {best['width']}, dropout {best['dropout']:.2f}: "
          f"validation {best['val_acc']:.1f}%, test {test_acc:.1f}% "
          f"(worst trial: {results[order[-1]]['val_acc']:.1f}%)")
    print(f"backend {args.backend}: {len(trials)} trials in {timer.seconds:.1f} s")

    if args.out:
        fig, axes = pyplot().subplots(1, 3, figsize=(15, 4.5), sharey=True)
        acc = np.array([r["val_acc"] for r in results])
        for ax, key in zip(axes, ("lr", "width", "dropout")):
            values = np.array([r[key] for r in results])
            points = ax.scatter(values, acc, c=[r["width"] for r in results], cmap="viridis",
                                s=40, edgecolors="k")
            ax.scatter([best[key]], [best["val_acc"]], s=200, facecolors="none",
                       edgecolors="r", lw=2, label="best")
            ax.set(xlabel=key, xscale="log" if key == "lr" else "linear")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("validation accuracy (%)")
        axes[0].legend()
        fig.colorbar(points, ax=axes, label="width")
        save_figure(fig, args.out, f"random search, {len(trials)} trials, best test accuracy "
                                   f"{test_acc:.1f}% ({args.backend})", tight_layout=False)
    return {"trials": results, "test_acc": test_acc}


if __name__ == "__main__":
    main(sys.argv[1:])

"""Regularisation compared on one task: L1 and L2 penalties, weight decay, dropout, batch norm.

    python examples/regularization.py           # MLP on 2,000 MNIST digits, 15 epochs per method
    python examples/regularization.py --limit 5000 --backend torch

An MLP 784-256-256-10 with Adam on few digits overfits; each method is the same network and
optimiser with one change:

- ``L2 penalty``: ``loss + lam * sum(w ** 2)`` over the weight matrices, written in the loop;
- ``L1 penalty``: ``loss + lam * sum(|w|)``, which drives many weights to (nearly) zero;
- ``weight decay``: ``AdamW(weight_decay=...)``, decoupled decay (Loshchilov & Hutter 2019),
  no term in the loss;
- ``dropout``: ``nn.Dropout(p)`` after each hidden layer (Srivastava et al. 2014);
- ``batch norm``: ``nn.BatchNorm1d`` before each hidden activation (Ioffe & Szegedy 2015).

It prints each method's test accuracy, lowest test loss and the share of first-layer weights
below 1e-3, and plots the curves and the weights' magnitudes (``regularization.png``).
"""

import sys

import numpy as np

from _common import Timer, fit, grid_and_legend, mnist_arrays, parse, parser, pyplot, \
    save_figure, setup


def mlp(nn, width, dropout=0.0, batchnorm=False):
    layers, c_in = [], 784
    for _ in range(2):
        layers.append(nn.Linear(c_in, width))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        c_in = width
    return nn.Sequential(*layers, nn.Linear(width, 10))


def main(argv=None):
    p = parser(__doc__, limit=2000, out="regularization.png", epochs=15, lr=1e-3,
               batch_size=64)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--l2", type=float, default=5e-4, help="L2 penalty's lam")
    p.add_argument("--l1", type=float, default=2e-5, help="L1 penalty's lam")
    p.add_argument("--weight-decay", type=float, default=0.5, help="AdamW's weight_decay")
    p.add_argument("--dropout", type=float, default=0.5)
    args = parse(p, argv, limit=256, epochs=2, width=64)
    B = setup(args)
    nn, optim = B.nn, B.optim
    x, y, xte, yte = mnist_arrays("mnist", args.data_dir, args.limit, 1000 if args.smoke else None)
    x, xte = x.reshape(len(x), -1), xte.reshape(len(xte), -1)

    def weights(model):
        return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]

    methods = {   # name: (model, optimiser class and extra arguments, penalty)
        "none": (dict(), (optim.Adam, {}), None),
        "L2 penalty": (dict(), (optim.Adam, {}),
                       lambda m: args.l2 * sum((w ** 2).sum() for w in weights(m))),
        "L1 penalty": (dict(), (optim.Adam, {}),
                       lambda m: args.l1 * sum(w.abs().sum() for w in weights(m))),
        "weight decay": (dict(), (optim.AdamW, {"weight_decay": args.weight_decay}), None),
        "dropout": (dict(dropout=args.dropout), (optim.Adam, {}), None),
        "batch norm": (dict(batchnorm=True), (optim.Adam, {}), None),
    }
    runs, first_layer = {}, {}
    with Timer() as timer:
        for name, (arch, (opt_cls, opt_kw), penalty) in methods.items():
            B.lib.manual_seed(args.seed)
            model = mlp(nn, args.width, **arch)
            opt = opt_cls(model.parameters(), lr=args.lr, **opt_kw)
            runs[name] = fit(B, model, opt, (x, y), (xte, yte), args.epochs, args.batch_size,
                             args.seed, penalty=penalty, desc=f"{name} ")
            first_layer[name] = np.abs(B.numpy(weights(model)[0])).ravel()
    print(f"MLP 784-{args.width}-{args.width}-10, {len(x)} MNIST digits, {args.epochs} epochs:")
    for name, hist in runs.items():
        print(f"  {name:12s} test accuracy {hist['val_acc'][-1]:5.1f}%   lowest test loss "
              f"{min(hist['val_loss']):.3f} (last {hist['val_loss'][-1]:.3f})   train accuracy "
              f"{hist['train_acc'][-1]:5.1f}%   first-layer |w| < 1e-3: "
              f"{100 * (first_layer[name] < 1e-3).mean():4.1f}%")
    print(f"backend {args.backend}: {len(runs)} runs in {timer.seconds:.1f} s")

    if args.out:
        fig, (ax_loss, ax_acc, ax_w) = pyplot().subplots(1, 3, figsize=(17, 4.8))
        for (name, hist), color in zip(runs.items(), [f"C{i}" for i in range(10)]):
            epochs = range(1, len(hist["val_loss"]) + 1)
            ax_loss.plot(epochs, hist["val_loss"], color=color, label=name)
            ax_acc.plot(epochs, hist["val_acc"], color=color, label=name)
            ax_w.hist(np.log10(first_layer[name] + 1e-8), bins=80, histtype="step",
                      color=color, label=name)
        ax_loss.set(xlabel="epoch", ylabel="test cross-entropy", title="test loss")
        ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
        ax_w.set(xlabel="log10 |w| (first layer)", ylabel="weights",
                 title="weight magnitudes at the end")
        grid_and_legend(ax_loss, ax_acc, ax_w, fontsize=8)
        save_figure(fig, args.out,
                    f"regularising an MLP trained on {len(x)} MNIST digits ({args.backend})")
    return runs


if __name__ == "__main__":
    main(sys.argv[1:])

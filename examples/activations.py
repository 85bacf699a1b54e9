"""Activation functions and their derivatives, the derivatives computed by autograd.

    python examples/activations.py
    python examples/activations.py --backend torch

For each activation module of ``nn`` (ReLU, LeakyReLU, ELU, SELU, GELU, SiLU, Mish, Softplus,
Sigmoid, Tanh, Hardswish, Hardtanh) the input is a float64 tensor of ``--points`` values on
[-4, 4] with ``requires_grad=True``; ``act(x).sum().backward()`` leaves the derivative
act'(x) in ``x.grad`` (each output depends on its own input only). Each derivative is checked
against the central difference (act(x + h) - act(x - h)) / 2h, and the largest gap is printed:
about 1e-9 for the smooth functions, and large only beside the kinks (ReLU's 0, Hardtanh's
+-1, ...), where the function has no derivative. Then a small MLP is trained on MNIST with each
activation to show that the choice matters (``--limit`` digits, one epoch). The plot is
``activations.png``.
"""

import sys

import numpy as np

from _common import Timer, fit, mnist_arrays, parse, parser, progress, pyplot, save_figure, \
    setup

NAMES = ["ReLU", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Mish", "Softplus", "Sigmoid",
         "Tanh", "Hardswish", "Hardtanh"]


def main(argv=None):
    p = parser(__doc__, limit=6000, out="activations.png", epochs=1, lr=1e-3, batch_size=64)
    p.add_argument("--points", type=int, default=801)
    args = parse(p, argv, limit=192, points=101)
    B = setup(args)
    lib, nn = B.lib, B.nn
    h = 1e-5
    curves, gaps = {}, {}
    for name in progress(NAMES, "derivatives", unit="fn"):
        act = getattr(nn, name)()
        x = lib.linspace(-4, 4, args.points, dtype=lib.float64).requires_grad_()
        y = act(x)
        y.sum().backward()
        grid = B.numpy(x)
        with lib.no_grad():
            fd = (B.numpy(act(B.tensor(grid + h))) - B.numpy(act(B.tensor(grid - h)))) / (2 * h)
        curves[name] = (grid, B.numpy(y), B.numpy(x.grad), fd)
        gaps[name] = np.abs(B.numpy(x.grad) - fd)
        print(f"{name:10s} max |autograd - central difference| = {gaps[name].max():.1e}"
              f"  (median {np.median(gaps[name]):.1e})")

    # what the choice does to training: the same MLP with each activation
    x, y, xte, yte = mnist_arrays("mnist", args.data_dir, args.limit, 500 if args.smoke else 5000)
    x, xte = x.reshape(len(x), -1), xte.reshape(len(xte), -1)
    trained = {}
    with Timer() as timer:
        for name in NAMES:
            lib.manual_seed(args.seed)
            model = nn.Sequential(nn.Linear(784, 128), getattr(nn, name)(),
                                  nn.Linear(128, 128), getattr(nn, name)(), nn.Linear(128, 10))
            trained[name] = fit(B, model, B.optim.Adam(model.parameters(), lr=args.lr), (x, y),
                                (xte, yte), args.epochs, args.batch_size, args.seed,
                                desc=f"{name} ")
    print(f"MLP 784-128-128-10 on {len(x)} MNIST digits, {args.epochs} epoch(s), test accuracy:")
    for name, hist in sorted(trained.items(), key=lambda kv: -kv[1]["val_acc"][-1]):
        print(f"  {name:10s} {hist['val_acc'][-1]:5.1f}%   "
              f"(training loss {hist['train_loss'][-1]:.3f})")
    print(f"backend {args.backend}: {len(NAMES)} trainings in {timer.seconds:.1f} s")

    if args.out:
        plt = pyplot()
        fig, axes = plt.subplots(3, 4, figsize=(15, 10))
        for ax, (name, (grid, out, grad, fd)) in zip(axes.ravel(), curves.items()):
            ax.plot(grid, out, label=f"{name}(x)")
            ax.plot(grid, grad, label="d/dx by autograd")
            ax.plot(grid[::20], fd[::20], "k.", ms=3, label="central difference")
            ax.axhline(0, color="grey", lw=0.5)
            ax.axvline(0, color="grey", lw=0.5)
            ax.set_title(f"{name}: MNIST MLP {trained[name]['val_acc'][-1]:.1f}%")
            ax.set_ylim(-1.5, 4.2)
            ax.grid(alpha=0.3)
        axes[0, 0].legend(fontsize=8, loc="upper left")
        fig.suptitle(f"activations and their autograd derivatives ({args.backend})")
        save_figure(fig, args.out)
    return {"gaps": gaps, "trained": trained}


if __name__ == "__main__":
    main(sys.argv[1:])

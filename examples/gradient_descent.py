"""Gradient descent made visible: SGD, momentum, RMSprop and Adam on a 2-D loss surface.

    python examples/gradient_descent.py         # Rosenbrock's valley, 1,000 steps each
    python examples/gradient_descent.py --surface beale --steps 3000 --backend torch

The two numbers being optimised are one tensor ``w`` with ``requires_grad=True``; each step is
the training loop of any network (``opt.zero_grad()``, ``loss = f(w)``, ``loss.backward()``,
``opt.step()``) with the optimisers of ``optim``, so the trajectories are what those optimisers
do on a curved, badly scaled valley:

- ``rosenbrock``: (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1) at the end of a long, flat,
  curved valley (Rosenbrock 1960);
- ``beale``: (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2, minimum 0 at (3, 0.5).

It prints each optimiser's final loss, its distance to the minimum and the step at which the
loss first fell below 1e-3, and draws the paths over the contours (``gradient_descent.png``).
"""

import sys

import numpy as np

from _common import Timer, grid_and_legend, parse, parser, progress, pyplot, save_figure, setup

SURFACES = {
    # name: (f on tensors or arrays, start, minimum, plot box)
    "rosenbrock": (lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
                   (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0)),
    "beale": (lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
              + (2.625 - x + x * y ** 3) ** 2,
              (-1.0, 1.5), (3.0, 0.5), (-1.5, 4.0, -1.5, 2.0)),
}


def optimisers(optim, lr_scale):
    """name -> (constructor of the optimiser over a parameter list)."""
    s = lr_scale
    return {
        "SGD (lr 1e-3)": lambda ps: optim.SGD(ps, lr=1e-3 * s),
        "SGD + momentum 0.9": lambda ps: optim.SGD(ps, lr=1e-3 * s, momentum=0.9),
        "RMSprop (lr 1e-2)": lambda ps: optim.RMSprop(ps, lr=1e-2 * s),
        "Adam (lr 5e-2)": lambda ps: optim.Adam(ps, lr=5e-2 * s),
    }


def main(argv=None):
    p = parser(__doc__, out="gradient_descent.png")
    p.add_argument("--surface", choices=sorted(SURFACES), default="rosenbrock")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--lr-scale", type=float, default=1.0, help="multiplies every learning rate")
    args = parse(p, argv, steps=60)
    B = setup(args)
    lib = B.lib
    f, start, minimum, (x0, x1, y0, y1) = SURFACES[args.surface]

    paths, losses = {}, {}
    with Timer() as timer:
        for name, make in optimisers(B.optim, args.lr_scale).items():
            w = lib.tensor(start, dtype=lib.float64, requires_grad=True)
            opt = make([w])
            path, curve = [start], []
            for _ in progress(range(args.steps), name, unit="step"):
                opt.zero_grad()
                loss = f(w[0], w[1])
                loss.backward()
                opt.step()
                curve.append(loss.item())
                path.append(tuple(B.numpy(w)))
            paths[name], losses[name] = np.array(path), np.array(curve)
    for name, curve in losses.items():
        below = np.flatnonzero(curve < 1e-3)
        final = float(f(*paths[name][-1]))
        dist = float(np.hypot(*(paths[name][-1] - np.array(minimum))))
        print(f"{name:20s} loss {curve[0]:9.3f} -> {final:.2e}   distance to minimum {dist:.3f}   "
              f"loss < 1e-3 from step {below[0] + 1 if len(below) else '-'}")
    print(f"backend {args.backend}: {len(losses)} x {args.steps} steps in {timer.seconds:.1f} s")

    if args.out:
        fig, (ax, ax_loss) = pyplot().subplots(1, 2, figsize=(13, 5))
        gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
        ax.contour(gx, gy, np.log10(f(gx, gy) + 1e-3), levels=25, cmap="viridis",
                   linewidths=0.7)
        for name, path in paths.items():
            ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=name)
        ax.plot(*start, "ko")
        ax.plot(*minimum, "r*", ms=14, label="minimum")
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y",
               title=f"{args.surface}: paths from {start} (contours: log10 loss)")
        ax.legend(fontsize=8)
        for name, curve in losses.items():
            ax_loss.semilogy(np.arange(1, len(curve) + 1), curve, label=name)
        ax_loss.set(xlabel="step", ylabel="loss", title="loss per step")
        grid_and_legend(ax_loss, fontsize=8)
        save_figure(fig, args.out, f"optimisers on a 2-D surface ({args.backend})")
    return losses


if __name__ == "__main__":
    main(sys.argv[1:])

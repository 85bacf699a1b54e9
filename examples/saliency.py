"""Which pixels made the CNN decide? Input-gradient saliency and integrated gradients on MNIST.

    python examples/saliency.py                 # small CNN, 10,000 digits, 1 epoch, 8 test digits
    python examples/saliency.py --steps 64 --backend torch

Both explanations are autograd's work: the input gets ``requires_grad_()`` and the class logit
is back-propagated to it.

- saliency (Simonyan, Vedaldi & Zisserman 2014): |d logit_c / d x|, how much each pixel's
  change would move the logit;
- integrated gradients (Sundararajan, Taly & Yan 2017): (x - x0) * the mean of the gradient
  along the straight path from a black baseline x0 to x (``--steps`` midpoint-rule points,
  one batch per digit). Its attributions add up to logit_c(x) - logit_c(x0) ("completeness");
  the script prints how close they come.

It saves the digits with both maps overlaid, red where a pixel speaks for the class and blue
where it speaks against (``saliency.png``).
"""

import sys

import numpy as np

from _common import Timer, fit, mnist_arrays, parse, parser, predict, pyplot, save_figure, \
    setup, small_cnn


def input_gradient(B, model, x, classes):
    """d logit_c / d x for NumPy inputs ``x`` (N, 1, 28, 28) and their classes ``classes``."""
    xt = B.tensor(x).requires_grad_()
    logits = model(xt)
    logits.gather(1, B.tensor(classes[:, None])).sum().backward()
    return B.numpy(xt.grad)


def integrated_gradients(B, model, x, baseline, c, steps):
    """``(attributions (1, 28, 28), logit_c(x) - logit_c(baseline))`` for one image ``x``."""
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)[:, None, None, None]
    path = baseline + alphas * (x - baseline)
    grads = input_gradient(B, model, path, np.full(steps, c))
    ends = predict(B, model, np.stack([x, baseline]))[:, c]
    return (x - baseline) * grads.mean(0), float(ends[0] - ends[1])


def main(argv=None):
    p = parser(__doc__, limit=10_000, out="saliency.png", epochs=1, lr=2e-3, batch_size=64)
    p.add_argument("--digits", type=int, default=8, help="test digits to explain")
    p.add_argument("--steps", type=int, default=32, help="integrated-gradients path points")
    args = parse(p, argv, limit=512, epochs=2, digits=3, steps=8)
    B = setup(args)
    x, y, xte, yte = mnist_arrays("mnist", args.data_dir, args.limit, 1000 if args.smoke else None)
    model = small_cnn(B)
    with Timer() as timer:
        hist = fit(B, model, B.optim.Adam(model.parameters(), lr=args.lr), (x, y), (xte, yte),
                   args.epochs, args.batch_size, args.seed)
    print(f"CNN trained on {len(x)} digits: test accuracy {hist['val_acc'][-1]:.1f}% "
          f"({timer.seconds:.1f} s)")

    model.eval()
    # one test digit of each class first, so the figure shows different digits
    pick = np.array([np.flatnonzero(yte == d)[0] for d in range(10)])[:args.digits]
    xs, ys = xte[pick], yte[pick]
    probs = predict(B, model, xs)
    pred = probs.argmax(1)
    baseline = np.full_like(xs[0], x.min())               # black, in standardised units
    with Timer() as explain:
        sal = np.abs(input_gradient(B, model, xs, pred))
        ig, gaps = zip(*(integrated_gradients(B, model, xi, baseline, c, args.steps)
                         for xi, c in zip(xs, pred)))
    ig = np.stack(ig)
    gaps = np.array(gaps)
    err = np.abs(ig.reshape(len(xs), -1).sum(1) - gaps) / np.maximum(np.abs(gaps), 1e-6)
    print(f"explained {len(xs)} digits ({args.steps} path points each) in {explain.seconds:.2f} s;"
          f" completeness: attributions sum to logit(x) - logit(black) within "
          f"{100 * err.mean():.1f}% on average (max {100 * err.max():.1f}%)")
    print(f"backend {args.backend}: {timer.seconds + explain.seconds:.1f} s in all")

    if args.out:
        fig, axes = pyplot().subplots(3, len(xs), figsize=(1.8 * len(xs), 6), squeeze=False)
        for k in range(len(xs)):
            img = xs[k, 0]
            axes[0, k].imshow(img, cmap="gray")
            axes[0, k].set_title(f"label {ys[k]}, pred {pred[k]}", fontsize=9)
            axes[1, k].imshow(img, cmap="gray")
            axes[1, k].imshow(sal[k, 0], cmap="hot", alpha=0.6)
            lim = np.abs(ig[k, 0]).max() or 1.0
            axes[2, k].imshow(img, cmap="gray")
            axes[2, k].imshow(ig[k, 0], cmap="bwr", vmin=-lim, vmax=lim, alpha=0.7)
        for row, name in enumerate(("digit", "|gradient|", "integrated\ngradients")):
            axes[row, 0].set_ylabel(name)
        for ax in axes.ravel():
            ax.set_xticks([])
            ax.set_yticks([])
        save_figure(fig, args.out, f"what the MNIST CNN looks at (test accuracy "
                                   f"{hist['val_acc'][-1]:.1f}%, {args.backend})")
    return {**hist, "completeness_error": err}


if __name__ == "__main__":
    main(sys.argv[1:])

"""XOR with a network written from scratch: tensors, autograd and a hand-written update.

    python examples/xor.py                     # 2-8-1 tanh network, 300 epochs of full-batch GD
    python examples/xor.py --hidden 2 --epochs 2000 --backend torch

XOR is the classic problem a single linear layer cannot solve. The data: 400 points drawn
around the four corners (+-1, +-1) with Gaussian noise (``--noise``), labelled 1 when exactly
one coordinate is positive; half for training, half for validation.

No ``nn`` and no ``optim``: the weights are plain tensors with ``requires_grad=True``, the
forward pass is ``sigmoid(tanh(x @ W1 + b1) @ W2 + b2)``, the loss binary cross-entropy written
out, ``loss.backward()`` fills ``W.grad``, and gradient descent is ``W -= lr * W.grad`` under
``no_grad()``. It prints the learnt truth table and saves the decision boundary and the learning
curves (``xor.png``).
"""

import sys

import numpy as np

from _common import Timer, parse, parser, plot_boundary, plot_history, progress, pyplot, \
    save_figure, setup


def make_xor(n, noise, rng):
    """``(x float32 (n, 2), y float32 (n,))``: noisy points around the corners, XOR labels."""
    corners = rng.choice([-1.0, 1.0], size=(n, 2))
    x = corners + noise * rng.standard_normal((n, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(np.float32)
    return x.astype(np.float32), y


class ScratchNet:
    """A 2-``hidden``-1 network held as four tensors, forward pass and parameters by hand."""

    def __init__(self, B, hidden, gen):
        lib = B.lib
        # Xavier/Glorot-style initial scale, so tanh starts in its linear range.
        self.W1 = (lib.randn(2, hidden, generator=gen) * (1 / 2 ** 0.5)).requires_grad_()
        self.b1 = lib.zeros(hidden, requires_grad=True)
        self.W2 = (lib.randn(hidden, 1, generator=gen) * (1 / hidden ** 0.5)).requires_grad_()
        self.b2 = lib.zeros(1, requires_grad=True)
        self.lib = lib

    def parameters(self):
        return [self.W1, self.b1, self.W2, self.b2]

    def __call__(self, x):
        """``(N, 2)`` -> ``(N, 1)`` logits."""
        return self.lib.tanh(x @ self.W1 + self.b1) @ self.W2 + self.b2

    # plot_boundary and predict() call these; there is nothing to switch.
    def eval(self):
        return self

    def train(self):
        return self


def bce(lib, logits, y):
    """Binary cross-entropy of sigmoid(logits) against 0/1 targets, written out."""
    p = lib.sigmoid(logits.squeeze(1)).clamp(1e-7, 1 - 1e-7)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def main(argv=None):
    p = parser(__doc__, out="xor.png", epochs=300, lr=0.5)
    p.add_argument("--hidden", type=int, default=8)
    p.add_argument("--noise", type=float, default=0.35, help="sd of the points around corners")
    p.add_argument("--points", type=int, default=400)
    args = parse(p, argv, epochs=60, points=200)
    B = setup(args)
    lib = B.lib
    rng = np.random.default_rng(args.seed)
    x, y = make_xor(args.points, args.noise, rng)
    half = len(x) // 2
    xtr, ytr, xva, yva = (B.tensor(a) for a in (x[:half], y[:half], x[half:], y[half:]))

    net = ScratchNet(B, args.hidden, lib.Generator().manual_seed(args.seed))
    hist = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
    with Timer() as timer:
        for _ in progress(range(args.epochs), f"xor ({args.backend})", unit="epoch"):
            logits = net(xtr)
            loss = bce(lib, logits, ytr)
            loss.backward()
            with lib.no_grad():
                for w in net.parameters():
                    w -= args.lr * w.grad
                    w.grad.zero_()
                val_logits = net(xva)
                hist["train_loss"].append(loss.item())
                hist["val_loss"].append(bce(lib, val_logits, yva).item())
                hist["train_acc"].append(100 * ((logits.squeeze(1) > 0).float() == ytr)
                                         .float().mean().item())
                hist["val_acc"].append(100 * ((val_logits.squeeze(1) > 0).float() == yva)
                                       .float().mean().item())

    print(f"backend {args.backend}: {args.epochs} epochs in {timer.seconds:.2f} s; "
          f"train loss {hist['train_loss'][0]:.3f} -> {hist['train_loss'][-1]:.3f}, "
          f"validation accuracy {hist['val_acc'][-1]:.1f}%")
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], np.float32)
    with lib.no_grad():
        prob = lib.sigmoid(net(B.tensor(corners))).squeeze(1)
    print("truth table (a > 0, b > 0 -> p(XOR)):")
    for (a, b), pr in zip(corners, B.numpy(prob)):
        print(f"  {int(a > 0)} {int(b > 0)} -> {pr:.3f}")

    if args.out:
        plt = pyplot()
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
        plot_boundary(axes[0], B, net, x[half:], y[half:],
                      f"decision boundary (validation points), {args.hidden} tanh units")
        plot_history(axes[1:], hist, "")
        fig.suptitle(f"XOR from scratch ({args.backend})")
        save_figure(fig, args.out)
    return hist


if __name__ == "__main__":
    main(sys.argv[1:])

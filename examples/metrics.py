"""Classification metrics beyond accuracy: precision, recall, F1 and the confusion matrix.

    python examples/metrics.py                  # small CNN, 15,000 Fashion-MNIST images, 2 epochs
    python examples/metrics.py --dataset mnist --backend torch

The CNN's predictions on the 10,000 test images are scored with scikit-learn
(``precision_recall_fscore_support``, ``classification_report``, ``confusion_matrix``):
per class, precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean; the
macro average weighs every class alike. Fashion-MNIST's shirts, T-shirts, pullovers and coats
are where a model that is 88% accurate overall goes wrong, which accuracy alone does not say.
The plot (``metrics.png``) shows the row-normalised confusion matrix and the per-class scores.
"""

import sys

import numpy as np

from _common import FASHION_CLASSES, Timer, fit, mnist_arrays, parse, parser, predict, pyplot, \
    save_figure, setup, small_cnn


def main(argv=None):
    p = parser(__doc__, limit=15_000, out="metrics.png", epochs=2, lr=2e-3, batch_size=64)
    p.add_argument("--dataset", choices=["fashion-mnist", "mnist"], default="fashion-mnist")
    args = parse(p, argv, limit=512, epochs=2)
    B = setup(args)
    from sklearn.metrics import classification_report, confusion_matrix, \
        precision_recall_fscore_support

    x, y, xte, yte = mnist_arrays(args.dataset, args.data_dir, args.limit,
                                  1000 if args.smoke else None)
    model = small_cnn(B)
    with Timer() as timer:
        hist = fit(B, model, B.optim.Adam(model.parameters(), lr=args.lr), (x, y), (xte, yte),
                   args.epochs, args.batch_size, args.seed)
    pred = predict(B, model, xte).argmax(1)
    names = FASHION_CLASSES if args.dataset == "fashion-mnist" else [str(d) for d in range(10)]
    print(classification_report(yte, pred, target_names=names, digits=3, zero_division=0))
    precision, recall, f1, support = precision_recall_fscore_support(yte, pred, zero_division=0)
    cm = confusion_matrix(yte, pred, labels=range(10))
    worst = np.argmin(f1)
    off = cm - np.diag(np.diag(cm))
    a, b = np.unravel_index(off.argmax(), off.shape)
    print(f"accuracy {100 * (pred == yte).mean():.1f}%, macro F1 {f1.mean():.3f}; weakest class "
          f"{names[worst]} (F1 {f1[worst]:.3f}); most common confusion: {cm[a, b]} {names[a]} "
          f"taken for {names[b]}")
    print(f"backend {args.backend}: {args.epochs} epochs on {len(x)} images in "
          f"{timer.seconds:.1f} s")

    if args.out:
        plt = pyplot()
        fig, (ax_cm, ax_bar) = plt.subplots(1, 2, figsize=(14, 5.5),
                                            gridspec_kw={"width_ratios": [1, 1.1]})
        norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        ax_cm.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(10):
            for j in range(10):
                if cm[i, j]:
                    ax_cm.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                               color="white" if norm[i, j] > 0.5 else "black")
        ax_cm.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true",
                  title="confusion matrix (test set; colour: fraction of the row)")
        ax_cm.set_xticklabels(names, rotation=45, ha="right")
        ax_cm.set_yticklabels(names)
        width = 0.27
        for k, (score, label) in enumerate(((precision, "precision"), (recall, "recall"),
                                            (f1, "F1"))):
            ax_bar.bar(np.arange(10) + (k - 1) * width, score, width, label=label)
        ax_bar.set(xticks=range(10), ylim=(max(0.0, f1.min() - 0.15), 1.1),
                   title=f"per class (accuracy {100 * (pred == yte).mean():.1f}%, "
                         f"macro F1 {f1.mean():.3f})")
        ax_bar.set_xticklabels(names, rotation=45, ha="right")
        ax_bar.legend(loc="upper center", ncol=3)
        ax_bar.grid(alpha=0.3, axis="y")
        fig.suptitle(f"small CNN on {args.dataset} ({args.backend})")
        save_figure(fig, args.out)
    return {**hist, "f1": f1, "confusion": cm}


if __name__ == "__main__":
    main(sys.argv[1:])

"""Train a LeNet-style CNN on MNIST or Fashion-MNIST with tapegrad (or, for comparison, PyTorch).

    python examples/mnist_cnn.py                                  # 1 epoch of MNIST
    python examples/mnist_cnn.py --dataset fashion-mnist --epochs 2
    python examples/mnist_cnn.py --data-dir ../shared/data --backend torch   # same model, PyTorch

Model: Conv(1,32,3)-ReLU-MaxPool2-Conv(32,64,3)-ReLU-MaxPool2-Linear(1600,128)-ReLU-Linear(128,10),
cross-entropy, Adam(1e-3), batch 64, inputs standardised with the training set's mean and std.

The data is read from ``--data-dir`` (default ``$TAPEGRAD_DATA`` or ``~/.cache/tapegrad``): the four
IDX files either directly in ``<data-dir>/<dataset>/`` or in ``<data-dir>``. ``--download`` fetches
them (MD5-checked). If they are neither there nor downloadable, the script says so and trains on
scikit-learn's bundled 8x8 digits (upscaled to 28x28) so that it always runs.

The training loop is written once against the names ``autograd``/``nn``/``optim``; with
``--backend torch`` the same code runs on ``torch``/``torch.nn``/``torch.optim``, which is the
porting promise of tapegrad's API (rename the imports, nothing else).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import autograd  # noqa: F401  (first: sets the BLAS thread policy before NumPy loads)
import numpy as np

DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    p.add_argument("--data-dir", default=os.environ.get(
        "TAPEGRAD_DATA", str(Path.home() / ".cache" / "tapegrad")),
        help="directory holding the IDX files (or <dataset>/ sub-directories)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--limit", type=int, default=None,
                   help="train on the first N training images only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--download", action="store_true",
                   help="download missing dataset files (MD5-checked)")
    p.add_argument("--backend", choices=["tapegrad", "torch"], default="tapegrad",
                   help="run the same script on PyTorch for comparison")
    p.add_argument("--threads", type=int, default=None,
                   help="number of BLAS/Numba threads (default: all cores)")
    p.add_argument("--logdir", default=None,
                   help="write TensorBoard logs (loss, accuracy) here (tapegrad[tensorboard])")
    p.add_argument("--min-accuracy", type=float, default=None,
                   help="exit with status 1 if the final test accuracy (%%) is below this")
    return p.parse_args(argv)


def load_arrays(args):
    """Return (x_train uint8 (N,28,28), y_train int64, x_test, y_test, source description)."""
    from autograd import datasets

    cls = getattr(datasets, DATASETS[args.dataset])
    base = Path(args.data_dir).expanduser()
    roots = [base / args.dataset, base]
    errors = []
    for root in roots:
        try:
            train = cls(str(root), train=True)
            test = cls(str(root), train=False)
            return (train.data.numpy(), train.targets.numpy(), test.data.numpy(),
                    test.targets.numpy(), f"{args.dataset} from {root}")
        except (FileNotFoundError, RuntimeError) as e:
            errors.append(str(e))
    if args.download:
        root = base / args.dataset
        try:
            train = cls(str(root), train=True, download=True)
            test = cls(str(root), train=False, download=True)
            return (train.data.numpy(), train.targets.numpy(), test.data.numpy(),
                    test.targets.numpy(), f"{args.dataset} downloaded to {root}")
        except (OSError, RuntimeError) as e:
            errors.append(str(e))
    print(f"\n{args.dataset} is not available: {errors[-1]}\n"
          "Falling back to scikit-learn's bundled 8x8 digits (1,797 images, upscaled to 28x28).\n"
          "To train on the real data, pass --data-dir DIR (holding the four IDX .gz files) or "
          "--download.\n", file=sys.stderr)
    return load_sklearn_digits(args.seed) + ("scikit-learn digits (fallback)",)


def load_sklearn_digits(seed):
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = (d.images / 16.0 * 255).astype(np.uint8)              # (1797, 8, 8)
    imgs = np.kron(imgs, np.ones((3, 3), np.uint8))              # (1797, 24, 24)
    imgs = np.pad(imgs, ((0, 0), (2, 2), (2, 2)))                 # (1797, 28, 28)
    order = np.random.default_rng(seed).permutation(len(imgs))
    imgs, labels = imgs[order], d.target[order].astype(np.int64)
    n_test = 360
    return imgs[n_test:], labels[n_test:], imgs[:n_test], labels[:n_test]


def build(lib, nn):
    """The model, written once for both backends."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def standardise(args, x_train, y_train):
    """The first ``--limit`` training images and labels (all without it) and ``prepare``:
    uint8 images ``(N, 28, 28)`` -> float32 ``(N, 1, 28, 28)``, scaled to [0, 1] and
    standardised with those training images' mean and std. Returns
    ``(x_train, y_train, prepare, mean, std)``."""
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    scaled = x_train.astype(np.float32) / 255.0
    mean, std = float(scaled.mean()), float(scaled.std())

    def prepare(x):
        return ((x.astype(np.float32) / 255.0 - mean) / std)[:, None, :, :]

    return x_train, y_train, prepare, mean, std


def exit_status(accuracy, min_accuracy, say=True):
    """The exit status for CI: 1 (and, if ``say``, a FAILED line on stderr) when
    ``min_accuracy`` is given and the test ``accuracy`` (%) is below it, else 0."""
    if min_accuracy is not None and accuracy < min_accuracy:
        if say:
            print(f"FAILED: test accuracy {accuracy:.2f}% is below the required "
                  f"{min_accuracy:.2f}%", file=sys.stderr)
        return 1
    return 0


def run(args):
    if args.backend == "torch":
        import torch as lib
        import torch.nn as nn
        import torch.optim as optim
        from torch.utils.data import DataLoader, TensorDataset
        if args.threads:
            lib.set_num_threads(args.threads)
    else:
        import autograd as lib
        import nn
        import optim
        from autograd.data import DataLoader, TensorDataset
        if args.threads:
            lib.set_num_threads(args.threads)  # Numba's and BLAS's pools together
    from tqdm import tqdm

    lib.manual_seed(args.seed)
    x_train, y_train, x_test, y_test, source = load_arrays(args)
    x_train, y_train, prepare, mean, std = standardise(args, x_train, y_train)
    xtr, xte = lib.from_numpy(prepare(x_train)), lib.from_numpy(prepare(x_test))
    ytr, yte = lib.from_numpy(y_train), lib.from_numpy(y_test)
    print(f"backend {args.backend}: {source}: {len(xtr)} train / {len(xte)} test images, "
          f"input mean {mean:.4f} std {std:.4f}")

    model = build(lib, nn)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = lib.Generator().manual_seed(args.seed)
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=args.batch_size, shuffle=True,
                        generator=gen)

    writer = None
    if args.logdir:
        if args.backend == "torch":
            from torch.utils.tensorboard import SummaryWriter
        else:
            from autograd.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(args.logdir)

    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        seen = step = 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                   mininterval=0.5 if sys.stderr.isatty() else 10.0, file=sys.stderr)
        for xb, yb in bar:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(xb)
            step += 1
            if step % 50 == 0:
                if writer is not None:
                    writer.add_scalar("train/loss", loss.item(), (epoch - 1) * len(loader)
                                      + step)
                elapsed = time.perf_counter() - start
                bar.set_postfix(loss=f"{loss.item():.4f}", img_s=f"{seen / elapsed:.0f}",
                                refresh=False)
        bar.close()
        train_seconds = time.perf_counter() - start
        accuracy = evaluate(lib, model, xte, yte)
        print(f"epoch {epoch}: test accuracy {accuracy:.2f}%  train time {train_seconds:.1f} s "
              f"({seen / train_seconds:.0f} images/s)", flush=True)
        if writer is not None:
            writer.add_scalar("test/accuracy", accuracy, epoch)
    if writer is not None:
        writer.close()
    return accuracy


def evaluate(lib, model, x, y, batch=1000):
    model.eval()
    correct = 0
    with lib.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            correct += int((logits.argmax(1) == y[i:i + batch]).sum().item())
    return 100.0 * correct / len(x)


def main(argv=None):
    args = parse_args(argv)
    return exit_status(run(args), args.min_accuracy)


if __name__ == "__main__":
    sys.exit(main())

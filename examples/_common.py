"""What the curriculum examples share: the command line (``--backend``, ``--data-dir``,
``--seed``, ``--limit``, ``--out``, ``--threads``), the backend switch, MNIST-family data as
arrays, a progress bar, one training epoch and one evaluation, and matplotlib set-up.

The examples are written once against the names a PyTorch program uses (``lib``, ``nn``,
``optim``, ``F``, ``data``, ``vision``); :func:`backend` binds them to tapegrad (``autograd``,
``nn``, ``optim``, ``nn.functional``, ``autograd.data``, ``vision``) or, with ``--backend
torch``, to PyTorch (``torch``, ``torch.nn``, ``torch.optim``, ``torch.nn.functional``,
``torch.utils.data``, ``torchvision``), which is tapegrad's porting promise: rename the imports,
nothing else.

Data: the IDX files of MNIST and Fashion-MNIST in ``--data-dir`` (default ``$TAPEGRAD_DATA``, else
``../shared/data`` next to the repository), read with ``vision.datasets`` for both backends
(torchvision's readers want the files unzipped under ``<root>/<Name>/raw``; the arrays are the
same either way).
"""

import argparse
import functools
import importlib.util
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:       # run from anywhere: this checkout's packages come first
    sys.path.insert(0, str(REPO))

import autograd  # noqa: F401,E402  (first: sets the BLAS thread policy before NumPy loads)
import numpy as np  # noqa: E402



def _default_data():
    """$TAPEGRAD_DATA, else the nearest ``shared/data`` beside the repository or above it (a
    git worktree sits one level deeper than the main checkout)."""
    if os.environ.get("TAPEGRAD_DATA"):
        return Path(os.environ["TAPEGRAD_DATA"])
    for up in REPO.parents:
        if (up / "shared" / "data").is_dir():
            return up / "shared" / "data"
    return REPO.parent / "shared" / "data"


DEFAULT_DATA = _default_data()
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
FASHION_CLASSES = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                   "sneaker", "bag", "boot"]


# ---- command line -------------------------------------------------------------------------------
def parser(doc, limit=None, out=None, epochs=None, lr=None, batch_size=None):
    """An ``argparse.ArgumentParser`` with the options every example has. ``doc`` is the
    example's module docstring (its first line is the description); the keyword arguments are
    the example's defaults (None leaves the option out)."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--backend", choices=["tapegrad", "torch"], default="tapegrad",
                   help="run the same script on PyTorch for comparison")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA),
                   help="directory holding mnist/ and fashion-mnist/ (the IDX .gz files)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/Numba threads (default: all cores)")
    if limit is not None:
        p.add_argument("--limit", type=int, default=limit,
                       help="training examples to use (0: all)")
    if epochs is not None:
        p.add_argument("--epochs", type=int, default=epochs)
    if lr is not None:
        p.add_argument("--lr", type=float, default=lr)
    if batch_size is not None:
        p.add_argument("--batch-size", type=int, default=batch_size)
    if out is not None:
        p.add_argument("--out", default=out, help="where the PNG goes ('' for none)")
    p.add_argument("--smoke", action="store_true",
                   help="a few steps on a small slice, to check that it runs (the tests' setting)")
    return p


def parse(p, argv, **smoke):
    """``p.parse_args(argv)``; with ``--smoke``, the keyword arguments then override the parsed
    values (the example's small settings)."""
    args = p.parse_args(argv)
    if args.smoke:
        for key, value in smoke.items():
            setattr(args, key, value)
    return args


# ---- the backend switch -------------------------------------------------------------------------
class Backend(SimpleNamespace):
    """``name`` ('tapegrad' or 'torch'), ``lib`` (autograd / torch), ``nn``, ``optim``, ``F``
    (nn.functional), ``data`` (autograd.data / torch.utils.data); ``vision`` (vision /
    torchvision) is imported on first use."""

    @property
    def vision(self):
        if "_vision" not in self.__dict__:
            if self.name == "torch":
                self._vision = import_torchvision()
            else:
                import vision
                import vision.datasets  # noqa: F401
                import vision.transforms  # noqa: F401
                import vision.utils  # noqa: F401
                self._vision = vision
        return self._vision

    @property
    def ckpt_suffix(self):
        """The file suffix for ``lib.save`` (safetensors for tapegrad, PyTorch's zip for torch)."""
        return ".pt" if self.name == "torch" else ".safetensors"

    def tensor(self, array):
        """A tensor over a NumPy array (``from_numpy``; copied first if it is read-only or not
        contiguous)."""
        array = np.asarray(array)        # (not ascontiguousarray: it makes 0-d arrays 1-d)
        if not (array.flags.c_contiguous and array.flags.writeable):
            array = array.copy()
        return self.lib.from_numpy(array)

    @staticmethod
    def numpy(t):
        """A tensor's values as a NumPy array (detached first)."""
        return t.detach().numpy()


def backend(name="tapegrad", seed=0, threads=None):
    """The :class:`Backend` for ``name``, seeded with ``seed`` (``lib.manual_seed``)."""
    if name == "torch":
        import torch as lib
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
        import torch.utils.data as data
    elif name == "tapegrad":
        import autograd as lib
        import autograd.data as data
        import nn
        import nn.functional as F
        import optim
    else:
        raise ValueError(f"backend: expected 'tapegrad' or 'torch', got {name!r}")
    if threads:
        lib.set_num_threads(threads)
    lib.manual_seed(seed)
    return Backend(name=name, lib=lib, nn=nn, optim=optim, F=F, data=data)


def setup(args):
    """:func:`backend` from parsed arguments (``--backend``, ``--seed``, ``--threads``)."""
    return backend(args.backend, args.seed, args.threads)


def import_torchvision():
    """``torchvision`` beside PyTorch's CPU build, through the operator-schema shim that the
    tests use (``tests/_torchvision.py``; the only torchvision wheel is the CUDA build, whose
    C++ operators cannot load beside CPU torch). Exits with a message if it cannot be
    imported."""
    shim = REPO / "tests" / "_torchvision.py"
    try:
        if shim.is_file():
            spec = importlib.util.spec_from_file_location("_tapegrad_torchvision_shim", shim)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.import_torchvision()
        import torchvision
        return torchvision
    except ImportError as e:
        sys.exit(f"--backend torch needs torchvision for this example: {e}")


# ---- data ---------------------------------------------------------------------------------------
def load_mnist(name, data_dir, train=True, limit=None):
    """``(images uint8 (N, 28, 28), labels int64 (N,))`` of ``name`` ('mnist' or
    'fashion-mnist') from ``<data_dir>/<name>/`` (or ``data_dir`` itself), read with
    ``vision.datasets`` (once per process: the arrays are cached, read-only); the first
    ``limit`` examples if ``limit``. Exits with a message naming ``--data-dir`` if the files are
    not there."""
    images, labels = _read_mnist(name, str(Path(data_dir).expanduser()), bool(train))
    if limit:
        images, labels = images[:limit], labels[:limit]
    return images, labels


@functools.lru_cache(maxsize=8)
def _read_mnist(name, data_dir, train):
    from vision import datasets

    cls = getattr(datasets, DATASETS[name])
    base = Path(data_dir)
    error = None
    for root in (base / name, base):
        try:
            ds = cls(root=str(root), train=train, download=False)
            break
        except FileNotFoundError as e:
            error = e
    else:
        sys.exit(f"{name} not found under --data-dir {base}: {error}\n"
                 f"Pass --data-dir DIR where DIR/{name}/ holds the four IDX .gz files.")
    images, labels = ds.data.numpy().copy(), ds.targets.numpy().copy()
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def as_input(images, mean=None, std=None):
    """uint8 ``(N, 28, 28)`` -> float32 ``(N, 1, 28, 28)``: scaled to [0, 1], then standardised
    with ``mean`` and ``std`` if given."""
    x = images.astype(np.float32)[:, None] / 255.0
    if mean is not None:
        x = (x - np.float32(mean)) / np.float32(std)
    return x


def mnist_arrays(name, data_dir, limit=None, n_test=None):
    """``(x_train, y_train, x_test, y_test)`` of ``name``: float32 ``(N, 1, 28, 28)`` inputs
    standardised with the training slice's mean and std, int64 labels; the first ``limit``
    training and ``n_test`` test examples."""
    xtr, ytr = load_mnist(name, data_dir, True, limit)
    xte, yte = load_mnist(name, data_dir, False, n_test)
    mean, std = xtr.mean() / 255.0, xtr.std() / 255.0
    return as_input(xtr, mean, std), ytr, as_input(xte, mean, std), yte


def split(n, n_val, seed):
    """``(train indices, validation indices)``: a random split of ``range(n)``."""
    order = np.random.default_rng(seed).permutation(n)
    return order[n_val:], order[:n_val]


def loader(B, x, y, batch_size, shuffle=True, seed=0):
    """A ``DataLoader`` over NumPy arrays ``x``, ``y`` (a ``TensorDataset``), shuffled by a
    generator seeded with ``seed``."""
    ds = B.data.TensorDataset(B.tensor(x), B.tensor(y))
    gen = B.lib.Generator().manual_seed(seed)
    return B.data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=gen)


def image_dataset(B, name, data_dir, transform, train=True, limit=None):
    """``name`` as the backend's image dataset: ``vision.datasets.<Name>(root, train,
    transform=transform)`` for tapegrad; for torch, a ``torch.utils.data.Dataset`` that does
    what ``torchvision.datasets.MNIST.__getitem__`` does (a PIL image, mode 'L', through
    ``transform``; the label an int) over the same arrays. The first ``limit`` examples if
    ``limit`` (a ``Subset``)."""
    if B.name == "tapegrad":
        from vision import datasets
        load_mnist(name, data_dir, train)          # the same error message when missing
        base = Path(data_dir).expanduser()
        root = base / name if (base / name).is_dir() else base
        ds = getattr(datasets, DATASETS[name])(root=str(root), train=train, transform=transform)
    else:
        from PIL import Image

        images, labels = load_mnist(name, data_dir, train)

        class ArrayImages(B.data.Dataset):
            def __len__(self):
                return len(images)

            def __getitem__(self, i):
                return transform(Image.fromarray(images[i], mode="L")), int(labels[i])

        ds = ArrayImages()
    if limit:
        ds = B.data.Subset(ds, range(min(limit, len(ds))))
    return ds


# ---- training -----------------------------------------------------------------------------------
def progress(iterable, desc, **kw):
    """A tqdm progress bar on stderr (redrawn every 0.5 s on a terminal, every 10 s in a log)."""
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, file=sys.stderr, leave=kw.pop("leave", False),
                mininterval=0.5 if sys.stderr.isatty() else 10.0, **kw)


def train_epoch(B, model, batches, opt, loss_fn=None, desc="train", penalty=None):
    """One pass of ``opt`` over ``batches`` (``(x, y)`` pairs) with a progress bar; returns
    ``(mean loss, accuracy %)`` over the epoch (accuracy of argmax of the logits).
    ``penalty(model)``, if given, is added to the loss (a regulariser)."""
    loss_fn = loss_fn or B.F.cross_entropy
    model.train()
    total = correct = seen = 0
    bar = progress(batches, desc, unit="batch")
    for step, (xb, yb) in enumerate(bar, 1):
        logits = model(xb)
        loss = loss_fn(logits, yb)
        full = loss + penalty(model) if penalty is not None else loss
        opt.zero_grad()
        full.backward()
        opt.step()
        n = len(yb)
        total += loss.item() * n
        correct += int((logits.argmax(1) == yb).sum().item())
        seen += n
        if step % 20 == 0:
            bar.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
    bar.close()
    return total / seen, 100.0 * correct / seen


def predict(B, model, x, batch=1000):
    """Logits of ``model`` (eval mode, no graph) for NumPy inputs ``x``, as a NumPy array."""
    model.eval()
    with B.lib.no_grad():
        return np.concatenate([B.numpy(model(B.tensor(x[i:i + batch])))
                               for i in range(0, len(x), batch)])


def evaluate(B, model, x, y, batch=1000):
    """``(mean cross-entropy, accuracy %)`` of ``model`` on NumPy arrays ``x``, ``y``."""
    logits = predict(B, model, x, batch)
    shifted = logits - logits.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    loss = float(-logp[np.arange(len(y)), y].mean())
    return loss, 100.0 * float((logits.argmax(1) == y).mean())


def fit(B, model, opt, train, val, epochs, batch_size=64, seed=0, penalty=None, desc="",
        on_epoch=None):
    """Train ``model`` for ``epochs`` on ``train`` = ``(x, y)`` NumPy arrays, measuring ``val``
    = ``(x, y)`` after each epoch; returns the history (lists ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc``). ``on_epoch(epoch, history)`` is called after each epoch; if it
    returns True, training stops there."""
    batches = loader(B, *train, batch_size, seed=seed)
    hist = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        loss, acc = train_epoch(B, model, batches, opt, desc=f"{desc}epoch {epoch}/{epochs}",
                                penalty=penalty)
        val_loss, val_acc = evaluate(B, model, *val)
        for key, value in zip(("train_loss", "train_acc", "val_loss", "val_acc"),
                              (loss, acc, val_loss, val_acc)):
            hist[key].append(value)
        if on_epoch is not None and on_epoch(epoch, hist):
            break
    return hist


def small_cnn(B, width=16, hidden=64, dropout=0.0, batchnorm=False, classes=10):
    """A small MNIST CNN, ``(N, 1, 28, 28)`` -> ``(N, classes)`` logits:
    Conv(1,w,3,pad 1)-ReLU-MaxPool2-Conv(w,2w,3,pad 1)-ReLU-MaxPool2-Flatten-Linear(2w*49,
    hidden)-ReLU-Linear(hidden, classes), with BatchNorm2d after each convolution if
    ``batchnorm`` and Dropout before each Linear if ``dropout``."""
    nn = B.nn

    def conv(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1)] + \
            ([nn.BatchNorm2d(c_out)] if batchnorm else []) + [nn.ReLU(), nn.MaxPool2d(2)]

    drop = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*conv(1, width), *conv(width, 2 * width), nn.Flatten(),
                         *drop, nn.Linear(2 * width * 49, hidden), nn.ReLU(),
                         *drop, nn.Linear(hidden, classes))


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# ---- plots --------------------------------------------------------------------------------------
def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path, title=None, tight_layout=True):
    """The last step of every example's ``--out`` plot: give ``fig`` the overall ``title``
    (``fig.suptitle``) if one is given, lay it out tight (``tight_layout=False`` keeps the
    layout as drawn, e.g. for a colorbar shared by several axes), save it to ``path`` (PNG,
    120 dpi), close it and say where it went."""
    if title is not None:
        fig.suptitle(title)
    if tight_layout:
        fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot().close(fig)
    print(f"saved {path}")


def grid_and_legend(*axes, **legend):
    """The look of the examples' curves: a light grid (alpha 0.3) and a legend on each of
    ``axes``; ``legend`` are keyword arguments of ``ax.legend`` (e.g. ``fontsize=8``)."""
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(**legend)


def plot_history(axes, history, label, **style):
    """Draw one run's learning curves on ``axes`` = (loss axes, accuracy axes): ``history`` has
    lists ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc`` (one value per epoch; any may
    be missing)."""
    ax_loss, ax_acc = axes
    for key, ax in (("loss", ax_loss), ("acc", ax_acc)):
        for split, ls in (("train", "--"), ("val", "-")):
            values = history.get(f"{split}_{key}")
            if values:
                ax.plot(range(1, len(values) + 1), values, ls, label=f"{label} {split}",
                        **style)
    ax_loss.set_ylabel("cross-entropy")
    ax_acc.set_ylabel("accuracy (%)")
    for ax in axes:
        ax.set_xlabel("epoch")
    grid_and_legend(*axes, fontsize=8)


def plot_boundary(ax, B, model, x, y, title, steps=200):
    """The decision regions of a 2-input classifier ``model`` over the range of ``x`` (N, 2),
    with the points ``x`` coloured by their labels ``y``."""
    pad = 0.5
    (x0, y0), (x1, y1) = x.min(0) - pad, x.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
    logits = predict(B, model, grid, batch=10_000)
    if logits.shape[1] == 1:
        prob = 1 / (1 + np.exp(-logits[:, 0]))
    else:
        e = np.exp(logits - logits.max(1, keepdims=True))
        prob = e[:, 1] / e.sum(1)
    ax.contourf(gx, gy, prob.reshape(gx.shape), levels=20, cmap="RdBu_r", alpha=0.7)
    ax.contour(gx, gy, prob.reshape(gx.shape), levels=[0.5], colors="k", linewidths=1)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=14, linewidths=0.5)
    ax.set_title(title)
    ax.set_aspect("equal")

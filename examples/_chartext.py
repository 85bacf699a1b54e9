"""What the character-level language-model examples (``char_lstm.py``, ``tiny_gpt.py``) share:
the text they train on, its character encoding and random windows, and the loss-curve plot.

Data: a UTF-8 text file; by default ``../shared/data/text/tinyshakespeare.txt`` next to the
repository if it exists, else the Python standard library's own ``.py`` sources (present in
every installation), so the examples always run.
"""

import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "text" / "tinyshakespeare.txt"


def stdlib_text(limit=1_200_000):
    """``(text, description)``: the standard library's ``.py`` sources, concatenated (up to
    ``limit`` characters)."""
    root = Path(os.path.dirname(os.__file__))
    parts, n = [], 0
    for path in sorted(root.glob("*.py")):
        try:
            s = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(s)
        n += len(s)
        if n >= limit:
            break
    return "".join(parts)[:limit], f"Python standard library sources ({root})"


def load_text(path, prog):
    """``(text, description)`` from ``path``, else the default Tiny Shakespeare file, else the
    standard library's sources. Exits with a message naming ``prog`` if ``path`` is not a file."""
    if path is None:
        if not DEFAULT_DATA.is_file():
            return stdlib_text()
        path = DEFAULT_DATA
    path = Path(path)
    if not path.is_file():
        sys.exit(f"{prog}: --data {path} is not a file")
    return path.read_text(encoding="utf-8", errors="replace"), str(path)


class CharData:
    """The character vocabulary (``chars``, ``stoi``), the encoded train split (first 90%) and
    validation split (last 10%), and random windows of ``window`` characters."""

    def __init__(self, text, window, seed, prog):
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        data = np.array([self.stoi[c] for c in text], dtype=np.int64)
        n = int(len(data) * 0.9)
        self.train, self.val = data[:n], data[n:]
        self.window = window
        if len(self.val) <= window + 1:
            sys.exit(f"{prog}: the text ({len(text)} characters) is too short for windows of "
                     f"{window}")
        self.rng = np.random.default_rng(seed)

    def batch(self, split, batch_size, rng=None):
        """``(x, y)`` int64 ``(batch_size, window)``: random windows of ``split`` ('train' or
        'val') and the same windows shifted by one character (the targets)."""
        d = self.train if split == "train" else self.val
        starts = (rng or self.rng).integers(0, len(d) - self.window - 1, batch_size)
        chunk = d[starts[:, None] + np.arange(self.window + 1)]
        return chunk[:, :-1], chunk[:, 1:]

    def decode(self, ids):
        """Character ids -> text."""
        return "".join(self.chars[i] for i in ids)


def save_plot(path, steps, losses, val_steps, val_losses, title):
    """Smoothed training loss and validation loss (nats/char) against steps, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    losses = np.asarray(losses)
    k = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
    ax.plot(steps[k - 1:k - 1 + len(smooth)], smooth, lw=1, label=f"train (mean of {k} steps)")
    ax.plot(val_steps, val_losses, "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/char)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

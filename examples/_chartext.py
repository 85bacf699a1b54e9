"""What the character-level language-model examples (``char_lstm.py``, ``tiny_gpt.py``) share:
the text they train on, its character encoding and random windows, the validation loss, the
time-budgeted training loop with its progress bar and periodic samples, the final report and the
loss-curve plot.

Data: a UTF-8 text file; by default ``../shared/data/text/tinyshakespeare.txt`` next to the
repository if it exists, else the Python standard library's own ``.py`` sources (present in
every installation), so the examples always run.
"""

import math
import os
import sys
import time
from pathlib import Path

import autograd  # noqa: F401  (first: sets the BLAS thread policy before NumPy loads)
import numpy as np

import nn

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


def setup(args, window, prog):
    """What both examples do first: ``args.threads`` BLAS/Numba threads (if given), the seeds,
    then the text and its :class:`CharData` in windows of ``window``. Returns
    ``(rng, text, source, data)``, ``rng`` the NumPy generator for sampling."""
    if args.threads:
        autograd.set_num_threads(args.threads)
    autograd.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    text, source = load_text(args.data, prog)
    return rng, text, source, CharData(text, window, args.seed, prog)


def evaluate(model, data, loss_of, batches, batch_size):
    """Mean validation cross-entropy (nats/char) of ``loss_of(model, x, y)`` over ``batches``
    fixed random windows (the same every call)."""
    rng = np.random.default_rng(1234)
    model.eval()
    total = 0.0
    with autograd.no_grad():
        for _ in range(batches):
            x, y = data.batch("val", batch_size, rng)
            total += float(loss_of(model, x, y).item())
    model.train()
    return total / batches


def train(model, opt, data, loss_of, args, clip, eval_sample, max_steps=None, before_step=None):
    """Train for ``args.minutes`` of training time (evaluation not counted) or ``max_steps``
    steps: Adam-style steps on ``loss_of`` of random training windows, gradient norm clipped to
    ``clip``; every ``args.eval_every`` seconds (and at the end) the validation loss over
    ``args.eval_batches`` batches and a sample (``eval_sample()``) are written above the tqdm bar.
    ``before_step(step)`` (optional) runs before each step (a learning-rate schedule).

    Returns a dict: ``step``, ``train_time``, ``wall`` (seconds), ``steps``, ``losses`` (one per
    step), ``val_steps``, ``val_losses``."""
    from tqdm import tqdm

    budget = args.minutes * 60.0
    limit = max_steps if max_steps else float("inf")
    steps, losses, val_steps, val_losses = [], [], [], []
    start = time.perf_counter()
    train_time, next_eval, step = 0.0, args.eval_every, 0
    if max_steps:
        bar = tqdm(total=max_steps, unit="step", desc="training")
    else:
        bar = tqdm(total=round(budget), unit="s", desc="training",
                   bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt}s [{postfix}]")
    while train_time < budget and step < limit:
        t0 = time.perf_counter()
        if before_step is not None:
            before_step(step)
        x, y = data.batch("train", args.batch_size)
        loss = loss_of(model, x, y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        step += 1
        steps.append(step)
        losses.append(float(loss.item()))
        dt = time.perf_counter() - t0
        train_time += dt
        bar.update(1 if max_steps else min(dt, budget - bar.n))
        bar.set_postfix_str(f"step {step}, loss {losses[-1]:.3f}"
                            + (f", val {val_losses[-1]:.3f}" if val_losses else ""))
        if train_time >= next_eval or train_time >= budget or step >= limit:
            next_eval += args.eval_every
            val = evaluate(model, data, loss_of, args.eval_batches, args.batch_size)
            val_steps.append(step)
            val_losses.append(val)
            bar.write(f"\n[step {step}, {train_time:.0f}s] validation loss {val:.3f} nats/char; "
                      f"sample:\n{eval_sample()}\n")
    bar.close()
    return dict(step=step, train_time=train_time, wall=time.perf_counter() - start, steps=steps,
                losses=losses, val_steps=val_steps, val_losses=val_losses)


def report(run, source, plot, title, sample_header, final_sample):
    """Print the step count, timings and final validation loss of ``run`` (what :func:`train`
    returns), then ``final_sample()`` under ``sample_header``; save the loss curve to ``plot``
    (a path, or '' for none) titled ``title`` on the text's name. Returns the final validation
    loss."""
    step, train_time, val = run["step"], run["train_time"], run["val_losses"][-1]
    print(f"\n{step} steps in {train_time:.1f}s of training ({run['wall']:.1f}s with evaluation), "
          f"{train_time / max(step, 1) * 1e3:.0f} ms/step; final validation loss "
          f"{val:.3f} nats/char ({val / math.log(2):.3f} bits/char)")
    print(f"\nsample ({sample_header}):\n" + final_sample())
    if plot:
        name = Path(source).name if Path(source).is_file() else "Python stdlib source"
        save_plot(plot, run["steps"], run["losses"], run["val_steps"], run["val_losses"],
                  f"{title} on {name}")
        print(f"loss curve saved to {plot}")
    return val

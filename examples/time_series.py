"""Forecast a noisy sine wave from a window of its past values: an MLP and an LSTM side by side.

    python examples/time_series.py                    # 1,500 steps each (or 2 minutes)
    python examples/time_series.py --steps 300 --plot sine.png

The series is ``y_t = sin(2 pi t / period) + 0.5 sin(2 pi t / (period * 2.7)) + noise`` with
Gaussian noise of standard deviation ``--noise``. Each example is a window of ``--window`` past
values and the target is the next value. The first 80% of the series (in time) is for training,
the rest for testing, so the test measures forecasting on unseen time.

Models (both trained with Adam on mean-squared error, same batches and steps):

- MLP: ``Linear(window, 64) - ReLU - Linear(64, 64) - ReLU - Linear(64, 1)`` on the window as a
  flat vector;
- LSTM: ``LSTM(1, hidden, batch_first=True)`` over the window (one value per step), then
  ``Linear(hidden, 1)`` on the last hidden state.

It prints both test MSEs next to the noise floor (``noise**2``: the error of a perfect
forecaster) and saves a plot: the training curves and the one-step forecasts of both models on
a stretch of the test series.
"""

import argparse
import time

import autograd  # noqa: F401  (first: sets the BLAS thread policy before NumPy loads)
import numpy as np

import nn
import nn.functional as F
import optim


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--length", type=int, default=3000, help="points in the series")
    p.add_argument("--period", type=float, default=50.0, help="period of the main sine")
    p.add_argument("--noise", type=float, default=0.1, help="noise standard deviation")
    p.add_argument("--window", type=int, default=30, help="past values the models see")
    p.add_argument("--hidden", type=int, default=32, help="LSTM hidden size")
    p.add_argument("--steps", type=int, default=1500, help="training steps per model")
    p.add_argument("--minutes", type=float, default=2.0,
                   help="time budget per model (whichever of --steps/--minutes comes first)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default="time_series.png", help="plot PNG ('' for none)")
    p.add_argument("--threads", type=int, default=None, help="BLAS/Numba threads")
    return p.parse_args(argv)


def make_series(n, period, noise, rng):
    """``(noisy float32 series (n,), clean series (n,))``: two sines plus Gaussian noise."""
    t = np.arange(n)
    clean = np.sin(2 * np.pi * t / period) + 0.5 * np.sin(2 * np.pi * t / (period * 2.7))
    return (clean + noise * rng.standard_normal(n)).astype(np.float32), clean


def windows(series, w):
    """``(X (M, w), y (M,))``: every window of ``w`` values and the value after it."""
    idx = np.arange(len(series) - w)[:, None] + np.arange(w)
    return series[idx], series[w:]


class MLP(nn.Module):
    """Two hidden ReLU layers of 64 on the flat window: ``(B, window)`` -> ``(B,)``."""

    def __init__(self, window):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(window, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                 nn.Linear(64, 1))

    def forward(self, x):                    # (B, window) -> (B,)
        return self.net(x).squeeze(-1)


class LSTMForecaster(nn.Module):
    """LSTM over the window, one value per step, then a linear head on the last hidden state:
    ``(B, window)`` -> ``(B,)``."""

    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):                    # (B, window) -> (B,)
        out, _ = self.lstm(x.unsqueeze(-1))
        return self.head(out[:, -1]).squeeze(-1)


def train(name, model, X, y, args, rng, bar_pos):
    """Adam on MSE over random batches for ``args.steps`` steps or ``args.minutes``; returns
    ``(per-step losses, seconds)``."""
    from tqdm import tqdm

    opt = optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    budget = args.minutes * 60.0
    start = time.perf_counter()
    bar = tqdm(range(args.steps), desc=f"{name:>4}", unit="step", position=bar_pos, leave=True)
    for step in bar:
        idx = rng.integers(0, len(X), args.batch_size)
        loss = F.mse_loss(model(autograd.tensor(X[idx])), autograd.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
        if step % 20 == 0:
            bar.set_postfix_str(f"mse {np.mean(losses[-20:]):.4f}")
        if time.perf_counter() - start > budget:
            bar.write(f"{name}: time budget of {args.minutes:g} min reached after {step + 1} "
                      "steps")
            break
    bar.close()
    return losses, time.perf_counter() - start


def predict(model, X):
    """One-step forecasts for every window of ``X`` (no graph, eval mode)."""
    model.eval()
    with autograd.no_grad():
        out = np.concatenate([model(autograd.tensor(X[i:i + 512]))._data
                              for i in range(0, len(X), 512)])
    model.train()
    return out


def save_plot(path, curves, y_test, preds, window):
    """Training curves (left) and forecasts on the first 200 test steps (right) as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    for name, losses in curves.items():
        k = max(1, len(losses) // 60)
        ax1.plot(np.convolve(losses, np.ones(k) / k, mode="valid"), label=name, lw=1)
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_ylabel("training MSE")
    ax1.set_title("training")
    ax1.grid(alpha=0.3)
    ax1.legend()
    n = min(200, len(y_test))
    ax2.plot(y_test[:n], color="0.6", lw=1, label="test series (noisy)")
    for name, p in preds.items():
        ax2.plot(p[:n], lw=1.2, label=f"{name} forecast")
    ax2.set_xlabel("test time step")
    ax2.set_title(f"one-step forecasts from the last {window} values")
    ax2.grid(alpha=0.3)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Run the comparison; returns ``{model name: test MSE}``."""
    args = parse_args(argv)
    if args.threads:
        autograd.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    autograd.manual_seed(args.seed)
    series, _ = make_series(args.length, args.period, args.noise, rng)
    split = int(0.8 * len(series))
    X_train, y_train = windows(series[:split], args.window)
    X_test, y_test = windows(series[split - args.window:], args.window)
    print(f"series of {len(series)} points (noise sd {args.noise}); {len(X_train)} training and "
          f"{len(X_test)} test windows of {args.window}")

    models = {"MLP": MLP(args.window), "LSTM": LSTMForecaster(args.hidden)}
    curves, preds, results = {}, {}, {}
    for pos, (name, model) in enumerate(models.items()):
        curves[name], seconds = train(name, model, X_train, y_train, args,
                                      np.random.default_rng(args.seed + 1), pos)
        preds[name] = predict(model, X_test)
        results[name] = (float(np.mean((preds[name] - y_test) ** 2)), len(curves[name]), seconds)
    naive = float(np.mean((X_test[:, -1] - y_test) ** 2))
    print(f"\ntest MSE (noise floor {args.noise ** 2:.4f}; repeating the last value: "
          f"{naive:.4f}):")
    for name, (mse, steps, seconds) in results.items():
        print(f"  {name:>4}: {mse:.4f}   ({steps} steps, {seconds:.1f}s)")
    if args.plot:
        save_plot(args.plot, curves, y_test, preds, args.window)
        print(f"plot saved to {args.plot}")
    return {k: v[0] for k, v in results.items()}


if __name__ == "__main__":
    main()

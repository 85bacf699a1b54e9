"""Character-level LSTM language model (Karpathy's char-rnn, 2015) trained with tapegrad.

    python examples/char_lstm.py                      # Tiny Shakespeare if found, 5 minutes
    python examples/char_lstm.py --minutes 0.5        # a quick look
    python examples/char_lstm.py --data book.txt --hidden 512 --layers 2 --steps 2000

Model: Embedding(V, 64) -> LSTM(64, hidden, layers, batch_first) -> Linear(hidden, V),
cross-entropy on the next character of every position, Adam with gradient clipping.
Training samples random windows of ``--seq-len`` characters (truncated backpropagation through
time over the window); the last 10% of the text is the validation split, reported in nats per
character (``ln V`` is what a uniform guess scores). Every ``--eval-every`` seconds of training it
prints the validation loss and a few sampled lines (temperature sampling, the LSTM state
carried from character to character), and at the end saves the loss curve as a PNG.

Data: ``--data PATH`` (any UTF-8 text file); by default ``../shared/data/text/tinyshakespeare.txt``
next to the repository if it exists, else the Python standard library's own source files
(present in every installation), so the script always runs.
"""

import argparse
import math

import autograd  # noqa: F401  (first: sets the BLAS thread policy before NumPy loads)
import numpy as np

import nn
import nn.functional as F
import optim

from _chartext import DEFAULT_DATA, evaluate, report, setup, train  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", default=None,
                   help=f"text file to train on (default: {DEFAULT_DATA} if it exists, else the "
                        "Python standard library's source)")
    p.add_argument("--minutes", type=float, default=5.0, help="training time budget")
    p.add_argument("--steps", type=int, default=None,
                   help="stop after this many steps (whichever of --steps/--minutes comes first)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seq-len", type=int, default=64, help="characters per training window")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--embed", type=int, default=64, help="character embedding size")
    p.add_argument("--hidden", type=int, default=256, help="LSTM hidden size")
    p.add_argument("--layers", type=int, default=1, help="stacked LSTM layers")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout between LSTM layers")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping")
    p.add_argument("--eval-every", type=float, default=30.0,
                   help="seconds of training between validation/sampling")
    p.add_argument("--eval-batches", type=int, default=16)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--sample-chars", type=int, default=300, help="characters of the final sample")
    p.add_argument("--plot", default="char_lstm_loss.png", help="loss-curve PNG ('' for none)")
    p.add_argument("--threads", type=int, default=None, help="BLAS/Numba threads")
    return p.parse_args(argv)


# ---- data ---------------------------------------------------------------------------------------
# ---- model --------------------------------------------------------------------------------------
class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: ``(B, T)`` character ids -> ``(B, T, V)`` logits (and the
    final LSTM state, which sampling carries along)."""

    def __init__(self, vocab, embed, hidden, layers, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


def loss_of(model, x, y):
    """Mean next-character cross-entropy of int64 windows ``x`` -> targets ``y``."""
    logits, _ = model(autograd.tensor(x))
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), autograd.tensor(y.reshape(-1)))


def sample(model, data, n_chars, temperature, rng, prompt="\n"):
    """Temperature sampling, one character at a time, the LSTM state carried along."""
    model.eval()
    ids = [data.stoi.get(c, 0) for c in prompt]
    out = []
    with autograd.no_grad():
        logits, state = model(autograd.tensor(np.array([ids], dtype=np.int64)))
        for _ in range(n_chars):
            z = logits._data[0, -1].astype(np.float64) / max(temperature, 1e-6)
            p = np.exp(z - z.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(data.chars[nxt])
            logits, state = model(autograd.tensor(np.array([[nxt]], dtype=np.int64)), state)
    model.train()
    return "".join(out)


def main(argv=None):
    """Train, printing validation loss and samples; returns the final validation loss."""
    args = parse_args(argv)
    rng, text, source, data = setup(args, args.seq_len, "char_lstm")
    V = len(data.chars)
    model = CharLSTM(V, args.embed, args.hidden, args.layers, args.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"text: {source} ({len(text):,} characters, vocabulary {V}); model: "
          f"LSTM {args.layers}x{args.hidden}, {n_params:,} parameters; budget "
          f"{args.minutes:g} min" + (f" or {args.steps} steps" if args.steps else ""))
    opt = optim.Adam(model.parameters(), lr=args.lr)
    val0 = evaluate(model, data, loss_of, 2, args.batch_size)
    print(f"initial validation loss {val0:.3f} nats/char (uniform: {math.log(V):.3f})")
    run = train(model, opt, data, loss_of, args, args.clip,
                lambda: sample(model, data, 160, args.temperature, rng), max_steps=args.steps)
    return report(run, source, args.plot, "char-LSTM", f"temperature {args.temperature}",
                  lambda: sample(model, data, args.sample_chars, args.temperature, rng))


if __name__ == "__main__":
    main()

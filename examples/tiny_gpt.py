"""Train a tiny GPT (a decoder-only transformer) on characters with tapegrad.

    python examples/tiny_gpt.py                                   # Tiny Shakespeare, 5 minutes
    python examples/tiny_gpt.py --minutes 0.5 --plot /tmp/loss.png
    python examples/tiny_gpt.py --data some_book.txt --n-layer 6 --d-model 192

Model (Radford et al., 2018/2019, "GPT"; pre-norm blocks as in GPT-2): token embedding + learned
position embedding -> ``--n-layer`` pre-norm blocks (``nn.TransformerEncoderLayer(norm_first=True,
activation='gelu', batch_first=True)``: causal multi-head self-attention through the fused
scaled-dot-product-attention kernel, then a 4x feed-forward network) -> LayerNorm -> Linear to
the vocabulary. Causality comes from the causal mask (``nn.Transformer.
generate_square_subsequent_mask``) together with the ``is_causal=True`` hint, so the kernel applies
the causal rule itself. Trained with next-character cross-entropy, AdamW (weight decay on the
matrices only), linear warm-up and gradient clipping at 1.0, for a wall-clock budget
(``--minutes``).

Text: ``--data PATH`` (any UTF-8 text file); by default Tiny Shakespeare from
``../shared/data/text/tinyshakespeare.txt`` relative to the repository if it exists, otherwise the
Python standard library's own source text, which every installation has. The last 10% of the
text is the validation split; the validation loss is reported in nats per character. Samples
(temperature and top-k sampling) are printed at each evaluation, and the loss curve is saved as a
PNG (``--plot``).
"""

import argparse
import math

import autograd  # first: sets the BLAS thread policy before NumPy loads
import numpy as np

import nn
import nn.functional as F
import optim

from _chartext import DEFAULT_DATA, evaluate, report, setup, train  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None,
                   help=f"UTF-8 text file (default: {DEFAULT_DATA} if it exists, else the "
                        "Python standard library's source)")
    p.add_argument("--minutes", type=float, default=5.0, help="training time budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--block-size", type=int, default=64, help="context length in characters")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=100, help="linear warm-up steps")
    p.add_argument("--eval-every", type=float, default=60.0,
                   help="seconds of training between evaluations and samples")
    p.add_argument("--eval-batches", type=int, default=16)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--sample-chars", type=int, default=240,
                   help="characters sampled at the end (a quarter of that at each evaluation)")
    p.add_argument("--plot", default="tiny_gpt_loss.png", help="loss-curve PNG ('' for none)")
    p.add_argument("--threads", type=int, default=None, help="BLAS/Numba threads")
    return p.parse_args(argv)


# ---- data -------------------------------------------------------------------------------------
# ---- model ------------------------------------------------------------------------------------
class TinyGPT(nn.Module):
    """Token + position embeddings, ``n_layer`` pre-norm causal transformer blocks, LayerNorm,
    a linear head. Input ``(B, T)`` int64 with ``T <= block_size`` -> logits ``(B, T, V)``."""

    def __init__(self, vocab_size, block_size, d_model, n_layer, n_head, dropout):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.drop = nn.Dropout(dropout)
        block = nn.TransformerEncoderLayer(d_model, n_head, 4 * d_model, dropout,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(block, n_layer, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.register_buffer("causal_mask",
                             nn.Transformer.generate_square_subsequent_mask(block_size),
                             persistent=False)
        for emb in (self.tok_emb, self.pos_emb):   # GPT-2's small initial embeddings
            nn.init.normal_(emb.weight, 0.0, 0.02)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(autograd.arange(t))
        mask = self.causal_mask[:t, :t]
        x = self.blocks(self.drop(x), mask=mask, is_causal=True)
        return self.head(x)


def loss_of(model, x, y):
    logits = model(autograd.tensor(x))
    b, t, v = logits.shape
    return F.cross_entropy(logits.reshape(b * t, v), autograd.tensor(y.reshape(b * t)))


def sample(model, data, n_chars, temperature, top_k, rng, prompt="\n"):
    """Autoregressive sampling: softmax(logits / temperature) over the ``top_k`` most likely
    characters, the context cropped to the block size."""
    model.eval()
    ids = [data.stoi.get(c, 0) for c in prompt]
    with autograd.no_grad():
        for _ in range(n_chars):
            ctx = np.array([ids[-model.block_size:]], dtype=np.int64)
            logits = model(autograd.tensor(ctx))._data[0, -1].astype(np.float64)
            logits = logits / max(temperature, 1e-6)
            if top_k and top_k < logits.size:
                kth = np.partition(logits, -top_k)[-top_k]
                logits = np.where(logits < kth, -np.inf, logits)
            p = np.exp(logits - logits.max())
            p /= p.sum()
            ids.append(int(rng.choice(p.size, p=p)))
    model.train()
    return data.decode(ids[len(prompt):])


def main(argv=None):
    args = parse_args(argv)
    rng, text, source, data = setup(args, args.block_size, "tiny_gpt")
    model = TinyGPT(len(data.chars), args.block_size, args.d_model, args.n_layer, args.n_head,
                    args.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"text: {source} ({len(text):,} chars, vocabulary {len(data.chars)}); model: "
          f"{args.n_layer} layers, d_model {args.d_model}, {args.n_head} heads, "
          f"{n_params:,} parameters; budget {args.minutes:g} min")
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                       {"params": no_decay, "weight_decay": 0.0}], lr=args.lr,
                      betas=(0.9, 0.99))
    print(f"initial validation loss {evaluate(model, data, loss_of, 2, args.batch_size):.3f} "
          f"nats/char (uniform would be {math.log(len(data.chars)):.3f})")

    def warm_up(step):
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step + 1) / max(args.warmup, 1))

    run = train(model, opt, data, loss_of, args, 1.0,
                lambda: sample(model, data, max(args.sample_chars // 4, 1), args.temperature,
                               args.top_k, rng), before_step=warm_up)
    return report(run, source, args.plot, "tiny GPT",
                  f"temperature {args.temperature}, top-k {args.top_k}",
                  lambda: sample(model, data, args.sample_chars, args.temperature, args.top_k,
                                 rng))


if __name__ == "__main__":
    main()

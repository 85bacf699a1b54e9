"""Early stopping with checkpoints: keep the best model, stop when validation stalls, resume.

    python examples/early_stopping.py           # 4,000 Fashion-MNIST images, patience 3
    python examples/early_stopping.py --interrupt-at 0 --backend torch

A small CNN is trained on a slice of Fashion-MNIST small enough to overfit, with 1,000 further
training images held out for validation. After every epoch:

- ``last`` checkpoint: model, optimiser, epoch, history and the early-stopping state, saved with
  ``autograd.save`` (``torch.save``) so that training can resume where it stopped;
- ``best`` checkpoint: the model's ``state_dict`` whenever the validation loss is the lowest yet;
- stop when it has not improved for ``--patience`` epochs.

To show resuming, the run is cut off after epoch ``--interrupt-at`` (as a crash or a killed job
would), then a new model and optimiser are built, the ``last`` checkpoint is loaded into them and
training continues. At the end the best weights are restored and measured on the test set. The
plot (``early_stopping.png``) marks the best epoch, the stop and the interruption.
"""

import sys
from pathlib import Path

from _common import Timer, evaluate, fit, grid_and_legend, mnist_arrays, parse, parser, pyplot, \
    save_figure, setup, small_cnn, split


class Interrupted(Exception):
    """Raised to simulate a run that dies after an epoch."""


def main(argv=None):
    p = parser(__doc__, limit=5000, out="early_stopping.png", epochs=30, lr=2e-3, batch_size=64)
    p.add_argument("--val", type=int, default=1000, help="held-out validation images")
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--interrupt-at", type=int, default=2,
                   help="cut the run off after this epoch, then resume (0: never)")
    p.add_argument("--checkpoint-dir", default="checkpoints")
    args = parse(p, argv, limit=600, val=200, epochs=4, patience=1, interrupt_at=1)
    B = setup(args)
    lib = B.lib
    x, y, xte, yte = mnist_arrays("fashion-mnist", args.data_dir, args.limit,
                                  1000 if args.smoke else 10_000)
    tr, va = split(len(x), args.val, args.seed)
    train, val = (x[tr], y[tr]), (x[va], y[va])
    ckdir = Path(args.checkpoint_dir)
    ckdir.mkdir(parents=True, exist_ok=True)
    last, best = ckdir / f"last{B.ckpt_suffix}", ckdir / f"best{B.ckpt_suffix}"

    def new_run():
        lib.manual_seed(args.seed)
        model = small_cnn(B)
        return model, B.optim.Adam(model.parameters(), lr=args.lr)

    def on_epoch(state):
        """The per-epoch hook of ``fit``: checkpoints, patience, and the simulated crash."""
        def hook(epoch, hist):
            epoch += state["epoch0"]
            val_loss = hist["val_loss"][-1]
            if val_loss < state["best_loss"]:
                state.update(best_loss=val_loss, best_epoch=epoch, bad=0)
                lib.save(model.state_dict(), best)
            else:
                state["bad"] += 1
            print(f"epoch {epoch:2d}: train loss {hist['train_loss'][-1]:.4f}  validation loss "
                  f"{val_loss:.4f} acc {hist['val_acc'][-1]:.1f}%"
                  f"{'  *best*' if state['best_epoch'] == epoch else ''}", flush=True)
            lib.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                      "epoch": epoch, "history": {k: list(v) for k, v in hist.items()},
                      "stopper": dict(state)}, last)
            if state["bad"] >= args.patience:
                print(f"no improvement for {args.patience} epochs: stopping after epoch {epoch}")
                return True
            if epoch == args.interrupt_at and not state.get("resumed"):
                raise Interrupted(epoch)
            return False
        return hook

    with Timer() as timer:
        model, opt = new_run()
        state = {"best_loss": float("inf"), "best_epoch": 0, "bad": 0, "epoch0": 0}
        try:
            hist = fit(B, model, opt, train, val, args.epochs, args.batch_size, args.seed,
                       on_epoch=on_epoch(state))
        except Interrupted as e:
            print(f"-- run interrupted after epoch {e}; resuming from {last} --")
            model, opt = new_run()                  # a fresh process would start like this
            ckpt = lib.load(last)
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            state = dict(ckpt["stopper"], epoch0=ckpt["epoch"], resumed=True)
            more = fit(B, model, opt, train, val, args.epochs - ckpt["epoch"], args.batch_size,
                       args.seed + ckpt["epoch"], on_epoch=on_epoch(state))
            hist = {k: list(ckpt["history"][k]) + more[k] for k in more}
        stopped = len(hist["val_loss"])
        final_loss, final_acc = evaluate(B, model, xte, yte)
        model.load_state_dict(lib.load(best))
        test_loss, test_acc = evaluate(B, model, xte, yte)

    print(f"best epoch {state['best_epoch']} (validation loss {state['best_loss']:.4f}); "
          f"test accuracy with the best weights {test_acc:.1f}% (loss {test_loss:.4f}), with "
          f"the last epoch's {final_acc:.1f}% (loss {final_loss:.4f})")
    print(f"backend {args.backend}: {stopped} epochs in {timer.seconds:.1f} s")

    if args.out:
        fig, ax = pyplot().subplots(figsize=(8, 4.5))
        epochs = range(1, stopped + 1)
        ax.plot(epochs, hist["train_loss"], "o--", label="training loss")
        ax.plot(epochs, hist["val_loss"], "o-", label="validation loss")
        ax.axvline(state["best_epoch"], color="g", ls=":",
                   label=f"best epoch {state['best_epoch']}: restored, test acc {test_acc:.1f}%")
        ax.axvline(stopped, color="r", ls=":", label=f"stopped (patience {args.patience})")
        if 0 < args.interrupt_at < stopped:
            ax.axvline(args.interrupt_at + 0.5, color="k", ls="-.", lw=0.8,
                       label="interrupted, resumed from checkpoint")
        ax.set(xlabel="epoch", ylabel="cross-entropy",
               title=f"early stopping on Fashion-MNIST, {len(tr)} training images "
                     f"({args.backend})")
        grid_and_legend(ax)
        save_figure(fig, args.out)
    return {**hist, "best_epoch": state["best_epoch"], "test_acc": test_acc}


if __name__ == "__main__":
    main(sys.argv[1:])

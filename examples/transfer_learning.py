"""Transfer learning: a small ResNet pretrained on Fashion-MNIST, fine-tuned on 1,000 MNIST digits.

    python examples/transfer_learning.py        # pretrain on 12,000 clothes, fine-tune on 1,000
    python examples/transfer_learning.py --backend torch

1. Pretrain a small ResNet (a 3x3 stem and three stages of ``vision.models.resnet.BasicBlock``,
   16/32/64 channels, He et al. 2016) on Fashion-MNIST and save its ``state_dict`` with
   ``autograd.save``.
2. Load it, freeze the backbone (``requires_grad_(False)``; its BatchNorm layers kept in eval
   mode so their running statistics stay those of the pretraining), replace the classification
   head by a new ``Linear(64, 10)`` and train only that head on ``--labelled`` MNIST digits.
3. Also fine-tune the whole pretrained network (all layers, a lower learning rate), and, as
   the baseline, train the same architecture from scratch on the same digits.

It prints each model's MNIST test accuracy per epoch and saves the curves
(``transfer_learning.png``). Clothes and digits are unlike domains: expect the frozen features to
carry over poorly and fine-tuning to stay near (here: below) training from scratch: a lesson in
when pretraining helps.
"""

import sys
from pathlib import Path

from _common import Timer, evaluate, fit, grid_and_legend, mnist_arrays, parse, parser, pyplot, \
    save_figure, setup


def build(B):
    """The small ResNet: ``backbone`` (N, 1, 28, 28) -> (N, 64) features, then ``fc``."""
    nn = B.nn
    BasicBlock = B.vision.models.resnet.BasicBlock

    def stage(c_in, c_out, stride):
        down = None
        if stride != 1 or c_in != c_out:
            down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                 nn.BatchNorm2d(c_out))
        return BasicBlock(c_in, c_out, stride, downsample=down)

    class SmallResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(
                nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),  # 14x14
                stage(16, 16, 1), stage(16, 32, 2), stage(32, 64, 2),                   # 4x4
                nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.fc = nn.Linear(64, 10)
            self.frozen = False

        def forward(self, x):
            return self.fc(self.backbone(x))

        def train(self, mode=True):
            super().train(mode)
            if self.frozen:             # a frozen backbone keeps its BatchNorm statistics
                self.backbone.eval()
            return self

    return SmallResNet()


def pretrained(B, ckpt):
    """A fresh :func:`build` with the weights saved in ``ckpt``."""
    net = build(B)
    net.load_state_dict(B.lib.load(ckpt))
    return net


def main(argv=None):
    p = parser(__doc__, limit=12_000, out="transfer_learning.png", epochs=8, lr=2e-3,
               batch_size=64)
    p.add_argument("--pretrain-epochs", type=int, default=2)
    p.add_argument("--labelled", type=int, default=1000, help="MNIST digits to fine-tune on")
    p.add_argument("--checkpoint", default="fashion_resnet",
                   help="where the pretrained model is saved (the backend's suffix is added)")
    args = parse(p, argv, limit=256, epochs=2, pretrain_epochs=1, labelled=192)
    B = setup(args)
    lib, nn, optim = B.lib, B.nn, B.optim
    n_test = 500 if args.smoke else 10_000
    fash = mnist_arrays("fashion-mnist", args.data_dir, args.limit, n_test)
    digits = mnist_arrays("mnist", args.data_dir, args.labelled, n_test)
    few, test = digits[:2], digits[2:]

    with Timer() as timer:
        model = build(B)
        pre = fit(B, model, optim.Adam(model.parameters(), lr=args.lr), fash[:2], fash[2:],
                  args.pretrain_epochs, args.batch_size, args.seed, desc="pretrain ")
        print(f"pretrained on {len(fash[0])} Fashion-MNIST images: test accuracy "
              f"{pre['val_acc'][-1]:.1f}%")
        ckpt = Path(args.checkpoint + B.ckpt_suffix)
        lib.save(model.state_dict(), ckpt)          # PyTorch's advice: the weights, not the object
        print(f"saved {ckpt}")

        runs = {}
        # a: frozen backbone, new head
        net = pretrained(B, ckpt)
        print(f"MNIST accuracy of the Fashion-MNIST head before fine-tuning: "
              f"{evaluate(B, net, *test)[1]:.1f}% (chance: 10%)")
        net.backbone.requires_grad_(False)
        net.frozen = True
        net.fc = nn.Linear(64, 10)
        runs["frozen backbone, new head"] = fit(
            B, net, optim.Adam(net.fc.parameters(), lr=args.lr), few, test, args.epochs,
            args.batch_size, args.seed, desc="head ")
        # b: everything fine-tuned, new head, lower learning rate
        net = pretrained(B, ckpt)
        net.fc = nn.Linear(64, 10)
        runs["all layers fine-tuned"] = fit(
            B, net, optim.Adam(net.parameters(), lr=args.lr / 4), few, test, args.epochs,
            args.batch_size, args.seed, desc="fine-tune ")
        # c: the baseline, from scratch on the same digits
        lib.manual_seed(args.seed + 1)
        net = build(B)
        runs["from scratch"] = fit(
            B, net, optim.Adam(net.parameters(), lr=args.lr), few, test, args.epochs,
            args.batch_size, args.seed, desc="scratch ")

    for name, hist in runs.items():
        print(f"{name:28s} MNIST test accuracy after {len(hist['val_acc'])} epochs on "
              f"{len(few[0])} digits: {hist['val_acc'][-1]:.1f}% "
              f"(best {max(hist['val_acc']):.1f}%)")
    print(f"backend {args.backend}: {timer.seconds:.1f} s in all")

    if args.out:
        fig, (ax_acc, ax_loss) = pyplot().subplots(1, 2, figsize=(12, 4.5))
        for name, hist in runs.items():
            epochs = range(1, len(hist["val_acc"]) + 1)
            ax_acc.plot(epochs, hist["val_acc"], "o-", label=name)
            ax_loss.plot(epochs, hist["train_loss"], "o--", label=name)
        ax_acc.set(xlabel="epoch", ylabel="MNIST test accuracy (%)",
                   title=f"trained on {len(few[0])} labelled digits")
        ax_loss.set(xlabel="epoch", ylabel="training cross-entropy", title="training loss")
        grid_and_legend(ax_acc, ax_loss)
        save_figure(fig, args.out,
                    f"small ResNet: Fashion-MNIST features reused for digits ({args.backend})")
    return {"pretrain": pre, **runs}


if __name__ == "__main__":
    main(sys.argv[1:])

"""The benchmark workloads, each written once against a library namespace.

A workload's ``setup(ns, data)`` receives a :class:`Namespace` (``ns.lib``, ``ns.nn``,
``ns.optim``, ``ns.F``: tapegrad's ``autograd``/``nn``/``optim``/``nn.functional`` or PyTorch's
``torch``/``torch.nn``/``torch.optim``/``torch.nn.functional``) and the input arrays made by
``make_data`` in NumPy, and returns a :class:`Setup` whose ``step()`` runs one timed iteration
(for the training workloads: forward, loss, backward, optimizer step, zero_grad) and returns a
scalar-like tensor (the loss). Because tapegrad's API is PyTorch's, the very same code runs on
both libraries; the only per-library code is the namespace.

FLOP counts (``Workload.flop``) count the multiply-adds of the convolutions and matrix products
that the step must do (2 FLOPs per multiply-add), forward plus backward: the weight gradient of
every layer and the input gradient of every layer except those whose input does not require a
gradient. Elementwise ops, pooling, softmax and the optimizer update are not counted, so
GFLOP/s is a lower bound of the work done and is only reported where those products dominate.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

__all__ = ["Namespace", "Setup", "Workload", "WORKLOADS", "tapegrad_namespace",
           "torch_namespace", "export_state", "load_state", "linear_flop", "conv2d_flop"]


# ---- library namespaces -------------------------------------------------------------------------
@dataclass
class Namespace:
    """One library seen through PyTorch's names: ``lib`` (``torch``), ``nn``, ``optim``, ``F``."""

    name: str
    lib: object
    nn: object
    optim: object
    F: object

    def manual_seed(self, seed):
        """Seed the library's global random generator (used by the layers' initialisation)."""
        self.lib.manual_seed(seed)

    def tensor(self, array, requires_grad=False):
        """Wrap a NumPy array (copied, so the two libraries never share one buffer)."""
        t = self.lib.from_numpy(np.array(array, copy=True))
        if requires_grad:
            t.requires_grad_(True)
        return t


def tapegrad_namespace():
    """The tapegrad namespace (``autograd``, ``nn``, ``optim``, ``nn.functional``)."""
    import autograd
    import nn
    import nn.functional as F
    import optim
    return Namespace("tapegrad", autograd, nn, optim, F)


def torch_namespace():
    """The PyTorch namespace; raises ``ImportError`` when PyTorch is not installed."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    return Namespace("torch", torch, nn, optim, F)


def export_state(model):
    """A module's ``state_dict`` as a dict of NumPy arrays (copies)."""
    return {k: np.array(v.detach().numpy(), copy=True) for k, v in model.state_dict().items()}


def load_state(ns, model, arrays):
    """Load NumPy arrays (from :func:`export_state`) into ``model`` of library ``ns``."""
    model.load_state_dict({k: ns.tensor(v) for k, v in arrays.items()})


# ---- FLOP counting ------------------------------------------------------------------------------
def linear_flop(batch, in_features, out_features, input_grad=True):
    """FLOPs of a linear layer's forward + backward: ``2*B*in*out`` each for the forward, the
    weight gradient and (if ``input_grad``) the input gradient."""
    one = 2 * batch * in_features * out_features
    return one * (3 if input_grad else 2)


def conv2d_flop(n, c_in, c_out, h_out, w_out, k, input_grad=True):
    """FLOPs of a 2-D convolution's forward + backward: the forward is
    ``2*N*C_out*H_out*W_out*C_in*k*k``; the weight gradient and (if ``input_grad``) the input
    gradient cost the same again each."""
    one = 2 * n * c_out * h_out * w_out * c_in * k * k
    return one * (3 if input_grad else 2)


# ---- the workload record ------------------------------------------------------------------------
@dataclass
class Setup:
    """What a workload's ``setup`` returns: the timed ``step`` and the model (or ``None``)
    whose weights are copied from the first library to the others."""

    step: Callable[[], object]
    model: Optional[object] = None


@dataclass
class Workload:
    """A named benchmark.

    Attributes:
        name: the CLI name (``--only``).
        description: one line for ``--list`` and the reports.
        make_data: ``rng -> dict`` of NumPy input arrays, shared by both libraries.
        setup: ``(ns, data) -> Setup``.
        flop: FLOPs per step (see the module docstring), or ``None`` where not meaningful.
        ops_per_step: for per-op timing (``tiny_ops``), the number of recorded ops per step.
        requires: dotted names that must exist in tapegrad's namespace (``"nn.LSTM"``);
            the workload is skipped as "not available yet" when one is missing.
    """

    name: str
    description: str
    make_data: Callable
    setup: Callable
    flop: Optional[float] = None
    ops_per_step: Optional[int] = None
    requires: tuple = field(default_factory=tuple)

    def missing(self, ns):
        """The names in ``requires`` that ``ns`` lacks (empty list: available)."""
        out = []
        for dotted in self.requires:
            obj = ns
            for part in dotted.split("."):
                obj = getattr(obj, part, None)
                if obj is None:
                    break
            if obj is None:
                out.append(dotted)
        return out

    def unavailable_reason(self, ns):
        """``None`` if the workload runs on ``ns``, else a short reason."""
        missing = self.missing(ns)
        if missing:
            return f"not available yet (missing {', '.join(missing)})"
        return None


def _mean_loss(out, _target):
    """The loss of the workloads without targets: the output's mean."""
    return out.mean()


def _train_step(model, loss_fn, optimizer, x, y):
    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss
    return step


# ---- mlp ----------------------------------------------------------------------------------------
MLP_BATCH, MLP_SIZES = 128, (784, 256, 128, 10)


def _mlp_data(rng):
    return {"x": rng.standard_normal((MLP_BATCH, MLP_SIZES[0]), dtype=np.float32),
            "y": rng.integers(0, MLP_SIZES[-1], MLP_BATCH).astype(np.int64)}


def _mlp_setup(ns, data):
    nn = ns.nn
    d0, d1, d2, d3 = MLP_SIZES
    model = nn.Sequential(nn.Linear(d0, d1), nn.ReLU(), nn.Linear(d1, d2), nn.ReLU(),
                          nn.Linear(d2, d3))
    optimizer = ns.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = _train_step(model, nn.CrossEntropyLoss(), optimizer, ns.tensor(data["x"]),
                       ns.tensor(data["y"]))
    return Setup(step, model)


_MLP_FLOP = sum(linear_flop(MLP_BATCH, a, b, input_grad=i > 0)
                for i, (a, b) in enumerate(zip(MLP_SIZES[:-1], MLP_SIZES[1:])))


# ---- lenet --------------------------------------------------------------------------------------
LENET_BATCH = 64


def _lenet_data(rng):
    return {"x": rng.standard_normal((LENET_BATCH, 1, 28, 28), dtype=np.float32),
            "y": rng.integers(0, 10, LENET_BATCH).astype(np.int64)}


def _lenet_setup(ns, data):
    nn = ns.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )
    optimizer = ns.optim.Adam(model.parameters(), lr=1e-3)
    step = _train_step(model, nn.CrossEntropyLoss(), optimizer, ns.tensor(data["x"]),
                       ns.tensor(data["y"]))
    return Setup(step, model)


# 28 -conv3-> 26 -pool-> 13 -conv3-> 11 -pool-> 5; the input image needs no gradient.
_LENET_FLOP = (conv2d_flop(LENET_BATCH, 1, 32, 26, 26, 3, input_grad=False)
               + conv2d_flop(LENET_BATCH, 32, 64, 11, 11, 3)
               + linear_flop(LENET_BATCH, 1600, 128)
               + linear_flop(LENET_BATCH, 128, 10))


# ---- conv ---------------------------------------------------------------------------------------
CONV_SHAPE, CONV_OUT, CONV_K = (32, 16, 32, 32), 32, 3


def _conv_data(rng):
    return {"x": rng.standard_normal(CONV_SHAPE, dtype=np.float32)}


def _conv_setup(ns, data):
    conv = ns.nn.Conv2d(CONV_SHAPE[1], CONV_OUT, CONV_K, padding=1)
    x = ns.tensor(data["x"], requires_grad=True)

    def step():
        out = conv(x).sum()
        out.backward()
        conv.zero_grad()
        x.grad = None
        return out
    return Setup(step, conv)


_CONV_FLOP = conv2d_flop(CONV_SHAPE[0], CONV_SHAPE[1], CONV_OUT, CONV_SHAPE[2], CONV_SHAPE[3],
                         CONV_K)


# ---- maxpool ------------------------------------------------------------------------------------
POOL_SHAPE = (64, 32, 28, 28)


def _maxpool_data(rng):
    return {"x": rng.standard_normal(POOL_SHAPE, dtype=np.float32)}


def _maxpool_setup(ns, data):
    pool = ns.nn.MaxPool2d(2)
    x = ns.tensor(data["x"], requires_grad=True)

    def step():
        out = pool(x).sum()
        out.backward()
        x.grad = None
        return out
    return Setup(step)


# ---- tiny_ops -----------------------------------------------------------------------------------
TINY_CHAIN = 1000


def _tiny_data(rng):
    return {"x": np.array([0.5], dtype=np.float32), "g": np.ones(1, dtype=np.float32)}


def _tiny_setup(ns, data):
    x = ns.tensor(data["x"], requires_grad=True)
    g = ns.tensor(data["g"])

    def step():
        a = x
        for _ in range(TINY_CHAIN):
            a = a * 1.0001 + 0.001
        a.backward(g)
        x.grad = None
        return a
    return Setup(step)


# ---- xor ----------------------------------------------------------------------------------------
def _xor_data(rng):
    return {"x": np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32),
            "y": np.array([[0], [1], [1], [0]], dtype=np.float32)}


def _xor_setup(ns, data):
    nn = ns.nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    optimizer = ns.optim.SGD(model.parameters(), lr=0.5)
    step = _train_step(model, nn.MSELoss(), optimizer, ns.tensor(data["x"]),
                       ns.tensor(data["y"]))
    return Setup(step, model)


# ---- attention ----------------------------------------------------------------------------------
ATT_B, ATT_L, ATT_D, ATT_HEADS, ATT_FF = 16, 64, 128, 4, 512


def _attention_data(rng):
    return {"x": rng.standard_normal((ATT_B, ATT_L, ATT_D), dtype=np.float32)}


def _tapegrad_has_encoder_layer():
    """Whether tapegrad's ``nn`` has ``TransformerEncoderLayer`` (then both libraries run it)."""
    import nn
    return hasattr(nn, "TransformerEncoderLayer")


def _composed_encoder_layer(ns):
    """``TransformerEncoderLayer(ATT_D, ATT_HEADS, ATT_FF, dropout=0, batch_first=True)``
    (post-norm, ReLU, ``eps=1e-5``) written from ``Linear``, ``LayerNorm`` and
    ``F.scaled_dot_product_attention``, for a library whose ``nn`` lacks the layer. The math is
    PyTorch's layer's: ``x = norm1(x + out_proj(attn(x)))``,
    ``x = norm2(x + linear2(relu(linear1(x))))``, one ``in_proj`` Linear(D, 3D) for q, k, v."""
    nn, F = ns.nn, ns.F
    heads, hd = ATT_HEADS, ATT_D // ATT_HEADS

    class EncoderLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.in_proj = nn.Linear(ATT_D, 3 * ATT_D)
            self.out_proj = nn.Linear(ATT_D, ATT_D)
            self.linear1 = nn.Linear(ATT_D, ATT_FF)
            self.linear2 = nn.Linear(ATT_FF, ATT_D)
            self.norm1 = nn.LayerNorm(ATT_D)
            self.norm2 = nn.LayerNorm(ATT_D)

        def forward(self, x):
            b, n, d = x.shape
            qkv = self.in_proj(x).reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)                              # (b, heads, n, hd) each
            a = F.scaled_dot_product_attention(q, k, v)
            a = a.transpose(1, 2).reshape(b, n, d)
            x = self.norm1(x + self.out_proj(a))
            return self.norm2(x + self.linear2(F.relu(self.linear1(x))))

    return EncoderLayer()


def _attention_setup(ns, data):
    if _tapegrad_has_encoder_layer():
        layer = ns.nn.TransformerEncoderLayer(d_model=ATT_D, nhead=ATT_HEADS,
                                              dim_feedforward=ATT_FF, dropout=0.0,
                                              batch_first=True)
    else:
        layer = _composed_encoder_layer(ns)
    optimizer = ns.optim.Adam(layer.parameters(), lr=1e-3)
    return Setup(_train_step(layer, _mean_loss, optimizer, ns.tensor(data["x"]), None), layer)


# Projections (tokens T = B*L): in_proj D->3D (its input x needs no gradient), out_proj D->D,
# feed-forward D->FF->D; per (batch, head) Q K^T and A V, each 2*L*L*(D/heads) per head, i.e.
# 2*B*L*L*D over all heads, forward; backward of each product costs twice its forward.
_ATT_T = ATT_B * ATT_L
_ATTENTION_FLOP = (linear_flop(_ATT_T, ATT_D, 3 * ATT_D, input_grad=False)
                   + linear_flop(_ATT_T, ATT_D, ATT_D)
                   + linear_flop(_ATT_T, ATT_D, ATT_FF)
                   + linear_flop(_ATT_T, ATT_FF, ATT_D)
                   + 2 * 3 * (2 * ATT_B * ATT_L * ATT_L * ATT_D))


# ---- lstm ---------------------------------------------------------------------------------------
LSTM_B, LSTM_T, LSTM_IN, LSTM_H, LSTM_CLASSES = 32, 50, 32, 128, 10


def _lstm_data(rng):
    return {"x": rng.standard_normal((LSTM_B, LSTM_T, LSTM_IN), dtype=np.float32),
            "y": rng.integers(0, LSTM_CLASSES, LSTM_B).astype(np.int64)}


def _lstm_setup(ns, data):
    nn = ns.nn

    class LastStepClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(LSTM_IN, LSTM_H, batch_first=True)
            self.head = nn.Linear(LSTM_H, LSTM_CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    model = LastStepClassifier()
    optimizer = ns.optim.Adam(model.parameters(), lr=1e-3)
    step = _train_step(model, nn.CrossEntropyLoss(), optimizer, ns.tensor(data["x"]),
                       ns.tensor(data["y"]))
    return Setup(step, model)


# Per time step the gates are x_t W_ih^T (IN->4H; x needs no gradient) and h_{t-1} W_hh^T
# (H->4H; h_0 is a constant zero state, so its input gradient is not needed at t = 0); then the
# head Linear(H, classes) on the last step.
_LSTM_FLOP = (LSTM_T * linear_flop(LSTM_B, LSTM_IN, 4 * LSTM_H, input_grad=False)
              + LSTM_T * linear_flop(LSTM_B, LSTM_H, 4 * LSTM_H, input_grad=False)
              + (LSTM_T - 1) * 2 * LSTM_B * LSTM_H * 4 * LSTM_H
              + linear_flop(LSTM_B, LSTM_H, LSTM_CLASSES))


# ---- the registry -------------------------------------------------------------------------------
WORKLOADS = {w.name: w for w in [
    Workload("mlp", "MLP 784-256-128-10 ReLU, batch 128, cross-entropy, SGD(0.1, momentum 0.9): "
             "one training step", _mlp_data, _mlp_setup, flop=_MLP_FLOP),
    Workload("lenet", "LeNet-style CNN (conv32-conv64-fc128-fc10), batch 64 of 1x28x28, "
             "cross-entropy, Adam(1e-3): one training step", _lenet_data, _lenet_setup,
             flop=_LENET_FLOP),
    Workload("conv", "Conv2d(16, 32, 3, padding=1) on (32, 16, 32, 32): forward + backward of "
             "out.sum() (weight and input gradients)", _conv_data, _conv_setup,
             flop=_CONV_FLOP),
    Workload("maxpool", "MaxPool2d(2) on (64, 32, 28, 28): forward + backward (input requires "
             "grad)", _maxpool_data, _maxpool_setup),
    Workload("tiny_ops", f"{TINY_CHAIN} chained a = a * 1.0001 + 0.001 on a (1,)-tensor: "
             f"forward + backward (per-op overhead: time / {2 * TINY_CHAIN} ops)",
             _tiny_data, _tiny_setup, ops_per_step=2 * TINY_CHAIN),
    Workload("xor", "2-4-1 sigmoid MLP on the 4 XOR points, MSE, SGD(0.5): one full-batch "
             "training step", _xor_data, _xor_setup),
    Workload("attention", "TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512, "
             "dropout=0, batch_first=True) on (16, 64, 128): backward of the mean, Adam step "
             "(where tapegrad's nn lacks the layer, both libraries run the same computation "
             "composed of Linear, LayerNorm and scaled_dot_product_attention)",
             _attention_data, _attention_setup, flop=_ATTENTION_FLOP,
             requires=("nn.LayerNorm", "F.scaled_dot_product_attention")),
    Workload("lstm", "LSTM(32, 128, batch_first=True) on (32, 50, 32) + Linear(128, 10) on the "
             "last step, cross-entropy, Adam(1e-3): one training step", _lstm_data,
             _lstm_setup, flop=_LSTM_FLOP, requires=("nn.LSTM",)),
]}

# vision's workloads live in their own module (imported last: it uses Workload and Setup).
# The cold-start child (runner._COLD_START_SCRIPT) loads this file alone, outside the
# package, to build LeNet without importing tapegrad first; it has no pipeline workloads.
if __package__:
    from .pipeline import PIPELINE_WORKLOADS  # noqa: E402

    WORKLOADS.update({w.name: w for w in PIPELINE_WORKLOADS})

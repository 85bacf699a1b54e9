"""Recurrent ops: the time recurrence of one layer/direction of an Elman RNN, an LSTM or a GRU
as ONE graph node each (:class:`RNNSequence`, :class:`LSTMSequence`, :class:`GRUSequence`).

The caller projects the inputs of all time steps first (``xp = x W_ih^T + b_ih``, one matmul
recorded as an ordinary ``linear`` node), then calls :func:`rnn_layer`, :func:`lstm_layer` or
:func:`gru_layer`. Their forward loops over time in :mod:`kernels.rnn` (one BLAS GEMM and one
fused Numba gate kernel per step) and keeps the gate activations; their backward is a
hand-written backpropagation through time (again one GEMM plus one fused kernel per step, and
one GEMM for the whole ``W_hh`` gradient). A sequence of any length is therefore a handful of
graph nodes, so a 10,000-step sequence back-propagates without recursion and with memory
linear in its length.

The backward is a kernel, so the *double* backward is not written: gradients computed with
``create_graph=True`` are connected to the graph but differentiating them again raises a
``RuntimeError`` saying so (see :class:`autograd.ops._nn_common.KernelGradient`).

Gate order and equations follow PyTorch's ``nn.LSTM``/``nn.GRU``/``nn.RNN`` documentation
(LSTM i, f, g, o; GRU r, z, n with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``).
"""

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._nn_common import _kernel_grads

__all__ = ["rnn_layer", "lstm_layer", "gru_layer"]


def _kernels():
    """``kernels.rnn``, imported on first use (Numba loads then)."""
    import kernels.rnn as KR
    globals()["_kernels"] = lambda: KR
    return KR


def _recording(ctx):
    """True when this node will be in a graph (then the forward keeps what backward needs)."""
    return any(n is not None for n in ctx.next)


def _zeros_if_none(a, N, H, dtype):
    return np.zeros((N, H), dtype) if a is None else a


class RNNSequence(Node):
    """Graph node of :func:`rnn_layer`: the Elman recurrence over a whole sequence."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, h0, relu=False, reverse=False):
        L, N, _ = xp.shape
        H = w_hh.shape[1]
        h0 = _zeros_if_none(h0, N, H, xp.dtype)
        out = _kernels().rnn_forward(xp, w_hh, b_hh, h0, relu=relu, reverse=reverse)
        ctx.conf = (relu, reverse)
        ctx.save_for_backward(w_hh, h0, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        w_hh, h0, out = ctx.saved_tensors
        relu, reverse = ctx.conf
        nx, nw, nb, nh = ctx.needs_input_grad[:4]
        dxp, dW, db, dh0 = _kernels().rnn_backward(grad._data, w_hh._data, h0._data, out._data,
                                                   relu=relu, reverse=reverse,
                                                   need_w=nw or nb)
        return _kernel_grads("rnn_layer", (grad, w_hh, out),
                             (dxp if nx else None, dW if nw else None, db if nb else None,
                              dh0 if nh else None))


class LSTMSequence(Node):
    """Graph node of :func:`lstm_layer`. Its output packs ``(L + 1, N, H)``: rows ``0..L-1``
    are the hidden states, row ``L`` is ``c_n`` (one node, so ``h_n`` and ``c_n`` are slices
    and their gradients arrive summed into one array)."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, h0, c0, reverse=False):
        L, N, _ = xp.shape
        H = w_hh.shape[1]
        h0 = _zeros_if_none(h0, N, H, xp.dtype)
        c0 = _zeros_if_none(c0, N, H, xp.dtype)
        save = _recording(ctx)
        packed = np.empty((L + 1, N, H), xp.dtype)
        _, cs, gates = _kernels().lstm_forward(xp, w_hh, b_hh, h0, c0, reverse=reverse,
                                               save=save, out=packed[:L])
        packed[L] = cs[0] if reverse else cs[L - 1]
        ctx.reverse = reverse
        if save:
            ctx.save_for_backward(w_hh, h0, c0, packed, cs, gates)
        return packed

    @staticmethod
    def backward(ctx, grad):
        w_hh, h0, c0, packed, cs, gates = ctx.saved_tensors
        nx, nw, nb, nh, nc = ctx.needs_input_grad[:5]
        g = grad._data
        L = g.shape[0] - 1
        dxp, dW, db, dh0, dc0 = _kernels().lstm_backward(
            g[:L], g[L], w_hh._data, h0._data, c0._data, packed._data[:L], cs._data, gates._data,
            reverse=ctx.reverse, need_w=nw or nb)
        return _kernel_grads("lstm_layer", (grad, w_hh, packed),
                             (dxp if nx else None, dW if nw else None, db if nb else None,
                              dh0 if nh else None, dc0 if nc else None))


class GRUSequence(Node):
    """Graph node of :func:`gru_layer`: the GRU recurrence over a whole sequence."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, h0, reverse=False):
        L, N, _ = xp.shape
        H = w_hh.shape[1]
        h0 = _zeros_if_none(h0, N, H, xp.dtype)
        save = _recording(ctx)
        out, gates = _kernels().gru_forward(xp, w_hh, b_hh, h0, reverse=reverse, save=save)
        ctx.reverse = reverse
        if save:
            ctx.save_for_backward(w_hh, h0, out, gates)
        return out

    @staticmethod
    def backward(ctx, grad):
        w_hh, h0, out, gates = ctx.saved_tensors
        nx, nw, nb, nh = ctx.needs_input_grad[:4]
        dxp, dW, db, dh0 = _kernels().gru_backward(grad._data, w_hh._data, h0._data, out._data,
                                                   gates._data, reverse=ctx.reverse,
                                                   need_w=nw or nb)
        return _kernel_grads("gru_layer", (grad, w_hh, out),
                             (dxp if nx else None, dW if nw else None, db if nb else None,
                              dh0 if nh else None))


# ---- checks and the functions users call ---------------------------------------------------
def _check(op, gates, xp, w_hh, b_hh, states):
    """Shapes and dtypes of a layer call; returns ``(L, N, H)``."""
    if not isinstance(xp, Tensor) or not isinstance(w_hh, Tensor):
        raise TypeError(f"{op}: xp and w_hh must be Tensors, got {type(xp).__name__} and "
                        f"{type(w_hh).__name__}")
    if xp.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: expected a float32 or float64 input, got dtype {xp.dtype}")
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise RuntimeError(f"{op}: w_hh must have shape ({gates}*hidden_size, hidden_size), got "
                           f"{tuple(w_hh.shape)}")
    H = w_hh.shape[1]
    if xp.ndim != 3 or xp.shape[2] != gates * H:
        raise RuntimeError(f"{op}: the projected input must have shape (L, N, {gates}*H) = "
                           f"(L, N, {gates * H}) for w_hh of shape {tuple(w_hh.shape)}, got "
                           f"{tuple(xp.shape)}")
    L, N, _ = xp.shape
    if L == 0:
        raise RuntimeError(f"{op}: expected a sequence of length >= 1, got shape "
                           f"{tuple(xp.shape)}")
    named = [("w_hh", w_hh, (gates * H, H)), ("b_hh", b_hh, (gates * H,))]
    named += [(name, s, (N, H)) for name, s in states]
    for name, t, shape in named:
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(t).__name__}")
        if tuple(t.shape) != shape:
            raise RuntimeError(f"{op}: expected {name} of shape {shape}, got {tuple(t.shape)}")
        if t.dtype != xp.dtype:
            raise RuntimeError(f"{op}: expected {name} of dtype {xp.dtype} (the input's), got "
                               f"{t.dtype}")
    return L, N, H


def rnn_layer(xp, w_hh, b_hh=None, h0=None, nonlinearity="tanh", reverse=False):
    """One Elman RNN layer/direction over a sequence, one graph node:
    ``h_t = act(xp_t + h_{t-1} W_hh^T + b_hh)`` (``torch.nn.RNN``'s cell; ``xp_t = x_t W_ih^T +
    b_ih`` is computed by the caller for all steps at once).

    Args:
        xp (Tensor): ``(L, N, H)`` projected inputs.
        w_hh (Tensor): ``(H, H)``; b_hh (Tensor or None): ``(H,)``.
        h0 (Tensor or None): ``(N, H)`` initial state (zeros when None).
        nonlinearity (str): ``'tanh'`` or ``'relu'``.
        reverse (bool): run from the last step to the first (``out[t]`` stays at position t).

    Returns:
        ``(output (L, N, H), h_n (N, H))``.

    Raises:
        ValueError: for an unknown nonlinearity. RuntimeError: for mismatched shapes/dtypes.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_layer: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                         "or 'relu'.")
    L, _, _ = _check("rnn_layer", 1, xp, w_hh, b_hh, [("h0", h0)])
    out = RNNSequence.apply(xp, w_hh, b_hh, h0, relu=nonlinearity == "relu", reverse=reverse)
    return out, out[0 if reverse else L - 1]


def lstm_layer(xp, w_hh, b_hh=None, h0=None, c0=None, reverse=False):
    """One LSTM layer/direction over a sequence, one graph node (``torch.nn.LSTM``'s cell,
    Hochreiter & Schmidhuber, 1997; gate order i, f, g, o)::

        i, f, o = sigmoid(.), g = tanh(.)  of  xp_t + h_{t-1} W_hh^T + b_hh
        c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)

    Args:
        xp (Tensor): ``(L, N, 4H)`` projected inputs ``x_t W_ih^T + b_ih``.
        w_hh (Tensor): ``(4H, H)``; b_hh (Tensor or None): ``(4H,)``.
        h0, c0 (Tensor or None): ``(N, H)`` initial states (zeros when None).
        reverse (bool): run from the last step to the first.

    Returns:
        ``(output (L, N, H), h_n (N, H), c_n (N, H))``.

    Raises:
        RuntimeError: for mismatched shapes or dtypes, naming them.
    """
    L, _, _ = _check("lstm_layer", 4, xp, w_hh, b_hh, [("h0", h0), ("c0", c0)])
    packed = LSTMSequence.apply(xp, w_hh, b_hh, h0, c0, reverse=reverse)
    return packed[:L], packed[0 if reverse else L - 1], packed[L]


def gru_layer(xp, w_hh, b_hh=None, h0=None, reverse=False):
    """One GRU layer/direction over a sequence, one graph node (``torch.nn.GRU``'s cell, Cho et
    al., 2014; gate order r, z, n)::

        r, z = sigmoid(xp_rz + h W_hrz^T + b_hrz)
        n = tanh(xp_n + r * (h W_hn^T + b_hn)),  h_t = (1 - z) * n + z * h_{t-1}

    Args:
        xp (Tensor): ``(L, N, 3H)`` projected inputs ``x_t W_ih^T + b_ih``.
        w_hh (Tensor): ``(3H, H)``; b_hh (Tensor or None): ``(3H,)``.
        h0 (Tensor or None): ``(N, H)`` initial state (zeros when None).
        reverse (bool): run from the last step to the first.

    Returns:
        ``(output (L, N, H), h_n (N, H))``.

    Raises:
        RuntimeError: for mismatched shapes or dtypes, naming them.
    """
    L, _, _ = _check("gru_layer", 3, xp, w_hh, b_hh, [("h0", h0)])
    out = GRUSequence.apply(xp, w_hh, b_hh, h0, reverse=reverse)
    return out, out[0 if reverse else L - 1]

"""Recurrent layers: ``RNN`` (tanh/relu), ``LSTM``, ``GRU`` and their cells ``RNNCell``,
``LSTMCell``, ``GRUCell``, with ``torch.nn``'s arguments, shapes, parameter names, gate order
and initialisation (so ``state_dict`` files interchange).

How a layer runs (per layer and direction): the inputs of all time steps are projected in ONE
matmul up front (``xp = x W_ih^T + b_ih``, an ordinary ``linear`` node), then the recurrence
over time is ONE graph node (:func:`autograd.ops.rnn.lstm_layer` etc.) whose forward and
backward-through-time loop in :mod:`kernels.rnn` (a BLAS GEMM plus a fused Numba gate kernel
per step). A sequence of any length is a handful of graph nodes; memory is linear in its
length. The cells run the same op on a sequence of length 1.

``RNN``, ``LSTM`` and ``GRU`` accept a :class:`nn.utils.rnn.PackedSequence` as input and then
return one: the batch is split into groups of equal length and each group runs over its own
valid steps only (so outputs past a sequence's length are absent, the final states are those
of each sequence's last valid step, and the reverse direction starts at each sequence's own
end, as in PyTorch); ``hx`` and ``h_n`` are in the caller's batch order.

Differences from PyTorch: LSTM ``proj_size > 0`` is not implemented (``NotImplementedError``);
the recurrence's double backward is not written (differentiating a gradient through it raises).
"""

import math
import numbers
import warnings

import numpy as np

import autograd
from autograd import Tensor
from autograd.ops.rnn import gru_layer, lstm_layer, rnn_layer

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NAMES = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
# RNNBase.extra_repr: the constructor arguments in PyTorch's order, with their defaults
_REPR_DEFAULTS = (("proj_size", 0), ("num_layers", 1), ("bias", True), ("batch_first", False),
                  ("dropout", 0), ("bidirectional", False))


def _project(x, weight, bias):
    """``x W^T + b`` for ``x`` of shape ``(A, B, in)`` as one 2-D GEMM when ``x`` is
    contiguous (NumPy would otherwise loop over ``A``)."""
    A, B, I = x.shape
    if x.is_contiguous():
        return F.linear(x.reshape(A * B, I), weight, bias).reshape(A, B, weight.shape[0])
    return F.linear(x, weight, bias)


def _layer(mode, xp, w_hh, b_hh, h0, c0, reverse):
    """Run one layer/direction; returns ``(output, h_n, c_n or None)``."""
    if mode == "LSTM":
        return lstm_layer(xp, w_hh, b_hh, h0, c0, reverse=reverse)
    if mode == "GRU":
        out, h_n = gru_layer(xp, w_hh, b_hh, h0, reverse=reverse)
    else:
        out, h_n = rnn_layer(xp, w_hh, b_hh, h0,
                             nonlinearity="relu" if mode == "RNN_RELU" else "tanh",
                             reverse=reverse)
    return out, h_n, None


def _is_packed(input):
    from .utils.rnn import PackedSequence
    return isinstance(input, PackedSequence)


def _lstm_state(hx, op):
    """An LSTM's or LSTMCell's ``hx`` as the list ``[h_0, c_0]`` (``[None, None]`` when it is
    omitted: zeros).

    Raises:
        TypeError: if ``hx`` is not a pair, naming ``op``.
    """
    if hx is None:
        return [None, None]
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{op}: hx must be a tuple (h_0, c_0) of two Tensors, got "
                        f"{type(hx).__name__}")
    return list(hx)


def _check_tensor_input(name, input, unbatched_ndim):
    """``input`` must be a Tensor with ``unbatched_ndim`` or ``unbatched_ndim + 1`` dims."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (unbatched_ndim, unbatched_ndim + 1):
        raise ValueError(f"{name}: Expected input to be {unbatched_ndim}D or "
                         f"{unbatched_ndim + 1}D, got {input.ndim}D instead")


def _check_int(name, value, positive=True):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be greater than zero")


class RNNBase(Module):
    """Base class of :class:`RNN`, :class:`LSTM` and :class:`GRU` (``torch.nn.RNNBase``).

    Args:
        mode (str): ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        proj_size: see the subclasses.

    Raises:
        TypeError: for a non-integer ``input_size``/``hidden_size``/``num_layers``.
        ValueError: for non-positive sizes, a ``dropout`` outside ``[0, 1]``, a bad mode or
            ``proj_size``.
        NotImplementedError: for ``proj_size > 0`` (LSTM projections are not implemented).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        if device is not None:
            autograd._require_cpu(device, "nn.RNN")  # only the CPU: a clear error otherwise
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        _check_int("input_size", input_size, positive=False)
        _check_int("hidden_size", hidden_size)
        _check_int("num_layers", num_layers)
        if input_size < 0:
            raise ValueError(f"input_size must be non-negative, got {input_size}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size > 0:
            raise NotImplementedError("LSTM: proj_size > 0 (LSTM with projections) is not "
                                      "implemented in tapegrad")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                params = [("weight_ih", (gate_size, layer_in)),
                          ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    params += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for base, shape in params:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(autograd.empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as
        PyTorch does."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def flatten_parameters(self):
        """No-op (PyTorch compacts cuDNN weights here; tapegrad has nothing to compact)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """Per layer and direction, the list ``[w_ih, w_hh, b_ih, b_hh]`` (biases only when
        ``bias=True``), as ``torch.nn.RNNBase.all_weights``."""
        per = 4 if self.bias else 2
        w = self._flat_weights
        return [w[i:i + per] for i in range(0, len(w), per)]

    # ---- forward --------------------------------------------------------------------------
    def _check_input(self, input):
        name = _NAMES[self.mode]
        _check_tensor_input(name, input, 2)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        w = self.weight_ih_l0
        if input.dtype != w.dtype:
            raise ValueError(f"input must have the type {w.dtype}, got type {input.dtype}")

    def _check_hidden(self, hx, expected, what):
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")
        if hx.dtype != self.weight_ih_l0.dtype:
            raise ValueError(f"{_NAMES[self.mode]}: {what} must have the type "
                             f"{self.weight_ih_l0.dtype}, got type {hx.dtype}")

    def _run(self, input, h0, c0):
        """``input`` ``(L, N, H_in)``, states ``(D * num_layers, N, H)`` or None ->
        ``(output (L, N, D * H), h_n, c_n or None)``."""
        D = 2 if self.bidirectional else 1
        layer_input = input
        h_list, c_list = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                suffix = "_reverse" if d == 1 else ""
                w_ih = getattr(self, f"weight_ih_l{layer}{suffix}")
                w_hh = getattr(self, f"weight_hh_l{layer}{suffix}")
                b_ih = getattr(self, f"bias_ih_l{layer}{suffix}") if self.bias else None
                b_hh = getattr(self, f"bias_hh_l{layer}{suffix}") if self.bias else None
                k = layer * D + d
                xp = _project(layer_input, w_ih, b_ih)
                out, h_n, c_n = _layer(self.mode, xp, w_hh, b_hh,
                                       None if h0 is None else h0[k],
                                       None if c0 is None else c0[k], d == 1)
                outs.append(out)
                h_list.append(h_n)
                c_list.append(c_n)
            layer_input = outs[0] if D == 1 else autograd.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = autograd.stack(h_list, 0)
        c_n = autograd.stack(c_list, 0) if self.mode == "LSTM" else None
        return layer_input, h_n, c_n

    def _run_packed(self, packed, hx_list):
        """Run a :class:`PackedSequence`: one :meth:`_run` per group of sequences of equal
        length, over that length only. Returns ``(PackedSequence, h_n, c_n or None)`` with
        the states in the caller's batch order."""
        from .utils.rnn import _pack_like, pad_packed_sequence
        padded, lengths = pad_packed_sequence(packed)
        self._check_input(padded)
        if padded.ndim != 3:
            raise ValueError(f"{_NAMES[self.mode]}: a PackedSequence's data must be 2-D "
                             f"(steps, features), got {padded.ndim - 1}-D")
        T, N = padded.shape[0], padded.shape[1]
        D = 2 if self.bidirectional else 1
        expected = (self.num_layers * D, N, self.hidden_size)
        states = []
        for i, hx in enumerate(hx_list):
            if hx is not None:
                if not isinstance(hx, Tensor):
                    raise TypeError(f"{_NAMES[self.mode]}: expected hx to be a Tensor, got "
                                    f"{type(hx).__name__}")
                self._check_hidden(hx, expected,
                                   "hidden" if len(hx_list) == 1 else f"hidden[{i}]")
            states.append(hx)
        lens = np.asarray(lengths._data)
        order, outs, hs, cs = [], [], [], []
        for L in sorted(set(lens.tolist()), reverse=True):
            idx = np.nonzero(lens == L)[0].astype(np.int64)
            it = Tensor._make(idx, False, None)
            sub = [None if h is None else h.index_select(1, it) for h in states]
            out, h_n, c_n = self._run(padded[:L].index_select(1, it), sub[0],
                                      sub[1] if len(sub) > 1 else None)
            if L < T:
                out = autograd.cat([out, autograd.zeros(T - L, out.shape[1], out.shape[2],
                                                        dtype=out.dtype)], 0)
            order.append(idx)
            outs.append(out)
            hs.append(h_n)
            cs.append(c_n)
        inv = np.empty(N, dtype=np.int64)
        inv[np.concatenate(order)] = np.arange(N, dtype=np.int64)
        inv = Tensor._make(inv, False, None)
        out = autograd.cat(outs, 1).index_select(1, inv)
        h_n = autograd.cat(hs, 1).index_select(1, inv)
        c_n = autograd.cat(cs, 1).index_select(1, inv) if self.mode == "LSTM" else None
        return _pack_like(out, packed), h_n, c_n

    def _prepare(self, input, hx_list):
        """Checks; returns ``(input (L, N, H_in), states (3-D or None), batched)``."""
        self._check_input(input)
        batched = input.ndim == 3
        name = _NAMES[self.mode]
        if batched:
            if self.batch_first:
                input = input.transpose(0, 1)
        else:
            input = input.unsqueeze(1)
        N = input.shape[1]
        D = 2 if self.bidirectional else 1
        expected = (self.num_layers * D, N, self.hidden_size)
        states = []
        for i, hx in enumerate(hx_list):
            if hx is None:
                states.append(None)
                continue
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: expected hx to be a Tensor, got {type(hx).__name__}")
            if batched and hx.ndim != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.ndim}-D tensor")
            if not batched:
                if hx.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                       f"{hx.ndim}-D tensor")
                hx = hx.unsqueeze(1)
            what = "hidden" if len(hx_list) == 1 else f"hidden[{i}]"
            self._check_hidden(hx, expected, what)
            states.append(hx)
        return input, states, batched

    def _finish(self, output, batched):
        if not batched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output

    def _forward_one_state(self, input, hx):
        """The forward of the modes with one state (RNN, GRU): ``(output, h_n)``."""
        if _is_packed(input):
            out, h_n, _ = self._run_packed(input, [hx])
            return out, h_n
        x, (h0,), batched = self._prepare(input, [hx])
        out, h_n, _ = self._run(x, h0, None)
        return self._finish(out, batched), (h_n if batched else h_n.squeeze(1))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in _REPR_DEFAULTS:  # shown only where it differs from the default
            value = getattr(self, name)
            if (value is not default) if isinstance(default, bool) else (value != default):
                s += f", {name}={value}"
        return s


class RNN(RNNBase):
    """Multi-layer Elman RNN (``torch.nn.RNN``)::

        h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   act = tanh or relu

    Args:
        input_size (int): features of the input ``x``.
        hidden_size (int): features of the hidden state ``h``.
        num_layers (int): stacked layers (default 1).
        nonlinearity (str): ``'tanh'`` (default) or ``'relu'``.
        bias (bool): use ``b_ih`` and ``b_hh`` (default ``True``).
        batch_first (bool): input/output as ``(N, L, *)`` instead of ``(L, N, *)``
            (``h_n`` is not affected).
        dropout (float): dropout on the outputs of every layer but the last (training only).
        bidirectional (bool): add a reverse-direction layer at each level.
        dtype: parameter dtype (default float32; float64 works too).
        device: ``None`` or ``'cpu'`` (tapegrad runs on the CPU; anything else raises
            ``RuntimeError``).

    Shape (``D = 2 if bidirectional else 1``):
        - input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or unbatched
          ``(L, H_in)``;
        - hx: ``(D * num_layers, N, H_out)`` (``(D * num_layers, H_out)`` unbatched), zeros
          when omitted;
        - output: ``(L, N, D * H_out)`` (``(N, L, D * H_out)`` with ``batch_first``), the last
          layer's ``h_t`` for every ``t``;
        - h_n: ``(D * num_layers, N, H_out)``, the final state of every layer and direction.

    Attributes:
        weight_ih_l[k]: ``(hidden_size, input_size)`` for ``k = 0``, else
            ``(hidden_size, D * hidden_size)``; weight_hh_l[k]: ``(hidden_size, hidden_size)``;
        bias_ih_l[k], bias_hh_l[k]: ``(hidden_size,)``; the reverse direction's carry the
        suffix ``_reverse``. All drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Raises:
        ValueError: for an unknown ``nonlinearity``, bad sizes or dropout; in forward, for an
            input that is not 2-D/3-D or whose dtype differs from the parameters'.
        RuntimeError: (forward) when ``input.size(-1) != input_size`` or ``hx`` has the wrong
            shape.

    Example::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, h_n = rnn(autograd.randn(5, 3, 10), autograd.randn(2, 3, 20))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """Returns ``(output, h_n)``; see the class docstring for the shapes (a
        ``PackedSequence`` input gives a ``PackedSequence`` output)."""
        return self._forward_one_state(input, hx)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh"
                    else "")


class LSTM(RNNBase):
    """Multi-layer long short-term memory RNN (``torch.nn.LSTM``; Hochreiter & Schmidhuber,
    1997), gate order i, f, g, o as in PyTorch::

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f_t * c_{t-1} + i_t * g_t,   h_t = o_t * tanh(c_t)

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype:
            as :class:`RNN`.
        proj_size (int): must be 0 (projections are not implemented: ``NotImplementedError``).

    Shape (``D = 2 if bidirectional else 1``):
        - input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or ``(L, H_in)``;
        - ``(h_0, c_0)``: each ``(D * num_layers, N, H_out)`` (2-D when unbatched); zeros when
          omitted;
        - output: ``(L, N, D * H_out)`` (``batch_first``: ``(N, L, D * H_out)``);
        - ``(h_n, c_n)``: each ``(D * num_layers, N, H_out)``.

    Attributes:
        weight_ih_l[k]: ``(4*hidden_size, input_size)`` for ``k = 0``, else
            ``(4*hidden_size, D*hidden_size)``; weight_hh_l[k]: ``(4*hidden_size,
            hidden_size)``; bias_ih_l[k], bias_hh_l[k]: ``(4*hidden_size,)``; ``_reverse`` for
            the reverse direction; all U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Raises:
        as :class:`RNN`; ``NotImplementedError`` for ``proj_size > 0``.

    Example::

        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (h_n, c_n) = lstm(autograd.randn(5, 3, 10))
        >>> output.shape, h_n.shape, c_n.shape
        ((5, 3, 20), (2, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """Returns ``(output, (h_n, c_n))``; see the class docstring for the shapes.

        Raises:
            TypeError: if ``hx`` is not a pair ``(h_0, c_0)``.
        """
        pair = _lstm_state(hx, "LSTM")
        if hx is not None and not _is_packed(input):
            if input.ndim == 3 and any(isinstance(h, Tensor) and h.ndim != 3 for h in pair):
                raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but "
                                   f"got ({pair[0].ndim}-D, {pair[1].ndim}-D) tensors")
            elif input.ndim == 2 and any(isinstance(h, Tensor) and h.ndim != 2 for h in pair):
                raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D but "
                                   f"got ({pair[0].ndim}-D, {pair[1].ndim}-D) tensors")
        if _is_packed(input):
            out, h_n, c_n = self._run_packed(input, pair)
            return out, (h_n, c_n)
        x, (h0, c0), batched = self._prepare(input, pair)
        out, h_n, c_n = self._run(x, h0, c0)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(out, batched), (h_n, c_n)


class GRU(RNNBase):
    """Multi-layer gated recurrent unit RNN (``torch.nn.GRU``; Cho et al., 2014), gate order
    r, z, n as in PyTorch::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype:
            as :class:`RNN`.

    Shape:
        as :class:`RNN` (``(output, h_n)``).

    Attributes:
        weight_ih_l[k] ``(3*hidden_size, in)``, weight_hh_l[k] ``(3*hidden_size,
        hidden_size)``, bias_ih_l[k], bias_hh_l[k] ``(3*hidden_size,)``, ``_reverse`` for the
        reverse direction; all U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Raises:
        as :class:`RNN`.

    Example::

        >>> gru = nn.GRU(10, 20, 2, batch_first=True)
        >>> output, h_n = gru(autograd.randn(3, 5, 10))
        >>> output.shape, h_n.shape
        ((3, 5, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """Returns ``(output, h_n)``; see the class docstring for the shapes (a
        ``PackedSequence`` input gives a ``PackedSequence`` output)."""
        return self._forward_one_state(input, hx)


# ---- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Base class of the cells (``torch.nn.RNNCellBase``): parameters ``weight_ih``
    ``(G*hidden_size, input_size)``, ``weight_hh`` ``(G*hidden_size, hidden_size)``,
    ``bias_ih``, ``bias_hh`` ``(G*hidden_size,)`` with ``G`` gates, all drawn from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    A step runs the sequence op of its layer on a sequence of length 1 (one fused node).
    """

    _gates = 1
    _mode = "RNN_TANH"

    def __init__(self, input_size, hidden_size, bias=True, num_chunks=None, device=None,
                 dtype=None):
        super().__init__()
        if device is not None:
            autograd._require_cpu(device, "nn.RNNCell")
        _check_int("input_size", input_size, positive=False)
        _check_int("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        G = (num_chunks or self._gates) * hidden_size
        self.weight_ih = Parameter(autograd.empty(G, input_size, dtype=dtype))
        self.weight_hh = Parameter(autograd.empty(G, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(autograd.empty(G, dtype=dtype))
            self.bias_hh = Parameter(autograd.empty(G, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter (PyTorch)."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _cell_input(self, input, states):
        """Checks; returns ``(xp (1, N, G*H), states as (N, H) or None, batched)``."""
        name = type(self).__name__
        _check_tensor_input(name, input, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        if input.dtype != self.weight_ih.dtype:
            raise ValueError(f"{name}: input must have the type {self.weight_ih.dtype}, got "
                             f"type {input.dtype}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        N = input.shape[0]
        out = []
        for i, hx in enumerate(states):
            if hx is None:
                out.append(None)
                continue
            label = "hidden" if len(states) == 1 else f"hx[{i}]"
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: expected {label} to be a Tensor, got "
                                f"{type(hx).__name__}")
            if hx.ndim not in (1, 2) or hx.ndim != input.ndim - (0 if batched else 1):
                raise ValueError(f"{name}: Expected {label} to be "
                                 f"{'2D' if batched else '1D'} (like the input), got "
                                 f"{hx.ndim}D instead")
            if not batched:
                hx = hx.unsqueeze(0)
            if hx.shape[0] != N:
                raise RuntimeError(f"Input batch size {N} doesn't match hidden{i} batch size "
                                   f"{hx.shape[0]}")
            if hx.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                   f"{hx.shape[1]}, expected {self.hidden_size}")
            if hx.dtype != input.dtype:
                raise ValueError(f"{name}: {label} must have the type {input.dtype}, got type "
                                 f"{hx.dtype}")
            out.append(hx)
        xp = F.linear(input, self.weight_ih, self.bias_ih).unsqueeze(0)
        return xp, out, batched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(RNNCellBase):
    """One Elman RNN step (``torch.nn.RNNCell``):
    ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, ``act`` tanh or relu.

    Args:
        input_size (int), hidden_size (int), bias (bool, default ``True``),
        nonlinearity (str): ``'tanh'`` (default) or ``'relu'``; dtype.

    Shape:
        input ``(N, H_in)`` or ``(H_in,)``; hidden ``(N, H_out)`` or ``(H_out,)`` (zeros when
        omitted) -> ``h'`` of the hidden's shape.

    Raises:
        ValueError: unknown nonlinearity; input not 1-D/2-D or of another dtype.
        RuntimeError: inconsistent sizes (PyTorch's messages).

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> cell(autograd.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        xp, (h0,), batched = self._cell_input(input, [hx])
        out, h1 = rnn_layer(xp, self.weight_hh, self.bias_hh, h0,
                            nonlinearity=self.nonlinearity)
        return h1 if batched else h1.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (``torch.nn.LSTMCell``), the equations of :class:`LSTM` with gate order
    i, f, g, o.

    Args:
        input_size (int), hidden_size (int), bias (bool, default ``True``), dtype.

    Shape:
        input ``(N, H_in)`` or ``(H_in,)``; ``hx = (h_0, c_0)`` each ``(N, H_out)`` or
        ``(H_out,)`` (zeros when omitted) -> ``(h_1, c_1)`` of the same shape.

    Raises:
        as :class:`RNNCell`; TypeError if ``hx`` is not a pair.

    Example::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(autograd.randn(3, 10))
        >>> h.shape, c.shape
        ((3, 20), (3, 20))
    """

    _gates = 4

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        pair = _lstm_state(hx, "LSTMCell")
        xp, (h0, c0), batched = self._cell_input(input, pair)
        _, h1, c1 = lstm_layer(xp, self.weight_hh, self.bias_hh, h0, c0)
        if not batched:
            h1, c1 = h1.squeeze(0), c1.squeeze(0)
        return h1, c1


class GRUCell(RNNCellBase):
    """One GRU step (``torch.nn.GRUCell``), the equations of :class:`GRU` (gate order r, z, n;
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``).

    Args:
        input_size (int), hidden_size (int), bias (bool, default ``True``), dtype.

    Shape:
        input ``(N, H_in)`` or ``(H_in,)``; hidden ``(N, H_out)`` or ``(H_out,)`` (zeros when
        omitted) -> ``h'`` of the hidden's shape.

    Raises:
        as :class:`RNNCell`.

    Example::

        >>> cell = nn.GRUCell(10, 20)
        >>> cell(autograd.randn(3, 10), autograd.randn(3, 20)).shape
        (3, 20)
    """

    _gates = 3

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        xp, (h0,), batched = self._cell_input(input, [hx])
        _, h1 = gru_layer(xp, self.weight_hh, self.bias_hh, h0)
        return h1 if batched else h1.squeeze(0)

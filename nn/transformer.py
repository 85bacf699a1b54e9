"""Transformer layers (``torch.nn.Transformer`` and friends): ``TransformerEncoderLayer``,
``TransformerEncoder``, ``TransformerDecoderLayer``, ``TransformerDecoder``, ``Transformer``.

Vaswani et al., 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762 (post-norm,
the default); the pre-norm variant (``norm_first=True``) is Xiong et al., 2020, "On Layer
Normalization in the Transformer Architecture", https://arxiv.org/abs/2002.04745.

Submodule and parameter names are PyTorch's (``layers.0.self_attn.in_proj_weight``,
``layers.0.linear1.weight``, ``layers.0.norm1.weight``, ...), so state dicts interchange.

Differs from PyTorch: there is no fast path (PyTorch's fused inference kernels and nested
tensors, taken in evaluation mode under ``no_grad``). In particular, with a
``src_key_padding_mask`` in evaluation mode PyTorch's ``TransformerEncoder`` returns zeros at
the padded positions (its nested-tensor path), whereas here they hold the ordinary layer
output; the non-padded positions agree. ``enable_nested_tensor`` and ``mask_check`` are accepted
and ignored.
"""

import copy

import numpy as np

import autograd
from autograd import Tensor

from . import functional as F
from . import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention, _as_tensor, _canonical_mask
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """``(sz, sz)`` float mask: ``-inf`` above the diagonal, ``0`` on and below it."""
    if device is not None:
        autograd._require_cpu(device, "nn.Transformer")
    dtype = np.dtype(autograd.get_default_dtype()) if dtype is None else \
        autograd.dtypes.to_dtype(dtype)
    arr = np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1)
    return Tensor(arr)


def _get_seq_len(src, batch_first):
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """PyTorch's rule: ``is_causal=True`` stays; ``None`` with a mask becomes whether the mask
    equals the causal mask of ``size``; otherwise ``False``."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        mask = _as_tensor(mask)
        sz = size if size is not None else mask.shape[-2]
        if tuple(mask.shape) == (sz, sz):
            causal = np.triu(np.ones((sz, sz), dtype=bool), 1)
            m = mask._data
            if m.dtype == np.bool_:
                make_causal = bool(np.array_equal(m, causal))
            else:
                make_causal = bool(np.all(np.where(causal, np.isneginf(m), m == 0)))
        else:
            make_causal = False
    return make_causal


def _get_activation_fn(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _check_activation(activation):
    if isinstance(activation, str):
        return _get_activation_fn(activation)
    if not callable(activation):
        raise TypeError(f"activation must be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


class _TransformerLayer(Module):
    """Shared by the encoder and decoder layers: their submodules, created in PyTorch's order
    (so parameters draw the same random numbers and ``state_dict`` keys come in PyTorch's
    order), and the self-attention block."""

    def _init_blocks(self, attentions, n_blocks, d_model, nhead, dim_feedforward, dropout,
                     layer_norm_eps, batch_first, norm_first, bias, device, dtype):
        """One MultiheadAttention per name in ``attentions``, then ``linear1``, ``dropout``,
        ``linear2``, ``norm1..normK`` and ``dropout1..dropoutK`` (K = ``n_blocks``: one
        residual block per attention plus the feed-forward one)."""
        for name in attentions:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                   batch_first=batch_first, device=device,
                                                   dtype=dtype))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        for i in range(1, n_blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                dtype=dtype))
        for i in range(1, n_blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)


class TransformerEncoderLayer(_TransformerLayer):
    """One encoder block: self-attention and a feed-forward network, each with a residual
    connection and layer norm (``torch.nn.TransformerEncoderLayer``; Vaswani et al., 2017)::

        norm_first=False:  x = norm1(x + _sa_block(x));  x = norm2(x + _ff_block(x))
        norm_first=True:   x = x + _sa_block(norm1(x));  x = x + _ff_block(norm2(x))

    with ``_sa_block(x) = dropout1(self_attn(x, x, x))`` and
    ``_ff_block(x) = dropout2(linear2(dropout(activation(linear1(x)))))``.

    Args:
        d_model (int): feature size ``E``.
        nhead (int): number of attention heads (must divide ``d_model``).
        dim_feedforward (int): hidden size of the feed-forward network (default 2048).
        dropout (float): dropout probability everywhere (default 0.1).
        activation: ``"relu"`` (default), ``"gelu"`` or a callable (e.g. ``F.gelu``, a Module).
        layer_norm_eps (float): LayerNorm eps (default 1e-5).
        batch_first (bool): ``(N, S, E)`` instead of ``(S, N, E)``.
        norm_first (bool): pre-norm (layer norm before attention / feed-forward).
        bias (bool): biases in the Linear and LayerNorm layers (default ``True``).
        dtype: parameter dtype (default float32).

    Forward ``(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: masks as in
    :class:`MultiheadAttention` (``src_mask`` ``(S, S)`` or ``(N * nhead, S, S)``, bool True =
    not allowed or float added; ``src_key_padding_mask`` ``(N, S)``, True = padding);
    ``is_causal`` is a hint that ``src_mask`` is the causal mask (it must be given).

    Shape:
        src ``(S, N, E)``, ``(N, S, E)`` (batch_first) or unbatched ``(S, E)`` -> the same.

    Attributes:
        self_attn (MultiheadAttention), linear1 (Linear ``E -> dim_feedforward``), dropout,
        linear2 (Linear ``dim_feedforward -> E``), norm1, norm2 (LayerNorm), dropout1,
        dropout2 (Dropout), activation, norm_first.

    Raises:
        RuntimeError: an unknown activation name; (forward) ``is_causal`` without
            ``src_mask`` and mask shape errors from :class:`MultiheadAttention`.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, batch_first=True)
        >>> layer(autograd.randn(32, 10, 512)).shape
        (32, 10, 512)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self._init_blocks(("self_attn",), 2, d_model, nhead, dim_feedforward, dropout,
                          layer_norm_eps, batch_first, norm_first, bias, device, dtype)
        activation = _check_activation(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               src_mask, "src_mask", src.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype,
                                   check_other=False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(_TransformerLayer):
    """One decoder block: masked self-attention, attention over the encoder's output
    (``memory``) and a feed-forward network, each with a residual connection and layer norm
    (``torch.nn.TransformerDecoderLayer``; Vaswani et al., 2017)::

        norm_first=False:  x = norm1(x + _sa_block(x)); x = norm2(x + _mha_block(x, mem));
                           x = norm3(x + _ff_block(x))
        norm_first=True:   x = x + _sa_block(norm1(x)); x = x + _mha_block(norm2(x), mem);
                           x = x + _ff_block(norm3(x))

    Args: as :class:`TransformerEncoderLayer`.

    Forward ``(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``:
    ``tgt_mask`` ``(T, T)`` / ``(N * nhead, T, T)``, ``memory_mask`` ``(T, S)`` /
    ``(N * nhead, T, S)``, padding masks ``(N, T)`` and ``(N, S)``; conventions as
    :class:`MultiheadAttention`; the ``*_is_causal`` flags are hints that the matching mask is
    causal.

    Shape:
        tgt ``(T, N, E)`` (``(N, T, E)`` batch_first, ``(T, E)`` unbatched), memory
        ``(S, N, E)`` etc. -> the tgt's shape.

    Attributes:
        self_attn, multihead_attn (MultiheadAttention), linear1, dropout, linear2, norm1,
        norm2, norm3, dropout1, dropout2, dropout3, activation, norm_first.

    Raises:
        RuntimeError: an unknown activation name; (forward) as :class:`MultiheadAttention`.

    Example::

        >>> layer = nn.TransformerDecoderLayer(d_model=512, nhead=8)
        >>> layer(autograd.randn(20, 32, 512), autograd.randn(10, 32, 512)).shape
        (20, 32, 512)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self._init_blocks(("self_attn", "multihead_attn"), 3, d_model, nhead, dim_feedforward,
                          dropout, layer_norm_eps, batch_first, norm_first, bias, device, dtype)
        self.activation = _check_activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask,
                                              tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask,
                                               memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class _TransformerStack(Module):
    """Shared by TransformerEncoder and TransformerDecoder: the stack of layer copies with its
    final norm, and PyTorch's causal-mask detection from the first layer's layout."""

    def _init_stack(self, layer, num_layers, norm):
        if num_layers < 1:
            raise ValueError(f"{type(self).__name__}: num_layers must be positive, got "
                             f"{num_layers}")
        self.layers = _get_clones(layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def _detect_is_causal(self, mask, is_causal, x):
        """:func:`_detect_is_causal_mask` for the sequence length of ``x``."""
        first = self.layers[0]
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        return _detect_is_causal_mask(mask, is_causal, _get_seq_len(x, batch_first))

    def _final_norm(self, output):
        return self.norm(output) if self.norm is not None else output


class TransformerEncoder(_TransformerStack):
    """A stack of ``num_layers`` deep copies of ``encoder_layer``, then an optional ``norm``
    (``torch.nn.TransformerEncoder``).

    Args:
        encoder_layer (TransformerEncoderLayer): the layer to copy (each copy has its own
            parameters, starting from the same values).
        num_layers (int): number of layers.
        norm (Module, optional): applied to the output (e.g. ``LayerNorm(d_model)``).
        enable_nested_tensor, mask_check: accepted for compatibility; ignored (no nested
            tensors here).

    Forward ``(src, mask=None, src_key_padding_mask=None, is_causal=None)``: as
    :class:`TransformerEncoderLayer`; with ``is_causal=None`` a ``mask`` equal to the causal
    mask is detected (PyTorch's rule) and passed on as the hint.

    Shape: src ``(S, N, E)`` / ``(N, S, E)`` / ``(S, E)`` -> the same.

    Attributes:
        layers (ModuleList): the copies (``layers.0``, ``layers.1``, ...); num_layers; norm.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=512, nhead=8)
        >>> enc = nn.TransformerEncoder(layer, num_layers=6)
        >>> enc(autograd.randn(10, 32, 512)).shape
        (10, 32, 512)
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self._init_stack(encoder_layer, num_layers, norm)
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               mask, "mask", src.dtype)
        mask = _canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        is_causal = self._detect_is_causal(mask, is_causal, src)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        return self._final_norm(output)


class TransformerDecoder(_TransformerStack):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, then an optional ``norm``
    (``torch.nn.TransformerDecoder``).

    Args:
        decoder_layer (TransformerDecoderLayer): the layer to copy.
        num_layers (int): number of layers.
        norm (Module, optional): applied to the output.

    Forward ``(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``: as
    :class:`TransformerDecoderLayer`; with ``tgt_is_causal=None`` a causal ``tgt_mask`` is
    detected.

    Shape: tgt ``(T, N, E)`` / ``(N, T, E)`` / ``(T, E)``, memory ``(S, N, E)`` etc. -> the
    tgt's shape.

    Attributes:
        layers (ModuleList), num_layers, norm.

    Example::

        >>> layer = nn.TransformerDecoderLayer(d_model=512, nhead=8)
        >>> dec = nn.TransformerDecoder(layer, num_layers=6)
        >>> dec(autograd.randn(20, 32, 512), autograd.randn(10, 32, 512)).shape
        (20, 32, 512)
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self._init_stack(decoder_layer, num_layers, norm)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        tgt_is_causal = self._detect_is_causal(tgt_mask, tgt_is_causal, tgt)
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self._final_norm(output)


class Transformer(Module):
    """The encoder-decoder transformer (``torch.nn.Transformer``; Vaswani et al., 2017,
    https://arxiv.org/abs/1706.03762): ``TransformerEncoder`` of ``num_encoder_layers`` layers
    with a final LayerNorm, and ``TransformerDecoder`` of ``num_decoder_layers`` layers with a
    final LayerNorm. Every parameter with more than one dimension is re-initialised
    Xavier-uniform (as PyTorch's ``_reset_parameters``).

    Args:
        d_model (int): feature size (default 512).
        nhead (int): attention heads (default 8).
        num_encoder_layers, num_decoder_layers (int): default 6 each.
        dim_feedforward (int): default 2048.
        dropout (float): default 0.1.
        activation: ``"relu"`` (default, ``F.relu``), ``"gelu"`` or a callable.
        custom_encoder, custom_decoder (Module, optional): used instead of the built ones.
        layer_norm_eps (float): default 1e-5.
        batch_first (bool): ``(N, S, E)`` layout (default ``False``: ``(S, N, E)``).
        norm_first (bool): pre-norm layers (default ``False``).
        bias (bool): biases in Linear and LayerNorm layers (default ``True``).
        dtype: parameter dtype (default float32).

    Forward ``(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``: masks as in
    :class:`TransformerEncoder` / :class:`TransformerDecoder`.

    Shape:
        src ``(S, N, E)``, tgt ``(T, N, E)`` (``(N, S, E)``/``(N, T, E)`` batch_first;
        ``(S, E)``/``(T, E)`` unbatched) -> output ``(T, N, E)`` (the tgt's layout).

    Attributes:
        encoder (TransformerEncoder), decoder (TransformerDecoder), d_model, nhead,
        batch_first.

    Raises:
        RuntimeError: (forward) src and tgt with different batch sizes or a feature size
            other than ``d_model``.

    Example::

        >>> model = nn.Transformer(nhead=16, num_encoder_layers=12)
        >>> src, tgt = autograd.randn(10, 32, 512), autograd.randn(20, 32, 512)
        >>> model(src, tgt).shape
        (20, 32, 512)
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        stacks = (("encoder", custom_encoder, TransformerEncoderLayer, TransformerEncoder,
                   num_encoder_layers),
                  ("decoder", custom_decoder, TransformerDecoderLayer, TransformerDecoder,
                   num_decoder_layers))
        for name, custom, layer_cls, stack_cls, num_layers in stacks:
            if custom is None:  # PyTorch's stack: num_layers copies of a layer, a final norm
                layer = layer_cls(d_model, nhead, dim_feedforward, dropout, activation,
                                  layer_norm_eps, batch_first, norm_first, bias, device=device,
                                  dtype=dtype)
                norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
                custom = stack_cls(layer, num_layers, norm)
            setattr(self, name, custom)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        is_batched = src.ndim == 3
        bdim = 0 if self.batch_first else 1
        if is_batched and (tgt.ndim != 3 or src.shape[bdim] != tgt.shape[bdim]):
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, "
                               f"got src {tuple(src.shape)} and tgt {tuple(tgt.shape)} "
                               f"(batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal "
                               f"to d_model={self.d_model}, got src {tuple(src.shape)} and "
                               f"tgt {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The causal mask for a sequence of length ``sz``: an ``(sz, sz)`` float Tensor
        (default dtype) with ``-inf`` above the diagonal and ``0`` elsewhere (position ``i``
        may attend to ``j <= i``), as PyTorch."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        """Xavier-uniform every parameter with more than one dimension (PyTorch)."""
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

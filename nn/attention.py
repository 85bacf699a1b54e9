"""Multi-head attention: ``nn.MultiheadAttention`` and its functional form
:func:`multi_head_attention_forward` (``torch.nn.functional.multi_head_attention_forward``).

Vaswani et al., 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762, section
3.2.2: ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O`` with
``head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)``.

Layout inside: the projected queries/keys/values are put in ``(N, H, L, head_dim)`` (one
reshape and one permute from either ``(L, N, E)`` or ``(N, L, E)``), so the same code serves
``batch_first`` both ways; with ``need_weights=False`` the heads run in the fused
:func:`nn.functional.scaled_dot_product_attention` kernel.
"""

import math
import warnings

import numpy as np

import autograd
from autograd import Tensor

from . import functional as F
from . import init
from .linear import NonDynamicallyQuantizableLinear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention", "multi_head_attention_forward"]

_OP = "multi_head_attention_forward"


def _as_tensor(mask):
    if mask is None or isinstance(mask, Tensor):
        return mask
    return Tensor(np.asarray(mask))


def _canonical_mask(mask, mask_name, other, other_name, dtype, check_other=True):
    """A float additive mask of ``dtype`` from a bool mask (``True`` -> ``-inf``: the
    position is NOT allowed to attend, PyTorch's MHA convention) or a float mask (kept,
    converted to ``dtype``); ``None`` stays ``None``. ``other`` is the original other mask,
    for PyTorch's deprecation warning on mismatched mask types."""
    if mask is None:
        return None
    mask = _as_tensor(mask)
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported, got "
                             f"dtype {mask.dtype}")
    if check_other and other is not None and _as_tensor(other).dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", UserWarning, stacklevel=4)
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask._data, -np.inf, 0.0).astype(dtype))
    return mask if mask.dtype == dtype else mask.to(dtype)


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's ``_mha_shape_check``: whether the input is batched, with AssertionError (as
    PyTorch) for inconsistent dims."""
    if query.ndim in (2, 3):
        batched = query.ndim == 3
        which = "batched (3-D)" if batched else "unbatched (2-D)"
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(f"{_OP}: for {which} query, expected key and value to be "
                                 f"{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D "
                                 "tensors")
        if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
            raise AssertionError(f"{_OP}: for {which} query, expected key_padding_mask to be "
                                 f"None or {'2-D (N, S)' if batched else '1-D (S,)'} but found "
                                 f"a {key_padding_mask.ndim}-D tensor")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(f"{_OP}: for {which} query, expected attn_mask to be None, "
                                 f"2-D or 3-D but found a {attn_mask.ndim}-D tensor")
        if not batched and attn_mask is not None and attn_mask.ndim == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise AssertionError(f"{_OP}: expected attn_mask shape to be {expected} but got "
                                     f"{tuple(attn_mask.shape)}")
        return batched
    raise AssertionError(f"{_OP}: query should be unbatched 2D or batched 3D tensor but "
                         f"received a {query.ndim}-D query tensor of shape "
                         f"{tuple(query.shape)}")


def _mha(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
         add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
         need_weights, attn_mask, q_proj_weight, k_proj_weight, v_proj_weight,
         average_attn_weights, is_causal, batch_first, embed_dim_to_check):
    """The computation behind :func:`multi_head_attention_forward` and
    :class:`MultiheadAttention`, for inputs in ``(L, N, E)`` or (``batch_first``)
    ``(N, L, E)`` layout."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_OP}: {name} must be a Tensor, got {type(t).__name__}")
    key_padding_mask = _as_tensor(key_padding_mask)
    attn_mask = _as_tensor(attn_mask)
    is_batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    bf = batch_first and is_batched
    self_attention = query is key and key is value
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if bf:
        N, L, E = query.shape
        S = key.shape[1]
    else:
        L, N, E = query.shape
        S = key.shape[0]
    kb, vb = (key.shape[0], value.shape[0]) if bf else (key.shape[1], value.shape[1])
    vs = value.shape[1] if bf else value.shape[0]
    if kb != N or vb != N or vs != S:
        raise AssertionError(f"{_OP}: query, key and value must agree on the batch size and key "
                             f"and value on the sequence length; got query "
                             f"{tuple(query.shape)}, key {tuple(key.shape)}, value "
                             f"{tuple(value.shape)} (batch_first={bf})")
    if E != embed_dim_to_check:
        raise AssertionError(f"{_OP}: was expecting embedding dimension of "
                             f"{embed_dim_to_check}, but got {E} (query shape "
                             f"{tuple(query.shape)})")
    H = num_heads
    hd = E // H
    if hd * H != E:
        raise AssertionError(f"{_OP}: embed_dim {E} not divisible by num_heads {H}")
    dtype = query.dtype

    orig_attn_mask = attn_mask
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", orig_attn_mask,
                                       "attn_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None    # the hint: the kernel applies the causal rule itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", dtype, check_other=False)
        is_causal = False   # the mask (merged with the padding mask) is used instead
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(f"{_OP}: The shape of the 2D attn_mask is "
                                   f"{tuple(attn_mask.shape)}, but should be {(L, S)}.")
            attn_mask = attn_mask.reshape(1, 1, L, S)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (N * H, L, S):
                raise RuntimeError(f"{_OP}: The shape of the 3D attn_mask is "
                                   f"{tuple(attn_mask.shape)}, but should be {(N * H, L, S)}.")
            attn_mask = attn_mask.reshape(N, H, L, S)
        else:
            raise RuntimeError(f"{_OP}: attn_mask's dimension {attn_mask.ndim} is not "
                               "supported")

    def heads(x, n):
        """``(n, N, E)`` / ``(N, n, E)`` -> ``(N, H, n, hd)``."""
        if bf:
            return x.reshape(N, n, H, hd).permute(0, 2, 1, 3)
        return x.reshape(n, N, H, hd).permute(1, 2, 0, 3)

    separate = in_proj_weight is None
    if not separate and self_attention and bias_k is None:
        # self-attention: one GEMM for q, k, v
        qkv = F.linear(query, in_proj_weight, in_proj_bias)
        if bf:
            qkv = qkv.reshape(N, L, 3, H, hd).permute(2, 0, 3, 1, 4)
        else:
            qkv = qkv.reshape(L, N, 3, H, hd).permute(2, 1, 3, 0, 4)
        q, k, v = qkv.unbind(0)
    else:
        if separate:
            w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
            if w_q is None or w_k is None or w_v is None:
                raise AssertionError(f"{_OP}: use_separate_proj_weight is True but one of "
                                     "q_proj_weight, k_proj_weight, v_proj_weight is None")
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = F.linear(query, w_q, b_q)
        k = F.linear(key, w_k, b_k)
        v = F.linear(value, w_v, b_v)
        if bias_k is not None or bias_v is not None:
            if bias_k is None or bias_v is None:
                raise AssertionError(f"{_OP}: bias_k and bias_v must be given together")
            seq_dim = 1 if bf else 0
            shape = (N, 1, E) if bf else (1, N, E)
            k = autograd.cat([k, bias_k.reshape(1, 1, E).expand(shape)], seq_dim)
            v = autograd.cat([v, bias_v.reshape(1, 1, E).expand(shape)], seq_dim)
            S += 1
            if attn_mask is not None:
                attn_mask = F.pad(attn_mask, (0, 1))
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, (0, 1))
        q, k, v = heads(q, L), heads(k, S), heads(v, S)
    if add_zero_attn:
        zeros = autograd.zeros(N, H, 1, hd, dtype=dtype)
        k = autograd.cat([k, zeros], 2)
        v = autograd.cat([v, zeros], 2)
        S += 1
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))

    mask = attn_mask
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise AssertionError(f"{_OP}: expected key_padding_mask of shape {(N, S)} "
                                 f"(batch, source length), but got "
                                 f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm

    if not training:
        dropout_p = 0.0
    weights = None
    if need_weights:
        scores = (q * (1.0 / math.sqrt(hd))) @ k.mT               # (N, H, L, S)
        dead = None
        if mask is not None:
            scores = scores + mask
            dead = np.all(np.isneginf(mask._data), axis=-1, keepdims=True)
            dead = dead if dead.any() else None
        if dead is not None:   # fully masked rows: zeros (as the fused kernel), not NaN
            dead = Tensor(np.broadcast_to(dead, scores.shape[:-1] + (1,)))
            weights = F.softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)
        else:
            weights = F.softmax(scores, -1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, dropout_p, True)
        out = weights @ v
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            weights = weights.squeeze(0)
    else:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                             is_causal=bool(is_causal and mask is None))
    if bf:
        out = out.permute(0, 2, 1, 3).reshape(N, L, E)
    else:
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)
    out = F.linear(out, out_proj_weight, out_proj_bias)
    if not is_batched:
        out = out.squeeze(1)
    return out, weights


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention with the given weights
    (``torch.nn.functional.multi_head_attention_forward``; Vaswani et al., 2017). See
    :class:`MultiheadAttention` for the semantics of the masks and outputs.

    Shapes (sequence first, as PyTorch's functional): query ``(L, N, E)``, key ``(S, N, kdim)``,
    value ``(S, N, vdim)`` (or unbatched ``(L, E)``, ``(S, kdim)``, ``(S, vdim)``);
    ``in_proj_weight`` ``(3E, E)`` or, with ``use_separate_proj_weight``, ``q_proj_weight``
    ``(E, E)``, ``k_proj_weight`` ``(E, kdim)``, ``v_proj_weight`` ``(E, vdim)``;
    ``in_proj_bias`` ``(3E,)``; ``bias_k``/``bias_v`` ``(1, 1, E)``; ``out_proj_weight``
    ``(E, E)``. Returns ``(attn_output (L, N, E), attn_output_weights or None)``.

    Differs from PyTorch: ``static_k``/``static_v`` are not supported.

    Raises:
        NotImplementedError: ``static_k`` or ``static_v`` given.
        AssertionError / RuntimeError: inconsistent shapes or mask types (PyTorch's types).
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError(f"{_OP}: static_k / static_v are not supported")
    if use_separate_proj_weight:
        in_proj_weight = None
    elif in_proj_weight is None:
        raise AssertionError(f"{_OP}: use_separate_proj_weight is False but in_proj_weight is "
                             "None")
    return _mha(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                key_padding_mask, need_weights, attn_mask, q_proj_weight, k_proj_weight,
                v_proj_weight, average_attn_weights, is_causal, False, embed_dim_to_check)


class MultiheadAttention(Module):
    r"""Multi-head attention (``torch.nn.MultiheadAttention``; Vaswani et al., 2017,
    https://arxiv.org/abs/1706.03762)::

        MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
        head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(head_dim) + mask) V W_i^V

    Args:
        embed_dim (int): ``E``, the model width; split over the heads.
        num_heads (int): ``H``; ``E`` must be divisible by it (``head_dim = E // H``).
        dropout (float): dropout on the attention weights in training mode (default 0).
        bias (bool): learn ``in_proj_bias`` and ``out_proj.bias`` (default ``True``).
        add_bias_kv (bool): learn ``bias_k``/``bias_v`` ``(1, 1, E)`` appended to the keys and
            values as one more source position.
        add_zero_attn (bool): append a zero key and value (one more source position).
        kdim, vdim (int): feature sizes of key and value (default ``E``).
        batch_first (bool): inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``.
        dtype: parameter dtype (default float32).

    Forward ``(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)``:

    - ``key_padding_mask`` ``(N, S)`` (or ``(S,)`` unbatched): bool, ``True`` = this key is
      padding and is ignored; or float, added to the scores of that key.
    - ``attn_mask`` ``(L, S)`` or ``(N * H, L, S)``: bool, ``True`` = NOT allowed to attend
      (the opposite of :func:`nn.functional.scaled_dot_product_attention`'s bool convention;
      converted here); or float, added to the scores (``-inf`` masks out).
    - ``is_causal``: a hint that ``attn_mask`` is the causal mask (it must be given, as in
      PyTorch); with no padding mask and ``need_weights=False`` the fused kernel applies the
      causal rule itself and the mask is not read.
    - ``need_weights``: also return the attention weights, computed explicitly
      (``softmax(q k^T / sqrt(head_dim) + mask)``, after dropout, as PyTorch); with ``False``
      the heads run in the fused scaled-dot-product-attention kernel and ``None`` is
      returned.
    - ``average_attn_weights``: average the returned weights over the heads.

    Shape:
        query ``(L, N, E)`` / ``(N, L, E)`` (batch_first) / ``(L, E)`` unbatched; key
        ``(S, N, kdim)`` etc.; value ``(S, N, vdim)`` etc. Output ``attn_output`` with the
        query's layout and ``E`` features; ``attn_output_weights`` ``(N, L, S)`` (averaged)
        or ``(N, H, L, S)``, without ``N`` when unbatched.

    Attributes:
        in_proj_weight (Parameter): ``(3E, E)``, Xavier-uniform, when ``kdim == vdim == E``;
            otherwise ``q_proj_weight (E, E)``, ``k_proj_weight (E, kdim)``,
            ``v_proj_weight (E, vdim)``, each Xavier-uniform.
        in_proj_bias (Parameter): ``(3E,)``, zeros (or ``None``).
        out_proj (Linear): ``E -> E``, its bias zeroed (PyTorch's
            ``NonDynamicallyQuantizableLinear``; state-dict keys ``out_proj.weight``,
            ``out_proj.bias``).
        bias_k, bias_v (Parameter): ``(1, 1, E)``, Xavier-normal, with ``add_bias_kv``.

    Differs from PyTorch: a query row whose keys are all masked gets zero weights (and a zero
    attention output before ``out_proj``), as the fused kernel, where PyTorch's explicit
    weights path gives NaN. No fast path (nested tensors) is taken in evaluation mode.

    Raises:
        ValueError: non-positive ``embed_dim`` or ``num_heads``.
        AssertionError: ``embed_dim`` not divisible by ``num_heads`` (and, in forward,
            inconsistent input dims, as PyTorch).
        RuntimeError: (forward) an ``attn_mask`` of the wrong shape, or ``is_causal`` without
            ``attn_mask``.

    Example::

        >>> mha = nn.MultiheadAttention(64, 8, batch_first=True)
        >>> x = autograd.randn(2, 10, 64)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        ((2, 10, 64), (2, 10, 10))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        if device is not None:
            autograd._require_cpu(device, "nn.MultiheadAttention")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(f"MultiheadAttention: embed_dim must be divisible by "
                                 f"num_heads, got embed_dim={embed_dim}, num_heads={num_heads}")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(autograd.empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(autograd.empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(autograd.empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(autograd.empty(3 * embed_dim, embed_dim,
                                                           dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(autograd.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(autograd.empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(autograd.empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal
        ``bias_k``/``bias_v`` (``out_proj.weight`` keeps Linear's default)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        if not self._qkv_same_embed_dim:
            for name, t, d in (("key", key, self.kdim), ("value", value, self.vdim)):
                if isinstance(t, Tensor) and t.shape[-1] != d:
                    raise AssertionError(f"MultiheadAttention: expected {name} with {d} "
                                         f"features, got shape {tuple(t.shape)}")
        return _mha(query, key, value, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                    self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
                    self.out_proj.weight, self.out_proj.bias, self.training, key_padding_mask,
                    need_weights, attn_mask, self.q_proj_weight, self.k_proj_weight,
                    self.v_proj_weight, average_attn_weights, is_causal, self.batch_first,
                    self.embed_dim)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")

"""Plain NumPy references for the ops of ``autograd.ops`` (the op registry, ``tests/opinfo.py``,
compares each op's forward with one of these).

Each function takes NumPy arrays where the op takes Tensors and the op's own other arguments
(PyTorch's names and defaults), and returns an array or a tuple of arrays. They are written for
clarity, from the formulas in PyTorch's documentation, not for speed; an op whose reference is
NumPy's own function (``np.exp``) uses it directly in the registry. The Numba kernels have their
own references next to their tests (``tests/test_kernels.py``, ``tests/test_winograd.py``).
"""

import builtins
import math

import numpy as np
from scipy import special

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _axis(dim, ndim):
    """NumPy's ``axis`` for PyTorch's ``dim`` (None: all; a 0-d array accepts dim 0 / -1)."""
    if dim is None or ndim == 0:
        return None
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


# ---- arithmetic / unary math ----------------------------------------------------------------
def add(a, b, alpha=1):
    return a + alpha * b


def sub(a, b, alpha=1):
    return a - alpha * b


def div(a, b, rounding_mode=None):
    q = a / b
    if rounding_mode == "floor":
        return np.floor(q)
    if rounding_mode == "trunc":
        return np.trunc(q)
    return q


def rsqrt(x):
    return 1.0 / np.sqrt(x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0)


def frac(x):
    return x - np.trunc(x)


def lerp(a, b, w):
    return a + w * (b - a)


def clamp(x, min=None, max=None):
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)  # min > max gives max, as torch.clamp
    return x


def where(cond, a, b):
    return np.where(cond, a, b)


def masked_fill(x, mask, value):
    return np.where(mask, value, x)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def round(x, decimals=0):
    return np.round(x, decimals)


def erf(x):
    return special.erf(x)


# ---- activations (PyTorch's documented formulas) ----------------------------------------------
def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))


def celu(x, alpha=1.0):
    return np.maximum(0, x) + np.minimum(0, alpha * np.expm1(x / alpha))


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + special.erf(x / math.sqrt(2)))


def silu(x):
    return x * sigmoid(x)


def softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def mish(x):
    return x * np.tanh(softplus(x))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def relu6(x):
    return np.clip(x, 0, 6)


def logsigmoid(x):
    return -np.logaddexp(0, -x)


def hardsigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def hardswish(x):
    return x * np.clip(x + 3, 0, 6) / 6


# ---- reductions -------------------------------------------------------------------------------
def _reduce(f):
    def ref(x, dim=None, keepdim=False):
        return f(x, axis=_axis(dim, x.ndim), keepdims=keepdim)
    return ref


sum = _reduce(np.sum)
mean = _reduce(np.mean)


def prod(x, dim=None, keepdim=False):
    """``torch.prod``: over all elements (a 0-d result, ``keepdim`` ignored) when dim is None."""
    return np.prod(x) if dim is None else np.prod(x, axis=_axis(dim, x.ndim), keepdims=keepdim)


amax = _reduce(np.max)
amin = _reduce(np.min)
all = _reduce(np.all)
any = _reduce(np.any)


def _max_min(f, argf, pair):
    def ref(x, dim=None, keepdim=False):
        if isinstance(dim, np.ndarray):       # max(input, other): elementwise
            return pair(x, dim)
        if dim is None:
            return f(x)
        ax = _axis(dim, x.ndim)
        return f(x, axis=ax, keepdims=keepdim), argf(x, axis=ax, keepdims=keepdim)
    return ref


max = _max_min(np.max, np.argmax, np.maximum)
min = _max_min(np.min, np.argmin, np.minimum)


def argmax(x, dim=None, keepdim=False):
    if dim is None:
        return np.asarray(np.argmax(x))
    return np.argmax(x, axis=_axis(dim, x.ndim), keepdims=keepdim)


def argmin(x, dim=None, keepdim=False):
    if dim is None:
        return np.asarray(np.argmin(x))
    return np.argmin(x, axis=_axis(dim, x.ndim), keepdims=keepdim)


def count_nonzero(x, dim=None):
    return np.asarray(np.count_nonzero(x, axis=_axis(dim, x.ndim)))


def var(x, dim=None, correction=1, keepdim=False):
    return np.var(x, axis=_axis(dim, x.ndim), ddof=correction, keepdims=keepdim)


def std(x, dim=None, correction=1, keepdim=False):
    return np.std(x, axis=_axis(dim, x.ndim), ddof=correction, keepdims=keepdim)


def logsumexp(x, dim, keepdim=False):
    return special.logsumexp(x, axis=_axis(dim, x.ndim), keepdims=keepdim)


def cumsum(x, dim):
    return np.cumsum(x, axis=dim).reshape(x.shape) if x.ndim else x.copy()


def cumprod(x, dim):
    return np.cumprod(x, axis=dim).reshape(x.shape) if x.ndim else x.copy()


def norm(x, p="fro", dim=None, keepdim=False):
    """The vector p-norm over ``dim`` (all elements when None); "fro" is p = 2."""
    ax = _axis(dim, x.ndim)
    a = np.abs(x)
    if p == "fro" or p == 2:
        return np.sqrt(np.sum(a * a, axis=ax, keepdims=keepdim))
    if p == float("inf"):
        return np.max(a, axis=ax, keepdims=keepdim)
    if p == float("-inf"):
        return np.min(a, axis=ax, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=ax, keepdims=keepdim).astype(x.dtype)
    return np.sum(a ** p, axis=ax, keepdims=keepdim) ** (1.0 / p)


def softmax(x, dim):
    e = np.exp(x - np.max(x, axis=_axis(dim, x.ndim), keepdims=True))
    return e / np.sum(e, axis=_axis(dim, x.ndim), keepdims=True)


def log_softmax(x, dim):
    return x - special.logsumexp(x, axis=_axis(dim, x.ndim), keepdims=True)


# ---- shape and indexing -----------------------------------------------------------------------
def reshape(x, *shape):
    return np.reshape(x, shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])


def unflatten(x, dim, sizes):
    d = dim % x.ndim
    return x.reshape(x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def squeeze(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = dim if isinstance(dim, tuple) else (dim,)
    if x.ndim == 0:
        return x
    return np.squeeze(x, axis=tuple(d for d in dims if x.shape[d] == 1))


def unsqueeze(x, dim):
    return np.expand_dims(x, dim % (x.ndim + 1))


def permute(x, *dims):
    return np.transpose(x, dims[0] if len(dims) == 1 and isinstance(dims[0], tuple) else dims)


def transpose(x, d0, d1):
    return np.swapaxes(x, d0, d1) if x.ndim else x


def t(x):
    return x.T


def expand(x, *sizes):
    sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], tuple) else sizes
    lead = len(sizes) - x.ndim
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return np.broadcast_to(x, full)


def repeat(x, *reps):
    reps = reps[0] if len(reps) == 1 and isinstance(reps[0], tuple) else reps
    return np.tile(x, reps)


def tile(x, dims):
    return np.tile(x, dims)


def cat(xs, dim=0):
    return np.concatenate(xs, axis=dim)


def stack(xs, dim=0):
    return np.stack(xs, axis=dim)


def split(x, size, dim=0):
    n = x.shape[dim]
    cuts = list(range(size, n, size)) if isinstance(size, int) else list(np.cumsum(size)[:-1])
    return tuple(np.split(x, cuts, axis=dim))


def chunk(x, chunks, dim=0):
    return split(x, -(-x.shape[dim] // chunks), dim)


def unbind(x, dim=0):
    return tuple(np.moveaxis(x, dim, 0))


def narrow(x, dim, start, length):
    return np.take(x, np.arange(start, start + length), axis=dim)


def flip(x, dims):
    return np.flip(x, dims) if x.ndim else x


def movedim(x, src, dst):
    return np.moveaxis(x, src, dst) if x.ndim else x


def roll(x, shifts, dims=None):
    return np.roll(x, shifts, dims)


def gather(x, dim, index):
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` (dim 1), out of ``index``'s shape."""
    out = np.empty(index.shape, x.dtype)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = x[tuple(src)]
    return out


def scatter(x, dim, index, src=None, value=None):
    out = x.copy()
    src = np.broadcast_to(value, index.shape) if src is None else src
    for pos in np.ndindex(*index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        out[tuple(tgt)] = src[pos]
    return out


def scatter_add(x, dim, index, src):
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        out[tuple(tgt)] += src[pos]
    return out


def index_select(x, dim, index):
    return np.take(x, index, axis=dim)


def masked_select(x, mask):
    x, mask = np.broadcast_arrays(x, mask)
    return x[mask]


def take_along_dim(x, indices, dim=None):
    if dim is None:
        return np.take(x.reshape(-1), indices.reshape(-1))
    x, indices = _broadcast_but(x, indices, dim)
    return np.take_along_axis(x, indices, axis=dim)


def _broadcast_but(a, b, dim):
    """``a`` and ``b`` broadcast against each other in every dim but ``dim``."""
    sa, sb = list(a.shape), list(b.shape)
    sa[dim] = sb[dim] = 1
    full = np.broadcast_shapes(tuple(sa), tuple(sb))
    fa, fb = list(full), list(full)
    fa[dim], fb[dim] = a.shape[dim], b.shape[dim]
    return np.broadcast_to(a, fa), np.broadcast_to(b, fb)


def tril(x, diagonal=0):
    return np.tril(x, diagonal)


def triu(x, diagonal=0):
    return np.triu(x, diagonal)


def diag(x, diagonal=0):
    return np.diag(x, diagonal)


def diagonal(x, offset=0, dim1=0, dim2=1):
    return np.diagonal(x, offset, dim1, dim2)


def pad(x, pad, mode="constant", value=None):
    """``F.pad``: ``pad`` lists (left, right) widths from the last dim backwards; negative
    widths crop (constant mode)."""
    nd = x.ndim
    widths = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        widths[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    crop = tuple(slice(-lo if lo < 0 else 0, x.shape[d] + hi if hi < 0 else None)
                 for d, (lo, hi) in enumerate(widths))
    x = x[crop]
    widths = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in widths]
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}[mode]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=0.0 if value is None else value)
    return np.pad(x, widths, mode=np_mode)


def index_add(x, dim, index, source, alpha=1):
    out = np.moveaxis(x.copy(), dim, 0)
    np.add.at(out, index, alpha * np.moveaxis(source, dim, 0))
    return np.moveaxis(out, 0, dim)


def index_copy(x, dim, index, source):
    out = np.moveaxis(x.copy(), dim, 0)
    out[index] = np.moveaxis(source, dim, 0)
    return np.moveaxis(out, 0, dim)


def index_fill(x, dim, index, value):
    out = np.moveaxis(x.copy(), dim, 0)
    out[index] = value
    return np.moveaxis(out, 0, dim)


def index_put(x, indices, values, accumulate=False):
    out = x.copy()
    if accumulate:
        np.add.at(out, tuple(indices), values)
    else:
        out[tuple(indices)] = values
    return out


def take(x, index):
    return x.reshape(-1)[index]


def put(x, index, source, accumulate=False):
    out = x.copy().reshape(-1)
    if accumulate:
        np.add.at(out, index.reshape(-1), source.reshape(-1))
    else:
        out[index.reshape(-1)] = source.reshape(-1)
    return out.reshape(x.shape)


def masked_scatter(x, mask, source):
    x, mask = np.broadcast_arrays(x, mask)
    out = x.copy()
    out[mask] = source.reshape(-1)[:int(mask.sum())]
    return out


def nonzero(x):
    return np.argwhere(x)


def repeat_interleave(x, repeats=None, dim=None):
    return np.repeat(x if dim is not None else x.reshape(-1), repeats, axis=dim)


def getitem(x, index):
    return x[index]


def setitem(x, index, value):
    out = x.copy()
    out[index] = value
    return out


# ---- linalg -------------------------------------------------------------------------------------
def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], list):   # einsum(eq, [a, b])
        operands = operands[0]
    return np.einsum(equation, *operands)


def tensordot(a, b, dims=2):
    return np.tensordot(a, b, dims)


def slogdet(a):
    return np.linalg.slogdet(a)


def logdet(a):
    sign, logabs = np.linalg.slogdet(a)
    return np.where(sign > 0, logabs, np.nan)


# ---- nn ops -------------------------------------------------------------------------------------
def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def nll_loss(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    """``F.nll_loss`` for ``logp`` of shape (N, C, *) and class indices ``target`` (N, *)."""
    C = logp.shape[1]
    w = np.ones(C, logp.dtype) if weight is None else weight
    lp = np.moveaxis(logp, 1, -1)
    valid = target != ignore_index
    t = np.where(valid, target, 0)
    picked = np.take_along_axis(lp, t[..., None], axis=-1)[..., 0]
    wt = np.where(valid, w[t], 0.0)
    loss = -picked * wt
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wt.sum()


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    ax = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mu = x.mean(axis=ax, keepdims=True)
    var = x.var(axis=ax, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    N, C = x.shape[:2]
    g = x.reshape(N, num_groups, -1)
    mu = g.mean(axis=-1, keepdims=True)
    var = g.var(axis=-1, keepdims=True)
    y = ((g - mu) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def embedding(index, weight, padding_idx=None):
    return weight[index]


def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None):
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        s = np.where(np.tril(np.ones((L, S), bool)), s, -np.inf)
    if attn_mask is not None:
        s = np.where(attn_mask, s, -np.inf) if attn_mask.dtype == bool else s + attn_mask
    return softmax(s, -1) @ v


# ---- ops added to main after the registry (elementwise, reductions, shape, sorting) ------------
def addcmul(x, t1, t2, value=1):
    return x + value * t1 * t2


def addcdiv(x, t1, t2, value=1):
    return x + value * t1 / t2


def xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y))


def cross(a, b, dim):
    return np.cross(a, b, axis=dim)


def diff(x, n=1, dim=-1, prepend=None, append=None):
    kw = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
    return np.diff(x, n, axis=dim, **kw)    # n == 0: x itself, prepend/append ignored


def select(x, dim, index):
    return np.take(x, index, axis=dim)


def _sorted_order(x, axis, descending):
    """Stable argsort along ``axis`` (descending: of ``-x``; the registry draws no ties)."""
    return np.argsort(-x if descending else x, axis=axis, kind="stable")


def sort(x, dim=-1, descending=False, stable=False):
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    idx = _sorted_order(x, dim, descending)
    return np.take_along_axis(x, idx, dim), idx


def argsort(x, dim=-1, descending=False, stable=False):
    return sort(x, dim, descending)[1]


def msort(x):
    return sort(x, 0)[0]


def topk(x, k, dim=-1, largest=True, sorted=True):
    idx = np.take(_sorted_order(x, dim, largest), np.arange(k), axis=dim)
    return np.take_along_axis(x, idx, dim), idx


def _kth(x, k, dim, keepdim):
    """The 0-based ``k``-th smallest along ``dim`` and its index."""
    idx = np.take(_sorted_order(x, dim, False), [k], axis=dim)
    v = np.take_along_axis(x, idx, dim)
    return (v, idx) if keepdim else (np.squeeze(v, dim), np.squeeze(idx, dim))


def kthvalue(x, k, dim=-1, keepdim=False):
    return _kth(x, k - 1, dim, keepdim)


def median(x, dim=None, keepdim=False):
    """The lower median (no NaN: the registry's median samples hold none)."""
    if dim is None:
        flat = np.sort(x.reshape(-1))
        return flat[(flat.size - 1) // 2]
    return _kth(x, (x.shape[dim] - 1) // 2, dim, keepdim)


def nanmedian(x, dim=None, keepdim=False):
    """The lower median of the non-NaN values; NaN (index 0) for an all-NaN slice."""
    if dim is None:
        v = np.sort(x[~np.isnan(x)])
        return v[(v.size - 1) // 2] if v.size else np.array(np.nan)
    moved = np.moveaxis(x, dim, -1)
    vals = np.full(moved.shape[:-1], np.nan)
    idx = np.zeros(moved.shape[:-1], np.int64)
    for pos in np.ndindex(moved.shape[:-1]):
        row = moved[pos]
        ok = np.flatnonzero(~np.isnan(row))
        if ok.size:
            j = ok[np.argsort(row[ok], kind="stable")[(ok.size - 1) // 2]]
            vals[pos], idx[pos] = row[j], j
    if keepdim:
        vals, idx = np.expand_dims(vals, dim), np.expand_dims(idx, dim)
    return vals, idx


def nansum(x, dim=None, keepdim=False):
    return np.nansum(x, axis=_axis(dim, x.ndim), keepdims=keepdim)


def nanmean(x, dim=None, keepdim=False):
    with np.errstate(invalid="ignore", divide="ignore"):
        ax = _axis(dim, x.ndim)
        n = (~np.isnan(x)).sum(axis=ax, keepdims=keepdim)
        return np.nansum(x, axis=ax, keepdims=keepdim) / n


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        vals, inv, cnt = np.unique(x.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(x.shape)
    else:
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True, axis=dim)
        inv = inv.reshape(-1)
    extra = ([inv] if return_inverse else []) + ([cnt] if return_counts else [])
    return (vals, *extra) if extra else vals


def unique_consecutive(x, return_inverse=False, return_counts=False, dim=None):
    """Runs of equal elements (``dim=None``, flattened) or equal slices along ``dim``."""
    a = x.reshape(-1) if dim is None else np.moveaxis(x, dim, 0)
    keep, inv, cnt = [], [], []
    for i in builtins.range(a.shape[0]):
        if not keep or not np.array_equal(a[i], a[keep[-1]]):
            keep.append(i)
            cnt.append(0)
        cnt[-1] += 1
        inv.append(len(keep) - 1)
    vals = a[keep] if dim is None else np.moveaxis(a[keep], 0, dim)
    inv = np.array(inv, np.int64).reshape(x.shape if dim is None else -1)
    extra = ([inv] if return_inverse else []) + ([np.array(cnt, np.int64)]
                                                 if return_counts else [])
    return (vals, *extra) if extra else vals


def svd(x, some=True, compute_uv=True):
    """``torch.svd``'s ``(U, S, V)`` (V, not Vh) from NumPy's factors; with
    ``compute_uv=False``, zero ``U`` (*, m, m) and ``V`` (*, n, n) as PyTorch."""
    if not compute_uv:
        m, n = x.shape[-2:]
        S = np.linalg.svd(x, compute_uv=False)
        return np.zeros(x.shape[:-2] + (m, m)), S, np.zeros(x.shape[:-2] + (n, n))
    U, S, Vh = np.linalg.svd(x, full_matrices=not some)
    return U, S, np.swapaxes(Vh, -1, -2)

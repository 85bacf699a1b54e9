"""The op library, one module per family (DESIGN.md):

- :mod:`.arithmetic` — add/sub/mul/div (and their tensor-and-number nodes), remainder/fmod,
  pow, atan2, logaddexp, hypot, xlogy, addcmul/addcdiv, lerp;
- :mod:`.unary` — exp/log family, sqrt, abs, trigonometric and hyperbolic functions, erf,
  rounding, nan_to_num, casts and copies (most of them one table entry each);
- :mod:`.activations` — relu, sigmoid, tanh and the ``nn.functional`` activations;
- :mod:`.comparison` — comparisons, logical and bitwise ops, isclose, and the selections
  where/masked_fill/clamp/maximum/minimum;
  (:mod:`._pointwise` holds what these four share: dtype promotion, broadcasting errors, the
  one-input op builders);
- :mod:`.reduction` — sum, mean, prod, max/min, var/std, logsumexp, cumsum/cumprod, norms,
  all/any;
- :mod:`.shape` — reshape, permute, expand, indexing, cat/stack/split, roll, gather/scatter,
  index_select, masked_select, tril/triu, diag/diagonal, pad;
- :mod:`.linalg` — matmul and friends, einsum, tensordot, inverse/det/slogdet/solve (public
  under ``torch.linalg``'s names in :mod:`autograd.linalg`);
- :mod:`.conv` — conv1d, conv2d, conv_transpose2d;
- :mod:`.pool` — max/avg pooling 1-D and 2-D, adaptive avg/max pooling 2-D;
- :mod:`.layers` — softmax/log_softmax, linear, dropout, nll_loss;
- :mod:`.sorting` — sort, argsort, topk, kthvalue, median, unique;
- :mod:`.fused` — scaled_dot_product_attention, cross-entropy with class indices, layer_norm,
  group_norm, embedding (Numba kernels, one node each).

The common ops (arithmetic, unary math, comparisons, ``clamp``/``where``, reductions such as
``sum``/``mean``/``prod``/``cumsum``, ``matmul``/``mm``/``bmm``, ``cat``/``stack``, ``gather``,
``tril``/``triu`` ...) take PyTorch's keyword ``out=`` (:mod:`._out`: written into, resized
if needed, returned; no autograd through it).

Importing this package also installs the ops as ``Tensor`` methods (``x.sum()``,
``x.reshape(...)``), in one table below.
"""

from .arithmetic import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .fused import *  # noqa: F401,F403  (attention, fused losses/norms, embedding)
from .sorting import *  # noqa: F401,F403
from . import (activations, arithmetic, comparison, conv, layers, linalg, pool, reduction,  # noqa: E402
               shape, sorting, unary)

# What ``from autograd.ops import *`` (and so ``autograd``) exports: the ops of every family
# star-imported above (a new family module must be added here too), not the submodules
# themselves (``autograd.linalg`` is the public module autograd/linalg.py, not .ops.linalg).
from . import fused as _fused  # noqa: E402
__all__ = [*arithmetic.__all__, *unary.__all__, *activations.__all__, *comparison.__all__,
           *reduction.__all__, *shape.__all__, *linalg.__all__, *conv.__all__, *pool.__all__,
           *layers.__all__,
           *_fused.__all__, *sorting.__all__]
from ..tensor import _register_methods


def _tensor_where(self, condition, other):
    """``x.where(condition, y)``: ``autograd.where(condition, x, y)`` (``torch.Tensor.where``)."""
    return comparison.where(condition, self, other)


# ``Tensor`` methods: the op of the same name in this namespace ...
_METHODS = """
    add sub subtract mul multiply div divide true_divide neg negative pow exp expm1 log log2
    log10 log1p sqrt rsqrt square reciprocal abs sin cos tanh sigmoid relu clamp clip
    masked_fill maximum minimum sign floor ceil round trunc eq ne lt le gt ge logical_not
    logical_and logical_or logical_xor isnan isinf isfinite erf tan asin arcsin acos arccos
    atan arctan atan2 arctan2 sinh cosh frac lerp nan_to_num remainder fmod bitwise_and
    bitwise_or bitwise_xor bitwise_not isclose allclose equal addcmul addcdiv logaddexp hypot
    xlogy deg2rad rad2deg positive
    sum mean max min amax amin argmax argmin var std logsumexp all any count_nonzero prod
    cumsum cumprod norm nansum nanmean trace
    reshape view view_as flatten unflatten squeeze unsqueeze transpose permute t expand
    expand_as broadcast_to repeat tile split chunk unbind narrow flip movedim roll gather
    scatter scatter_add index_select masked_select take_along_dim tril triu diag diagonal diff
    fliplr flipud select ravel
    matmul mm bmm mv dot outer det inverse slogdet logdet cross svd
    softmax log_softmax
    sort argsort msort topk kthvalue median nanmedian unique unique_consecutive
""".split()
# ... or under another name (PyTorch's aliases that the namespace does not define)
_METHOD_ALIASES = {
    "where": _tensor_where, "absolute": unary.abs, "greater": comparison.gt,
    "greater_equal": comparison.ge, "less": comparison.lt, "less_equal": comparison.le,
    "not_equal": comparison.ne, "swapaxes": shape.transpose, "swapdims": shape.transpose,
    "moveaxis": shape.movedim,
}


def _op(name):
    """The function behind method ``name``."""
    return _METHOD_ALIASES.get(name) or globals()[name]


_register_methods({n: _op(n) for n in [*_METHODS, *_METHOD_ALIASES]})


# In-place variants ``x.sin_()`` (and ``autograd.sin_(x)``, which PyTorch also has): the
# out-of-place op written back into ``x`` through ``Tensor._inplace`` (version bump, autograd
# history rebased as for ``add_``).
def _make_inplace(name, fn):
    def method(self, *args, **kwargs):
        if kwargs:
            return self._inplace(name + "_", lambda t, *a: fn(t, *a, **kwargs), *args)
        return self._inplace(name + "_", fn, *args)
    method.__name__ = name + "_"
    method.__qualname__ = "Tensor." + name + "_"
    method.__doc__ = (f"In place :func:`autograd.{name}` (``torch.Tensor.{name}_``): writes the "
                      f"result into this tensor and returns it.\n\n        Raises:\n"
                      f"            RuntimeError: for a leaf that requires grad (under grad "
                      f"mode), or a result that does not fit this tensor's shape.")
    return method


_INPLACE = """
    abs absolute sin cos tan sinh cosh asin acos atan arcsin arccos arctan atan2 arctan2 log
    log2 log10 log1p expm1 sqrt rsqrt square reciprocal sign floor ceil round trunc frac erf
    negative remainder fmod lerp nan_to_num addcmul addcdiv bitwise_and bitwise_or
    bitwise_xor bitwise_not logical_and logical_or logical_xor logical_not eq ne lt le gt ge
    multiply divide true_divide subtract tril triu cumsum cumprod maximum minimum hypot xlogy
    deg2rad rad2deg
""".split()
_inplace_methods = {n + "_": _make_inplace(n, _op(n)) for n in _INPLACE}
_register_methods({k: v for k, v in _inplace_methods.items()
                   if k not in ("maximum_", "minimum_")})  # PyTorch has no such methods


def _clamp_min(input, min):
    """``clamp(input, min=min)`` (``torch.clamp_min``)."""
    return comparison.clamp(input, min=min)


def _clamp_max(input, max):
    """``clamp(input, max=max)`` (``torch.clamp_max``)."""
    return comparison.clamp(input, max=max)


_register_methods({"clamp_min": _clamp_min, "clamp_max": _clamp_max,
                   "clamp_min_": _make_inplace("clamp_min", _clamp_min),
                   "clamp_max_": _make_inplace("clamp_max", _clamp_max)})


def _module_inplace(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = f"``torch.{name}(input, ...)``: the in-place ``input.{name}(...)``."
    return fn


# the in-place functions PyTorch's namespace has (``torch.sin_(x)``)
_MODULE_INPLACE = ["abs_", "acos_", "arccos_", "arcsin_", "arctan_", "asin_", "atan_", "ceil_",
                   "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "erf_",
                   "exp_", "expm1_", "floor_", "frac_", "log10_", "log1p_", "log2_", "log_",
                   "nan_to_num_", "neg_", "negative_", "reciprocal_", "relu_", "round_",
                   "rsqrt_", "sigmoid_", "sin_", "sinh_", "sqrt_", "square_", "tan_", "tanh_",
                   "trunc_", "fill_", "zero_", "detach_", "deg2rad_", "rad2deg_", "xlogy_"]
for _n in _MODULE_INPLACE:
    globals()[_n] = _module_inplace(_n)
__all__ += _MODULE_INPLACE

"""The op library, one module per family (DESIGN.md):

- :mod:`.elementwise` — arithmetic, unary math, activations, comparisons;
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

from .elementwise import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .fused import *  # noqa: F401,F403  (attention, fused losses/norms, embedding)
from .sorting import *  # noqa: F401,F403
from . import conv, elementwise, layers, linalg, pool, reduction, shape, sorting

# What ``from autograd.ops import *`` (and so ``autograd``) exports: the ops of every family
# star-imported above (a new family module must be added here too), not the submodules
# themselves (``autograd.linalg`` is the public module autograd/linalg.py, not .ops.linalg).
from . import fused as _fused  # noqa: E402
__all__ = [*elementwise.__all__, *reduction.__all__, *shape.__all__, *linalg.__all__,
           *conv.__all__, *pool.__all__, *layers.__all__, *_fused.__all__, *sorting.__all__]
from ..tensor import _register_methods

def _tensor_where(self, condition, other):
    """``x.where(condition, y)``: ``autograd.where(condition, x, y)`` (``torch.Tensor.where``)."""
    return elementwise.where(condition, self, other)


_register_methods({
    # elementwise
    "add": elementwise.add, "sub": elementwise.sub, "subtract": elementwise.sub,
    "mul": elementwise.mul, "multiply": elementwise.mul, "div": elementwise.div,
    "divide": elementwise.div, "true_divide": elementwise.div, "neg": elementwise.neg,
    "negative": elementwise.neg, "pow": elementwise.pow, "exp": elementwise.exp,
    "expm1": elementwise.expm1, "log": elementwise.log, "log2": elementwise.log2,
    "log10": elementwise.log10, "log1p": elementwise.log1p, "sqrt": elementwise.sqrt,
    "rsqrt": elementwise.rsqrt, "square": elementwise.square,
    "reciprocal": elementwise.reciprocal, "abs": elementwise.abs, "sin": elementwise.sin,
    "cos": elementwise.cos, "tanh": elementwise.tanh, "sigmoid": elementwise.sigmoid,
    "relu": elementwise.relu, "clamp": elementwise.clamp, "clip": elementwise.clamp,
    "where": _tensor_where,
    "masked_fill": elementwise.masked_fill, "maximum": elementwise.maximum,
    "minimum": elementwise.minimum, "sign": elementwise.sign, "floor": elementwise.floor,
    "ceil": elementwise.ceil, "round": elementwise.round, "trunc": elementwise.trunc,
    "eq": elementwise.eq, "ne": elementwise.ne, "lt": elementwise.lt, "le": elementwise.le,
    "gt": elementwise.gt, "ge": elementwise.ge, "logical_not": elementwise.logical_not,
    "logical_and": elementwise.logical_and, "logical_or": elementwise.logical_or,
    "logical_xor": elementwise.logical_xor, "isnan": elementwise.isnan,
    "isinf": elementwise.isinf, "isfinite": elementwise.isfinite,
    "erf": elementwise.erf, "tan": elementwise.tan, "asin": elementwise.asin,
    "arcsin": elementwise.asin, "acos": elementwise.acos, "arccos": elementwise.acos,
    "atan": elementwise.atan, "arctan": elementwise.atan, "atan2": elementwise.atan2,
    "arctan2": elementwise.atan2, "sinh": elementwise.sinh, "cosh": elementwise.cosh,
    "frac": elementwise.frac, "lerp": elementwise.lerp, "nan_to_num": elementwise.nan_to_num,
    # reductions
    "sum": reduction.sum, "mean": reduction.mean, "max": reduction.max, "min": reduction.min,
    "amax": reduction.amax, "amin": reduction.amin, "argmax": reduction.argmax,
    "argmin": reduction.argmin, "var": reduction.var, "std": reduction.std,
    "logsumexp": reduction.logsumexp, "all": reduction.all, "any": reduction.any,
    "count_nonzero": reduction.count_nonzero, "prod": reduction.prod,
    "cumsum": reduction.cumsum, "cumprod": reduction.cumprod, "norm": reduction.norm,
    # shape
    "reshape": shape.reshape, "view": shape.view, "view_as": shape.view_as,
    "flatten": shape.flatten, "unflatten": shape.unflatten, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "transpose": shape.transpose, "swapaxes": shape.transpose,
    "permute": shape.permute, "t": shape.t, "expand": shape.expand,
    "expand_as": shape.expand_as, "broadcast_to": shape.broadcast_to,
    "repeat": shape.repeat, "tile": shape.tile, "split": shape.split, "chunk": shape.chunk,
    "unbind": shape.unbind, "narrow": shape.narrow, "flip": shape.flip,
    "movedim": shape.movedim, "roll": shape.roll, "gather": shape.gather,
    "scatter": shape.scatter, "scatter_add": shape.scatter_add,
    "index_select": shape.index_select, "masked_select": shape.masked_select,
    "take_along_dim": shape.take_along_dim, "tril": shape.tril, "triu": shape.triu,
    "diag": shape.diag, "diagonal": shape.diagonal,
    # linalg
    "matmul": linalg.matmul, "mm": linalg.mm, "bmm": linalg.bmm, "mv": linalg.mv,
    "dot": linalg.dot, "outer": linalg.outer, "det": linalg.det, "inverse": linalg.inverse,
    "slogdet": linalg.slogdet, "logdet": linalg.logdet,
    # nn
    "softmax": layers.softmax, "log_softmax": layers.log_softmax,
    # more elementwise, sorting and selection, cross
    "remainder": elementwise.remainder, "fmod": elementwise.fmod,
    "bitwise_and": elementwise.bitwise_and, "bitwise_or": elementwise.bitwise_or,
    "bitwise_xor": elementwise.bitwise_xor, "bitwise_not": elementwise.bitwise_not,
    "isclose": elementwise.isclose, "allclose": elementwise.allclose,
    "equal": elementwise.equal, "addcmul": elementwise.addcmul, "addcdiv": elementwise.addcdiv,
    "sort": sorting.sort, "argsort": sorting.argsort, "msort": sorting.msort,
    "topk": sorting.topk, "kthvalue": sorting.kthvalue, "median": sorting.median,
    "nanmedian": sorting.nanmedian, "unique": sorting.unique,
    "unique_consecutive": sorting.unique_consecutive, "cross": linalg.cross,
    "svd": linalg.svd,
    "absolute": elementwise.abs, "greater": elementwise.gt, "greater_equal": elementwise.ge,
    "less": elementwise.lt, "less_equal": elementwise.le, "not_equal": elementwise.ne,
    "logaddexp": elementwise.logaddexp, "hypot": elementwise.hypot, "xlogy": elementwise.xlogy,
    "deg2rad": elementwise.deg2rad, "rad2deg": elementwise.rad2deg,
    "positive": elementwise.positive, "nansum": reduction.nansum,
    "nanmean": reduction.nanmean, "trace": reduction.trace, "diff": shape.diff,
    "fliplr": shape.fliplr, "flipud": shape.flipud, "select": shape.select,
    "ravel": shape.ravel, "moveaxis": shape.movedim, "swapdims": shape.transpose,
})


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


_INPLACE = {
    "abs": elementwise.abs, "absolute": elementwise.abs, "sin": elementwise.sin,
    "cos": elementwise.cos, "tan": elementwise.tan, "sinh": elementwise.sinh,
    "cosh": elementwise.cosh, "asin": elementwise.asin, "acos": elementwise.acos,
    "atan": elementwise.atan, "arcsin": elementwise.asin, "arccos": elementwise.acos,
    "arctan": elementwise.atan, "atan2": elementwise.atan2, "arctan2": elementwise.atan2,
    "log": elementwise.log, "log2": elementwise.log2, "log10": elementwise.log10,
    "log1p": elementwise.log1p, "expm1": elementwise.expm1, "sqrt": elementwise.sqrt,
    "rsqrt": elementwise.rsqrt, "square": elementwise.square,
    "reciprocal": elementwise.reciprocal, "sign": elementwise.sign,
    "floor": elementwise.floor, "ceil": elementwise.ceil, "round": elementwise.round,
    "trunc": elementwise.trunc, "frac": elementwise.frac, "erf": elementwise.erf,
    "negative": elementwise.neg, "remainder": elementwise.remainder,
    "fmod": elementwise.fmod, "lerp": elementwise.lerp, "nan_to_num": elementwise.nan_to_num,
    "addcmul": elementwise.addcmul, "addcdiv": elementwise.addcdiv,
    "bitwise_and": elementwise.bitwise_and, "bitwise_or": elementwise.bitwise_or,
    "bitwise_xor": elementwise.bitwise_xor, "bitwise_not": elementwise.bitwise_not,
    "logical_and": elementwise.logical_and, "logical_or": elementwise.logical_or,
    "logical_xor": elementwise.logical_xor, "logical_not": elementwise.logical_not,
    "eq": elementwise.eq, "ne": elementwise.ne, "lt": elementwise.lt, "le": elementwise.le,
    "gt": elementwise.gt, "ge": elementwise.ge, "multiply": elementwise.mul,
    "divide": elementwise.div, "true_divide": elementwise.div, "subtract": elementwise.sub,
    "tril": shape.tril, "triu": shape.triu, "cumsum": reduction.cumsum,
    "cumprod": reduction.cumprod, "maximum": elementwise.maximum,
    "minimum": elementwise.minimum, "hypot": elementwise.hypot, "xlogy": elementwise.xlogy,
    "deg2rad": elementwise.deg2rad, "rad2deg": elementwise.rad2deg,
}
_inplace_methods = {n + "_": _make_inplace(n, f) for n, f in _INPLACE.items()}
_register_methods({k: v for k, v in _inplace_methods.items()
                   if k not in ("maximum_", "minimum_")})  # PyTorch has no such methods


def _clamp_min(input, min):
    """``clamp(input, min=min)`` (``torch.clamp_min``)."""
    return elementwise.clamp(input, min=min)


def _clamp_max(input, max):
    """``clamp(input, max=max)`` (``torch.clamp_max``)."""
    return elementwise.clamp(input, max=max)


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

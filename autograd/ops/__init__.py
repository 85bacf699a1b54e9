"""The op library, one module per family (DESIGN.md):

- :mod:`.elementwise` — arithmetic, unary math, activations, comparisons;
- :mod:`.reduction` — sum, mean, prod, max/min, var/std, logsumexp, cumsum/cumprod, norms,
  all/any;
- :mod:`.shape` — reshape, permute, expand, indexing, cat/stack/split, roll, gather/scatter,
  index_select, masked_select, tril/triu, diag/diagonal, pad;
- :mod:`.linalg` — matmul and friends, einsum, tensordot, inverse/det/slogdet/solve (public
  under ``torch.linalg``'s names in :mod:`autograd.linalg`);
- :mod:`.nn_ops` — softmax, linear, conv2d, max_pool2d, dropout, nll_loss;
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
from .nn_ops import *  # noqa: F401,F403
from .fused import *  # noqa: F401,F403  (attention, fused losses/norms, embedding)
from . import elementwise, linalg, nn_ops, reduction, shape

# What ``from autograd.ops import *`` (and so ``autograd``) exports: the ops of every family
# star-imported above (a new family module must be added here too), not the submodules
# themselves (``autograd.linalg`` is the public module autograd/linalg.py, not .ops.linalg).
from . import fused as _fused  # noqa: E402
__all__ = [*elementwise.__all__, *reduction.__all__, *shape.__all__, *linalg.__all__,
           *nn_ops.__all__, *_fused.__all__]
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
    "softmax": nn_ops.softmax, "log_softmax": nn_ops.log_softmax,
})

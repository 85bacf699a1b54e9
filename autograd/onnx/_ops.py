"""The mapping of the library's ops to ONNX operators: one converter per op class.

A converter receives a :class:`~autograd.onnx._graph.Context` for one recorded call and adds
the ONNX nodes that compute ``ctx.output`` from the call's arguments (``ctx.arg(i)`` is the
ONNX value of argument ``i``; numbers and constant arrays become initializers). The argument
layout of each op is its ``forward`` signature in :mod:`autograd.ops` (e.g.
``Conv2d(x, w, b, stride, padding, dilation)``). Formulas that have no ONNX operator of their
own in the opset are composed of ONNX operators, following the formula in the op's docstring
(PyTorch's): GELU, Mish, softplus with ``beta``/``threshold``, the ELU family, adaptive
pooling with uneven windows.

A converter marked ``dynamic_ok`` handles arguments that change with the dynamic axes itself
(reshape targets, expand shapes, slice bounds); for every other op such a change is an error.
"""

import math

import numpy as np

from ._graph import INT64_MAX

CONVERTERS = {}


def converter(*names, dynamic_ok=False):
    def register(fn):
        fn.dynamic_ok = dynamic_ok
        for n in names:
            CONVERTERS[n] = fn
        return fn
    return register


def _onnx_dtype(ctx, dtype):
    return ctx.g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _reduce(ctx, op, x, axes, keepdims, out):
    """A Reduce* node; axes is an input from opset 18 on (13 for ReduceSum)."""
    axes = list(axes) if axes is not None else None
    if op == "ReduceSum" or ctx.g.opset >= 18:
        inputs = [x] + ([ctx.ints(axes, "axes")] if axes is not None else [])
        return ctx.node(op, inputs, out, keepdims=int(keepdims))
    return ctx.node(op, [x], out, axes=axes, keepdims=int(keepdims))


def _unsqueeze(ctx, x, axes, out=None):
    return ctx.node("Unsqueeze", [x, ctx.ints(axes, "axes")], out)[0]


def _squeeze(ctx, x, axes, out=None):
    return ctx.node("Squeeze", [x, ctx.ints(axes, "axes")], out)[0]


# ======================================================================================
# elementwise
# ======================================================================================

_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
           "Maximum": "Max", "Minimum": "Min", "AddScalar": "Add", "SubScalar": "Sub",
           "MulScalar": "Mul", "DivScalar": "Div"}


@converter(*_BINARY)
def _binary(ctx):
    a, b = ctx.args[:2]
    dt = ctx.dtype
    if ctx.op == "Pow":
        # the exponent keeps its own dtype where it is a tensor; numbers follow the base
        ctx.node("Pow", [ctx.arg(0, dt), ctx.arg(1, dt)], [ctx.output])
        return
    ctx.node(_BINARY[ctx.op], [ctx.arg(0, dt), ctx.arg(1, dt)], [ctx.output])


_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Sin": "Sin",
          "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
          "Sinh": "Sinh", "Cosh": "Cosh", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu",
          "Erf": "Erf", "Hardswish": "HardSwish", "Clone": "Identity"}


@converter(*_UNARY)
def _unary(ctx):
    ctx.node(_UNARY[ctx.op], [ctx.arg(0)], [ctx.output])


@converter("Expm1")
def _expm1(ctx):
    e = ctx.node("Exp", [ctx.arg(0)])[0]
    ctx.node("Sub", [e, ctx.scalar(1)], [ctx.output])


@converter("Log1p")
def _log1p(ctx):
    s = ctx.node("Add", [ctx.arg(0), ctx.scalar(1)])[0]
    ctx.node("Log", [s], [ctx.output])


@converter("Hardsigmoid")
def _hardsigmoid(ctx):
    # PyTorch: relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)
    ctx.node("HardSigmoid", [ctx.arg(0)], [ctx.output], alpha=1.0 / 6.0, beta=0.5)


@converter("LeakyRelu")
def _leaky_relu(ctx):
    ctx.node("LeakyRelu", [ctx.arg(0)], [ctx.output], alpha=float(ctx.args[1]))


def _clip(ctx, x, lo, hi, out):
    """clip with number bounds (Clip) or tensor bounds (Max/Min)."""
    from ..tensor import Tensor
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        cur = x
        if lo is not None:
            cur = ctx.node("Max", [cur, ctx.g.value(lo, ctx.rec, 1, ctx.dtype)])[0]
        if hi is not None:
            cur = ctx.node("Min", [cur, ctx.g.value(hi, ctx.rec, 2, ctx.dtype)])[0]
        ctx.node("Identity", [cur], out)
        return
    ctx.node("Clip", [x, ctx.scalar(lo) if lo is not None else "",
                      ctx.scalar(hi) if hi is not None else ""], out)


@converter("Clamp", "Hardtanh")
def _clamp(ctx):
    _clip(ctx, ctx.arg(0), ctx.args[1], ctx.args[2], [ctx.output])


@converter("Elu")
def _elu(ctx):
    x = ctx.arg(0)
    alpha, scale, input_scale = (float(v) for v in ctx.args[1:4])
    if scale == 1.0 and input_scale == 1.0:
        ctx.node("Elu", [x], [ctx.output], alpha=alpha)
    elif input_scale == 1.0 and abs(alpha - 1.6732632423543772) < 1e-9 \
            and abs(scale - 1.0507009873554805) < 1e-9:
        ctx.node("Selu", [x], [ctx.output], alpha=alpha, gamma=scale)
    elif scale == 1.0 and abs(input_scale * alpha - 1.0) < 1e-12:
        ctx.node("Celu", [x], [ctx.output], alpha=alpha)
    else:  # scale * (x > 0 ? x : alpha * (exp(input_scale * x) - 1))
        zero = ctx.scalar(0)
        neg = ctx.node("Min", [x, zero])[0]
        e = ctx.node("Exp", [ctx.node("Mul", [neg, ctx.scalar(input_scale)])[0]])[0]
        em1 = ctx.node("Sub", [e, ctx.scalar(1)])[0]
        negpart = ctx.node("Mul", [em1, ctx.scalar(scale * alpha)])[0]
        pospart = ctx.node("Mul", [x, ctx.scalar(scale)])[0]
        cond = ctx.node("Greater", [x, zero])[0]
        ctx.node("Where", [cond, pospart, negpart], [ctx.output])


@converter("Gelu")
def _gelu(ctx):
    x = ctx.arg(0)
    approximate = ctx.args[1]
    if ctx.g.opset >= 20:
        ctx.node("Gelu", [x], [ctx.output], approximate=str(approximate))
        return
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = ctx.node("Mul", [ctx.node("Mul", [x, x])[0], x])[0]
        inner = ctx.node("Add", [x, ctx.node("Mul", [x3, ctx.scalar(0.044715)])[0]])[0]
        t = ctx.node("Tanh", [ctx.node("Mul", [inner, ctx.scalar(math.sqrt(2 / math.pi))])[0]])[0]
    else:                      # 0.5 x (1 + erf(x / sqrt 2))
        t = ctx.node("Erf", [ctx.node("Mul", [x, ctx.scalar(1 / math.sqrt(2))])[0]])[0]
    half = ctx.node("Mul", [x, ctx.scalar(0.5)])[0]
    ctx.node("Mul", [half, ctx.node("Add", [t, ctx.scalar(1)])[0]], [ctx.output])


@converter("Silu")
def _silu(ctx):
    x = ctx.arg(0)
    ctx.node("Mul", [x, ctx.node("Sigmoid", [x])[0]], [ctx.output])


@converter("Mish")
def _mish(ctx):
    x = ctx.arg(0)
    sp = ctx.node("Softplus", [x])[0]
    ctx.node("Mul", [x, ctx.node("Tanh", [sp])[0]], [ctx.output])


@converter("Softplus")
def _softplus(ctx):
    x = ctx.arg(0)
    beta, threshold = float(ctx.args[1]), float(ctx.args[2])
    # x where beta x > threshold, else log(1 + exp(beta x)) / beta
    z = x if beta == 1.0 else ctx.node("Mul", [x, ctx.scalar(beta)])[0]
    sp = ctx.node("Softplus", [z])[0]
    if beta != 1.0:
        sp = ctx.node("Div", [sp, ctx.scalar(beta)])[0]
    cond = ctx.node("Greater", [z, ctx.scalar(threshold)])[0]
    ctx.node("Where", [cond, x, sp], [ctx.output])


@converter("LogSigmoid")
def _logsigmoid(ctx):
    n = ctx.node("Neg", [ctx.arg(0)])[0]
    ctx.node("Neg", [ctx.node("Softplus", [n])[0]], [ctx.output])


@converter("Where")
def _where(ctx):
    cond = ctx.arg(0, np.bool_)
    ctx.node("Where", [cond, ctx.arg(1, ctx.dtype), ctx.arg(2, ctx.dtype)], [ctx.output])


@converter("Cast")
def _cast(ctx):
    ctx.node("Cast", [ctx.arg(0)], [ctx.output], to=_onnx_dtype(ctx, ctx.args[1]))


_COMPARE = {np.equal: "Equal", np.less: "Less", np.less_equal: "LessOrEqual",
            np.greater: "Greater", np.greater_equal: "GreaterOrEqual", np.logical_and: "And",
            np.logical_or: "Or", np.logical_xor: "Xor"}


@converter("Compare")
def _compare(ctx):
    ufunc = ctx.attrs["ufunc"]
    a, b = ctx.args
    from ..tensor import Tensor
    # operands in the tensor operand's dtype (a number compares in it, as NumPy's weak scalars)
    like = next((x._data.dtype for x in (a, b) if isinstance(x, Tensor)), None)
    if ufunc is np.not_equal:
        eq = ctx.node("Equal", [ctx.arg(0, like), ctx.arg(1, like)])[0]
        ctx.node("Not", [eq], [ctx.output])
        return
    if ufunc in (np.power, np.remainder, np.fmod):   # integer pow / remainder / fmod
        # ONNX Mod: fmod=0 takes the divisor's sign (Python's %, torch.remainder), fmod=1 the
        # dividend's (C's fmod, torch.fmod)
        kind = ("Pow", {}) if ufunc is np.power else ("Mod", {"fmod": int(ufunc is np.fmod)})
        ctx.node(kind[0], [ctx.arg(0, like), ctx.arg(1, like)], [ctx.output], **kind[1])
        return
    op = _COMPARE.get(ufunc)
    if op is None:
        raise ctx.unsupported(f"the comparison {getattr(ufunc, '__name__', ufunc)} has no "
                              "ONNX mapping")
    if op in ("And", "Or", "Xor"):
        like = np.bool_
    ctx.node(op, [ctx.arg(0, like), ctx.arg(1, like)], [ctx.output])


@converter("Predicate")
def _predicate(ctx):
    fn = ctx.attrs["fn"]
    x = ctx.arg(0)
    if fn == "isnan":
        ctx.node("IsNaN", [x], [ctx.output])
    elif fn == "isinf":
        ctx.node("IsInf", [x], [ctx.output])
    elif fn == "logical_not":
        if ctx.args[0]._data.dtype != np.bool_:
            x = ctx.node("Cast", [x], to=_onnx_dtype(ctx, np.bool_))[0]
        ctx.node("Not", [x], [ctx.output])
    else:  # isfinite: not (nan or inf)
        bad = ctx.node("Or", [ctx.node("IsNaN", [x])[0], ctx.node("IsInf", [x])[0]])[0]
        ctx.node("Not", [bad], [ctx.output])


@converter("_ZeroGrad")
def _piecewise(ctx):
    from ..ops.unary import _sign
    fn = ctx.args[1]
    x = ctx.arg(0)
    simple = {np.floor: "Floor", np.ceil: "Ceil", np.sign: "Sign", np.round: "Round",
              np.rint: "Round", np.around: "Round"}
    decimals = _round_decimals(fn)
    if decimals is not None:
        if decimals == 0:
            ctx.node("Round", [x], [ctx.output])
        else:  # numpy's: round(x * 10^d) / 10^d
            f = ctx.scalar(10.0 ** decimals)
            ctx.node("Div", [ctx.node("Round", [ctx.node("Mul", [x, f])[0]])[0], f],
                     [ctx.output])
    elif fn in simple:
        ctx.node(simple[fn], [x], [ctx.output])
    elif fn is _sign:  # PyTorch's sign is 0 at NaN, ONNX's Sign is NaN there
        sign = ctx.node("Sign", [x])[0]
        ctx.node("Where", [ctx.node("IsNaN", [x])[0], ctx.scalar(0.0), sign], [ctx.output])
    elif fn is np.trunc:  # sign(x) * floor(|x|)
        f = ctx.node("Floor", [ctx.node("Abs", [x])[0]])[0]
        ctx.node("Mul", [ctx.node("Sign", [x])[0], f], [ctx.output])
    else:
        raise ctx.unsupported(f"the piecewise-constant function {fn!r} has no ONNX mapping")


def _round_decimals(fn):
    """``decimals`` of the closure ``autograd.round`` passes (``lambda a: np.round(a, d)``)."""
    code = getattr(fn, "__code__", None)
    if code is None or not getattr(fn, "__qualname__", "").startswith("round."):
        return None
    cells = [c.cell_contents for c in fn.__closure__ or ()]
    return int(cells[0]) if len(cells) == 1 else None


@converter("NanToNum")
def _nan_to_num(ctx):
    x = ctx.arg(0)
    nan, posinf, neginf = ctx.args[1:4]
    info = np.finfo(ctx.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    y = ctx.node("Where", [ctx.node("IsNaN", [x])[0], ctx.scalar(nan), x])[0]
    y = ctx.node("Where", [ctx.node("IsInf", [y], detect_negative=0)[0], ctx.scalar(posinf),
                           y])[0]
    ctx.node("Where", [ctx.node("IsInf", [y], detect_positive=0)[0], ctx.scalar(neginf), y],
             [ctx.output])


# ======================================================================================
# reductions
# ======================================================================================

def _dims(dims, ndim):
    if dims is None:
        return list(range(ndim))
    if isinstance(dims, int):
        return [dims % ndim] if ndim else []
    return [d % ndim for d in dims] if ndim else []


_REDUCE_OPS = {"Sum": "ReduceSum", "Mean": "ReduceMean", "Prod": "ReduceProd"}


@converter("Sum", "Mean", "Prod", "AMax")
def _sum(ctx):
    if ctx.op == "AMax":  # amax and amin: args[3] says which
        op = "ReduceMax" if ctx.args[3] else "ReduceMin"
    else:
        op = _REDUCE_OPS[ctx.op]
    nd = len(ctx.shape(0))
    if nd == 0:
        ctx.node("Identity", [ctx.arg(0)], [ctx.output])
        return
    _reduce(ctx, op, ctx.arg(0), _dims(ctx.args[1], nd), ctx.args[2], [ctx.output])


@converter("MaxDim")
def _maxdim(ctx):
    nd = len(ctx.shape(0))
    a = ctx.args[0]._data
    keepdim = ctx.args[2]
    # values of max/min along one dim: which of them the traced values say
    traced = ctx.out._data
    d = ctx.args[1] % nd
    is_max = np.array_equal(np.max(a, axis=d, keepdims=keepdim), traced, equal_nan=True)
    _reduce(ctx, "ReduceMax" if is_max else "ReduceMin", ctx.arg(0), [d], keepdim,
            [ctx.output])


@converter("Cumsum")
def _cumsum(ctx):
    nd = len(ctx.shape(0))
    axis = ctx.g.const(np.asarray(ctx.args[1] % max(nd, 1), dtype=np.int64), "axis")
    ctx.node("CumSum", [ctx.arg(0), axis], [ctx.output])


@converter("PNorm")
def _pnorm(ctx):
    nd = len(ctx.shape(0))
    dims, keepdim, p = _dims(ctx.args[1], nd), ctx.args[2], ctx.args[3]
    x = ctx.arg(0)
    if p == 2:
        _reduce(ctx, "ReduceL2", x, dims, keepdim, [ctx.output])
    elif p == 1:
        _reduce(ctx, "ReduceL1", x, dims, keepdim, [ctx.output])
    else:  # (sum |x|^p)^(1/p)
        powed = ctx.node("Pow", [ctx.node("Abs", [x])[0], ctx.scalar(p)])[0]
        s = _reduce(ctx, "ReduceSum", powed, dims, keepdim, None)[0]
        ctx.node("Pow", [s, ctx.scalar(1.0 / p)], [ctx.output])


# ======================================================================================
# linear algebra and nn ops
# ======================================================================================

@converter("MatMul")
def _matmul(ctx):
    ctx.node("MatMul", [ctx.arg(0), ctx.arg(1)], [ctx.output])


@converter("Einsum")
def _einsum(ctx):
    ins = ctx.attrs["inputs"]
    out = ctx.attrs["output"]
    letters = {}

    def term(t):
        return "".join(letters.setdefault(s, chr(ord("a") + len(letters))) if not
                       isinstance(s, str) else s for s in t)
    if all(isinstance(t, str) for t in ins) and isinstance(out, str):
        eq = ",".join(ins) + "->" + out
    else:
        eq = ",".join(term(t) for t in ins) + "->" + term(out)
    ctx.node("Einsum", [ctx.arg(i) for i in range(len(ctx.args))], [ctx.output], equation=eq)


@converter("Linear")
def _linear(ctx):
    x, w = ctx.arg(0), ctx.arg(1)
    has_b = ctx.args[2] is not None
    if len(ctx.shape(0)) == 2:
        ctx.node("Gemm", [x, w] + ([ctx.arg(2)] if has_b else []), [ctx.output], transB=1)
        return
    wt = ctx.node("Transpose", [w], perm=[1, 0])[0]
    if not has_b:
        ctx.node("MatMul", [x, wt], [ctx.output])
        return
    y = ctx.node("MatMul", [x, wt])[0]
    ctx.node("Add", [y, ctx.arg(2)], [ctx.output])


def _pads(padding):
    """ONNX ``pads`` [top, left, bottom, right] of the kernels' padding argument."""
    if isinstance(padding[0], (tuple, list)):
        (t, b), (l, r) = padding
        return [int(t), int(l), int(b), int(r)]
    ph, pw = padding
    return [int(ph), int(pw), int(ph), int(pw)]


@converter("Conv2d")
def _conv2d(ctx):
    stride, padding, dilation = ctx.args[3:6]
    inputs = [ctx.arg(0), ctx.arg(1)] + ([ctx.arg(2)] if ctx.args[2] is not None else [])
    k = ctx.shape(1)[2:]
    ctx.node("Conv", inputs, [ctx.output], kernel_shape=list(k), strides=list(stride),
             pads=_pads(padding), dilations=list(dilation),
             group=int(ctx.attrs.get("groups", 1)))


@converter("ConvTranspose2d")
def _conv_transpose2d(ctx):
    stride, padding, output_padding, dilation = ctx.args[3:7]
    inputs = [ctx.arg(0), ctx.arg(1)] + ([ctx.arg(2)] if ctx.args[2] is not None else [])
    k = ctx.shape(1)[2:]
    ctx.node("ConvTranspose", inputs, [ctx.output], kernel_shape=list(k), strides=list(stride),
             pads=_pads(padding), dilations=list(dilation), output_padding=list(output_padding),
             group=1)


@converter("MaxPool2d")
def _max_pool(ctx):
    k, s, p, d = (tuple(ctx.args[i]) for i in range(1, 5))
    ceil_mode = bool(ctx.args[5]) if len(ctx.args) > 5 else False
    ctx.node("MaxPool", [ctx.arg(0)], [ctx.output], kernel_shape=list(k), strides=list(s),
             pads=_pads(p), dilations=list(d), ceil_mode=int(ceil_mode))


@converter("AvgPool2d")
def _avg_pool(ctx):
    k, s, p, ceil_mode, count_include_pad, div = ctx.args[1]
    y = ctx.output if div is None else ctx.g.fresh("avgpool")
    ctx.node("AveragePool", [ctx.arg(0)], [y], kernel_shape=list(k), strides=list(s),
             pads=_pads(p), ceil_mode=int(ceil_mode),
             count_include_pad=int(count_include_pad or div is not None))
    if div is not None:  # the window sum over divisor_override
        ctx.node("Mul", [y, ctx.scalar(k[0] * k[1] / div)], [ctx.output])


def _adaptive(ctx, avg):
    H, W = ctx.shape(0)[2:]
    oh, ow = ctx.shape(None)[2:]
    x = ctx.arg(0)
    if (oh, ow) == (1, 1):
        ctx.node("GlobalAveragePool" if avg else "GlobalMaxPool", [x], [ctx.output])
        return
    if H % oh == 0 and W % ow == 0:  # even windows: one pooling
        kh, kw = H // oh, W // ow
        ctx.node("AveragePool" if avg else "MaxPool", [x], [ctx.output],
                 kernel_shape=[kh, kw], strides=[kh, kw])
        return
    # uneven windows (PyTorch's floor/ceil bounds): one reduction per output cell
    red = "ReduceMean" if avg else "ReduceMax"
    rows = []
    for i in range(oh):
        h0, h1 = (i * H) // oh, -(-((i + 1) * H) // oh)
        cells = []
        for j in range(ow):
            w0, w1 = (j * W) // ow, -(-((j + 1) * W) // ow)
            sl = ctx.node("Slice", [x, ctx.ints([h0, w0]), ctx.ints([h1, w1]),
                                    ctx.ints([2, 3])])[0]
            cells.append(_reduce(ctx, red, sl, [2, 3], True, None)[0])
        rows.append(ctx.node("Concat", cells, axis=3)[0])
    ctx.node("Concat", rows, [ctx.output], axis=2)


@converter("AdaptiveAvgPool2d")
def _adaptive_avg(ctx):
    _adaptive(ctx, True)


@converter("AdaptiveMaxPool2d")
def _adaptive_max(ctx):
    _adaptive(ctx, False)


@converter("Softmax", "LogSoftmax")
def _softmax(ctx):
    nd = len(ctx.shape(0))
    axis = ctx.args[1] % nd if nd else 0
    x = ctx.arg(0)
    if nd == 0:
        x = _unsqueeze(ctx, x, [0])
        y = ctx.node(ctx.op, [x], axis=0)[0]
        _squeeze(ctx, y, [0], [ctx.output])
        return
    ctx.node(ctx.op, [x], [ctx.output], axis=axis)


@converter("LayerNorm")
def _layer_norm(ctx):
    x = ctx.arg(0)
    nd, eps = int(ctx.args[3]), float(ctx.args[4])
    shape = ctx.shape(0)
    norm_shape = shape[len(shape) - nd:]
    w = ctx.arg(1) if ctx.args[1] is not None else ctx.const(np.ones(norm_shape, ctx.dtype))
    b = ctx.arg(2) if ctx.args[2] is not None else None
    if ctx.g.opset >= 17:
        ctx.node("LayerNormalization", [x, w] + ([b] if b is not None else []), [ctx.output],
                 axis=-nd, epsilon=eps)
        return
    axes = list(range(len(shape) - nd, len(shape)))
    mean = _reduce(ctx, "ReduceMean", x, axes, True, None)[0]
    c = ctx.node("Sub", [x, mean])[0]
    var = _reduce(ctx, "ReduceMean", ctx.node("Mul", [c, c])[0], axes, True, None)[0]
    rstd = ctx.node("Reciprocal", [ctx.node("Sqrt", [ctx.node(
        "Add", [var, ctx.scalar(eps)])[0]])[0]])[0]
    y = ctx.node("Mul", [ctx.node("Mul", [c, rstd])[0], w])[0]
    ctx.node("Add" if b is not None else "Identity", [y] + ([b] if b is not None else []),
             [ctx.output])


@converter("BatchNormTrain")
def _batch_norm_train(ctx):
    """Training-mode batch norm (batch statistics), composed: ONNX's BatchNormalization
    takes running statistics, which this op does not read."""
    x = ctx.arg(0)
    nd = len(ctx.shape(0))
    axes = [0] + list(range(2, nd))
    mean = _reduce(ctx, "ReduceMean", x, axes, True, None)[0]
    c = ctx.node("Sub", [x, mean])[0]
    var = _reduce(ctx, "ReduceMean", ctx.node("Mul", [c, c])[0], axes, True, None)[0]
    rstd = ctx.node("Reciprocal", [ctx.node("Sqrt", [ctx.node(
        "Add", [var, ctx.scalar(float(ctx.args[3]))])[0]])[0]])[0]
    y = ctx.node("Mul", [c, rstd])[0]
    if ctx.args[1] is not None:
        y = ctx.node("Mul", [y, _unsqueeze(ctx, ctx.arg(1), axes)])[0]
    if ctx.args[2] is not None:
        y = ctx.node("Add", [y, _unsqueeze(ctx, ctx.arg(2), axes)])[0]
    ctx.node("Identity", [y], [ctx.output])


@converter("Embedding")
def _embedding(ctx):
    idx = ctx.arg(1, np.int64)
    ctx.node("Gather", [ctx.arg(0), idx], [ctx.output], axis=0)


@converter("ScaledDotProductAttention")
def _sdpa(ctx):
    q, k, v = ctx.arg(0), ctx.arg(1), ctx.arg(2)
    add, is_causal, scale = ctx.args[3], ctx.args[4], ctx.args[5]
    nd = len(ctx.shape(0))
    perm = list(range(nd - 2)) + [nd - 1, nd - 2]
    kt = ctx.node("Transpose", [k], perm=perm)[0]
    s = ctx.node("Mul", [ctx.node("MatMul", [q, kt])[0], ctx.scalar(scale)])[0]
    L, S = ctx.shape(0)[-2], ctx.shape(1)[-2]
    if add is not None:
        s = ctx.node("Add", [s, ctx.arg(3, ctx.dtype)])[0]
    if is_causal:
        mask = np.where(np.tri(L, S, dtype=bool), 0.0, -np.inf).astype(ctx.dtype)
        s = ctx.node("Add", [s, ctx.const(mask, "causal_mask")])[0]
    p = ctx.node("Softmax", [s], axis=-1)[0]
    ctx.node("MatMul", [p, v], [ctx.output])


# ======================================================================================
# shape ops
# ======================================================================================

@converter("Reshape", dynamic_ok=True)
def _reshape(ctx):
    in1, in2 = ctx.shape(0), ctx.shape(0, True)
    out1, out2 = ctx.shape(None), ctx.shape(None, True)
    if len(out1) != len(out2):
        raise ctx.g.error("Reshape: the rank of a reshape changes with the dynamic axes")
    target = []
    free = []
    for i, (a, b) in enumerate(zip(out1, out2)):
        if a == b:
            target.append(int(a))
        elif i < len(in1) and i < len(in2) and in1[i] == a and in2[i] == b:
            target.append(0)                      # copy the input's (dynamic) size
        else:
            target.append(-1)
            free.append(i)
    if len(free) > 1:
        raise ctx.g.error(f"Reshape: the target shape {out1} has {len(free)} dims that follow "
                          "the dynamic axes and are not copies of the input's dims; ONNX's "
                          "Reshape can infer only one (-1)")
    if 0 in [t for t, a in zip(target, out1) if a == 0]:
        raise ctx.g.error("Reshape: a zero-sized dim cannot be exported (ONNX reads 0 as "
                          "'copy the input dim')")
    ctx.node("Reshape", [ctx.arg(0), ctx.ints(target, "shape")], [ctx.output])


@converter("Permute")
def _permute(ctx):
    ctx.node("Transpose", [ctx.arg(0)], [ctx.output], perm=[int(d) for d in ctx.args[1]])


@converter("Expand", dynamic_ok=True)
def _expand(ctx):
    out1, out2 = ctx.shape(None), ctx.shape(None, True)
    in1, in2 = ctx.shape(0), ctx.shape(0, True)
    lead = len(out1) - len(in1)
    target = []
    for i, (a, b) in enumerate(zip(out1, out2)):
        j = i - lead
        if a == b:
            target.append(int(a))
        elif j >= 0 and in1[j] == a and in2[j] == b:
            target.append(1)   # Expand broadcasts: 1 keeps the input's (dynamic) size
        else:
            raise ctx.g.error(f"Expand: expanding a size-1 dim to a dynamic size (shape "
                              f"{in1} -> {out1}) cannot be exported")
    ctx.node("Expand", [ctx.arg(0), ctx.ints(target, "shape")], [ctx.output])


@converter("Repeat")
def _repeat(ctx):
    reps = [int(r) for r in ctx.args[1]]
    x = ctx.arg(0)
    nd = len(ctx.shape(0))
    if len(reps) > nd:
        x = _unsqueeze(ctx, x, list(range(len(reps) - nd)))
    ctx.node("Tile", [x, ctx.ints(reps, "repeats")], [ctx.output])


@converter("Cat")
def _cat(ctx):
    nd = len(ctx.shape(None))
    axis = ctx.attrs["dim"] % nd
    ctx.node("Concat", [ctx.arg(i) for i in range(len(ctx.args))], [ctx.output], axis=axis)


@converter("Flip")
def _flip(ctx):
    dims = [int(d) for d in ctx.args[1]]
    n = len(dims)
    ctx.node("Slice", [ctx.arg(0), ctx.ints([-1] * n), ctx.ints([-INT64_MAX] * n),
                       ctx.ints(dims), ctx.ints([-1] * n)], [ctx.output])


@converter("Roll")
def _roll(ctx):
    shifts, dims = ctx.args[1], ctx.args[2]
    shape = ctx.shape(0)
    cur = ctx.arg(0)
    for s, d in zip(shifts, dims):
        n = shape[d]
        s = int(s) % n if n else 0
        if s == 0:
            continue
        tail = ctx.node("Slice", [cur, ctx.ints([n - s]), ctx.ints([n]), ctx.ints([d])])[0]
        head = ctx.node("Slice", [cur, ctx.ints([0]), ctx.ints([n - s]), ctx.ints([d])])[0]
        cur = ctx.node("Concat", [tail, head], axis=int(d))[0]
    ctx.node("Identity", [cur], [ctx.output])


@converter("Tri")
def _tri(ctx):
    k, lower = int(ctx.args[1]), bool(ctx.args[2])
    ctx.node("Trilu", [ctx.arg(0), ctx.g.const(np.asarray(k, dtype=np.int64), "k")],
             [ctx.output], upper=int(not lower))


@converter("ConstantPad")
def _pad(ctx):
    widths = ctx.args[1]
    begins = [int(w[0]) for w in widths]
    ends = [int(w[1]) for w in widths]
    value = ctx.g.const(np.asarray(ctx.args[2], dtype=ctx.dtype), "pad_value")
    if min(begins + ends) >= 0:
        ctx.node("Pad", [ctx.arg(0), ctx.ints(begins + ends, "pads"), value], [ctx.output],
                 mode="constant")
        return
    raise ctx.unsupported("negative padding (cropping) is not exported")


@converter("GetItem", dynamic_ok=True)
def _getitem(ctx):
    index = ctx.args[1]
    index2 = ctx.rec2.args[1]
    shape1, shape2 = ctx.shape(0), ctx.shape(0, True)
    nd = len(shape1)
    items = list(index) if isinstance(index, tuple) else [index]
    items2 = list(index2) if isinstance(index2, tuple) else [index2]
    if any(isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in items) or \
            any(isinstance(i, bool) for i in items):
        raise ctx.unsupported("boolean-mask indexing has a data-dependent output shape")
    # expand Ellipsis
    used = sum(1 for it in items if it is not None and it is not Ellipsis)
    if Ellipsis in [it for it in items if not isinstance(it, np.ndarray)]:
        e = next(i for i, it in enumerate(items) if it is Ellipsis and not
                 isinstance(it, np.ndarray))
        fill = [slice(None)] * (nd - used)
        items = items[:e] + fill + items[e + 1:]
        items2 = items2[:e] + fill + items2[e + 1:]
    items += [slice(None)] * (nd - sum(1 for it in items if it is not None))
    items2 += [slice(None)] * (len(items) - len(items2))
    starts, ends, axes, steps, squeeze, gathers = [], [], [], [], [], []
    out_pos = []  # output positions of None (new axes)
    dim = 0
    out_dim = 0
    for it, it2 in zip(items, items2):
        if it is None:
            out_pos.append(out_dim)
            out_dim += 1
            continue
        n1, n2 = shape1[dim], shape2[dim]
        if isinstance(it, slice):
            start, stop, step = it.start, it.stop, it.step
            if not _same_slice(it, it2, n1, n2):
                raise ctx.g.error(f"GetItem: the slice {it} of dim {dim} changes with the "
                                  f"dynamic axes ({it2} for the second example)")
            step = 1 if step is None else int(step)
            if (start, stop, step) != (None, None, 1):
                s = 0 if start is None else int(start)
                e = INT64_MAX if stop is None or (n1 != n2 and stop == n1) else int(stop)
                if step < 0:
                    s = -1 if start is None else int(start)
                    e = -INT64_MAX if stop is None else int(stop)
                starts.append(s)
                ends.append(e)
                axes.append(dim)
                steps.append(step)
            out_dim += 1
        elif isinstance(it, (int, np.integer)):
            i = int(it)
            if i != int(it2) and not (i < 0 and int(it2) < 0):
                raise ctx.g.error(f"GetItem: the index {i} of dim {dim} changes with the "
                                  "dynamic axes")
            starts.append(i)
            ends.append(i + 1 if i != -1 else INT64_MAX)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif isinstance(it, np.ndarray):
            gathers.append((dim, it, it2))
            out_dim += it.ndim
        dim += 1
    x = ctx.arg(0)
    if starts:
        x = ctx.node("Slice", [x, ctx.ints(starts, "starts"), ctx.ints(ends, "ends"),
                               ctx.ints(axes, "axes"), ctx.ints(steps, "steps")])[0]
    if gathers:
        if len(gathers) > 1:
            raise ctx.unsupported("indexing with more than one index array is not exported")
        d, arr, arr2 = gathers[0]
        idx = ctx.g.value(arr, ctx.rec, 1, np.int64, other=arr2)
        if arr.dtype != np.int64:
            idx = ctx.node("Cast", [idx], to=_onnx_dtype(ctx, np.int64))[0]
        # squeezed dims before d shift it
        x = ctx.node("Gather", [x, idx], axis=d)[0]
        squeeze = [s if s < d else s + arr.ndim - 1 for s in squeeze]
    if squeeze:
        x = _squeeze(ctx, x, squeeze)
    if out_pos:
        x = _unsqueeze(ctx, x, out_pos)
    ctx.node("Identity", [x], [ctx.output])


def _same_slice(a, b, n1, n2):
    if not isinstance(b, slice):
        return False
    if a == b:
        return True
    # a stop (or start) equal to the dim's size in both traces follows the dynamic axis
    return (a.start == b.start and a.step == b.step and a.stop == n1 and b.stop == n2)


# ======================================================================================
# recurrent layers: ONNX LSTM / GRU / RNN
# ======================================================================================

def _gate_perm(H, order):
    """Row indices that reorder stacked gate blocks of size H into ``order``."""
    return np.concatenate([np.arange(g * H, (g + 1) * H) for g in order]).astype(np.int64)


def _recurrent(ctx, kind):
    """xp ``(L, N, G*H)`` is the projected input (x W_ih^T + b_ih, traced before); the ONNX
    op gets it as its input with W = a gate permutation matrix, so its own input projection
    passes it through unchanged; R = w_hh (gate order changed), B = [0, b_hh]."""
    order = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}[kind]  # ifgo->iofc, rzn->zrn
    L, N, GH = ctx.shape(0)
    H = ctx.shape(1)[1]
    perm = _gate_perm(H, order)
    w_eye = np.eye(GH, dtype=ctx.dtype)[perm][None]            # (1, G*H, G*H)
    W = ctx.const(w_eye, f"{kind.lower()}_W_identity")
    pidx = ctx.ints(perm, "gate_order")
    R = _unsqueeze(ctx, ctx.node("Gather", [ctx.arg(1), pidx], axis=0)[0], [0])
    if ctx.args[2] is not None:
        rb = ctx.node("Gather", [ctx.arg(2), pidx], axis=0)[0]
    else:
        rb = ctx.const(np.zeros(GH, ctx.dtype))
    B = _unsqueeze(ctx, ctx.node("Concat", [ctx.const(np.zeros(GH, ctx.dtype)), rb],
                                 axis=0)[0], [0])
    h0 = ctx.args[3]
    inputs = [ctx.arg(0), W, R, B, ""]
    inputs.append(_unsqueeze(ctx, ctx.arg(3), [0]) if h0 is not None else "")
    direction = "reverse" if ctx.attrs.get("reverse", False) else "forward"
    if kind == "LSTM":
        c0 = ctx.args[4]
        inputs.append(_unsqueeze(ctx, ctx.arg(4), [0]) if c0 is not None else "")
        while inputs and inputs[-1] == "":
            inputs.pop()
        y, _, yc = ctx.node("LSTM", inputs, 3, hidden_size=H, direction=direction)
        ys = _squeeze(ctx, y, [1])                                  # (L, N, H)
        ctx.node("Concat", [ys, yc], [ctx.output], axis=0)          # packed (L + 1, N, H)
        return
    while inputs and inputs[-1] == "":
        inputs.pop()
    if kind == "GRU":
        y = ctx.node("GRU", inputs, 1, hidden_size=H, direction=direction,
                     linear_before_reset=1)[0]
    else:
        act = "Relu" if ctx.attrs.get("relu", False) else "Tanh"
        y = ctx.node("RNN", inputs, 1, hidden_size=H, direction=direction,
                     activations=[act])[0]
    _squeeze(ctx, y, [1], [ctx.output])


@converter("LSTMSequence")
def _lstm(ctx):
    _recurrent(ctx, "LSTM")


@converter("GRUSequence")
def _gru(ctx):
    _recurrent(ctx, "GRU")


@converter("RNNSequence")
def _rnn(ctx):
    _recurrent(ctx, "RNN")

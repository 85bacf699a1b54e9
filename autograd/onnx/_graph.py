"""From two traces to an ONNX graph: naming values, initializers, pruning, dynamic dims."""

import numbers

import numpy as np

from ..tensor import Tensor

INT64_MAX = np.iinfo(np.int64).max
_MISSING = object()


def _same(a, b):
    """Equality of two non-tensor op arguments from the two traces (recursive)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    if callable(a) and callable(b) and hasattr(a, "__code__") and hasattr(b, "__code__"):
        # closures made per call (round's lambda): the same code over the same values
        cells = [(x.cell_contents for x in f.__closure__ or ()) for f in (a, b)]
        return a.__code__ is b.__code__ and _same(tuple(cells[0]), tuple(cells[1]))
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b


class Context:
    """What a converter sees for one record: ``g`` (the :class:`Graph`), ``rec`` and ``rec2``
    (the record in the first and second trace), and helpers."""

    def __init__(self, g, rec, rec2):
        self.g = g
        self.rec = rec
        self.rec2 = rec2
        self.args = rec.args
        self.attrs = rec.attrs
        self.out = rec.out
        self.dtype = rec.out._data.dtype
        self.output = g.output_name(rec)

    @property
    def op(self):
        """The op's name for messages (``'Reshape'``)."""
        return self.rec.name

    def arg(self, i, dtype=None):
        """ONNX value name of argument ``i`` (a Tensor, array or number)."""
        return self.g.value(self.args[i], self.rec, i, dtype)

    def attr2(self, key):
        """Argument ``key`` (an int index into args, or an attrs name) in the second trace."""
        return self.rec2.args[key] if isinstance(key, int) else self.rec2.attrs[key]

    def shape(self, x, second=False):
        """Traced shape of argument index ``x`` (or of the output for ``x is None``)."""
        rec = self.rec2 if second else self.rec
        t = rec.out if x is None else rec.args[x]
        return tuple(np.shape(t._data if isinstance(t, Tensor) else t))

    def dynamic_dims(self, x):
        """Dims of argument ``x`` (None: the output) whose size follows a dynamic axis."""
        s1, s2 = self.shape(x), self.shape(x, True)
        if len(s1) != len(s2):
            raise self.g.error(f"{self.op}: the rank of a value changes with the dynamic axes")
        return [i for i, (a, b) in enumerate(zip(s1, s2)) if a != b]

    def node(self, op_type, inputs, outputs=None, **attrs):
        """Add an ONNX node; returns its output names (fresh ones unless given)."""
        return self.g.node(op_type, inputs, outputs, **attrs)

    def const(self, array, hint="const"):
        return self.g.const(np.asarray(array), hint)

    def ints(self, values, hint="ints"):
        return self.g.const(np.asarray(list(values), dtype=np.int64), hint)

    def scalar(self, value, dtype=None):
        """A 0-d constant of ``dtype`` (default: the output's)."""
        return self.g.const(np.asarray(value, dtype=dtype or self.dtype), "scalar")

    def unsupported(self, why):
        """An :class:`UnsupportedOperatorError` naming this op and saying ``why``."""
        from . import UnsupportedOperatorError
        fn = self.rec.out.grad_fn
        node = f" ({fn.name()})" if fn is not None else ""
        return UnsupportedOperatorError(f"onnx.export: {self.op}{node}: {why}")


class Graph:
    """The ONNX graph under construction."""

    def __init__(self, onnx, t1, t2, opset, export_params):
        self.onnx = onnx
        self.t1, self.t2 = t1, t2
        self.opset = opset
        self.export_params = export_params
        self.nodes = []
        self.initializers = []
        self.param_inputs = []
        self._const_ids = {}     # id(array) -> initializer name
        self._by_node = {}       # id(grad_fn) -> value name
        self._by_tensor = {}     # id(Tensor) -> value name
        self._by_array = {}      # id(ndarray) -> value name (inputs' arrays)
        self._producer = {}      # value name -> record index
        self._used = set()
        self._counter = 0
        self._names = set()

    # --- names ---------------------------------------------------------------------------
    def fresh(self, hint):
        self._counter += 1
        name = f"/{hint}_{self._counter}"
        self._names.add(name)
        return name

    def error(self, message):
        from . import OnnxExporterError
        return OnnxExporterError(f"onnx.export: {message}")

    def register(self, t, name):
        self._by_tensor[id(t)] = name
        if t.grad_fn is not None:
            self._by_node[id(t.grad_fn)] = name
        self._by_array.setdefault(id(t._data), name)

    def lookup(self, t):
        """The value name of a traced Tensor, or None for one made outside the trace."""
        fn = t.grad_fn
        if fn is not None:
            name = self._by_node.get(id(fn))
            if name is not None:
                return name
        name = self._by_tensor.get(id(t))
        if name is None:  # a detached Tensor over a traced value's array (t.detach(), t.data)
            name = self._by_array.get(id(t._data))
        return name

    def output_name(self, rec):
        return self._rec_names[rec.index]

    # --- constants -----------------------------------------------------------------------
    def const(self, array, hint="const", name=None):
        array = np.asarray(array)
        key = id(array)
        if name is None and key in self._const_ids:
            return self._const_ids[key]
        name = name or self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.ascontiguousarray(array), name))
        self._const_ids[key] = name
        self._keep = getattr(self, "_keep", [])
        self._keep.append(array)  # keep ids unique while the graph is built
        return name

    def param(self, array, name):
        """A parameter or buffer: an initializer under its state_dict name (a graph input with
        ``export_params=False``)."""
        key = ("param", id(array))
        if key in self._const_ids:
            return self._const_ids[key]
        if self.export_params:
            self.initializers.append(self.onnx.numpy_helper.from_array(
                np.ascontiguousarray(array), name))
        else:
            self.param_inputs.append(self.onnx.helper.make_tensor_value_info(
                name, self.onnx.helper.np_dtype_to_tensor_dtype(array.dtype), array.shape))
        self._const_ids[key] = name
        return name

    def value(self, x, rec, i, dtype=None, other=_MISSING):
        """ONNX name of argument ``i`` of ``rec`` (whose value is ``x``; ``other`` is its value
        in the second trace when ``x`` is not the argument itself but part of it)."""
        if isinstance(x, Tensor):
            name = self.lookup(x)
            if name is not None:
                return name
            return self._constant(x._data, rec, i, None, other)
        if isinstance(x, np.ndarray):
            name = self._by_array.get(id(x))
            if name is not None:
                return name
            return self._constant(x, rec, i, dtype, other)
        if isinstance(x, (numbers.Number, np.generic)):
            return self.const(np.asarray(x, dtype=dtype or rec.out._data.dtype), "scalar")
        raise self.error(f"{rec.name}: cannot use an argument of type {type(x).__name__}")

    def _constant(self, arr, rec, i, dtype=None, other=_MISSING):
        """A tensor made outside the trace: a parameter/buffer, or a constant that must not
        depend on the inputs (checked against the second trace)."""
        base = arr
        while base is not None:
            pname = self.t1.names.get(id(base))
            if pname is not None:
                if base is arr:
                    return self.param(arr, pname)
                break
            base = base.base
        if other is _MISSING:
            other = self.t2.records[rec.index].args[i]
        other = other._data if isinstance(other, Tensor) else other
        if not isinstance(other, np.ndarray) or other.shape != arr.shape:
            raise self.error(
                f"{rec.name}: argument {i} is a tensor of shape {arr.shape} made outside the "
                "traced ops whose shape follows the inputs' (dynamic) sizes, e.g. a tensor "
                "created from x.shape; it cannot be stored as a constant")
        if not np.array_equal(arr, other, equal_nan=True):
            cast = self._cast_of_input(arr, other, rec)
            if cast is not None:
                return cast
            raise self.error(
                f"{rec.name}: argument {i} (shape {arr.shape}, dtype {arr.dtype}) is computed "
                "from the inputs outside the traced ops (through .numpy(), a NumPy call or an "
                "op without a graph node), so exporting it as a constant would be wrong")
        if dtype is not None and arr.dtype != dtype:
            arr = arr.astype(dtype)
        return self.const(arr, "const")

    def _cast_of_input(self, arr, other, rec):
        """An integer input converted with astype (e.g. int32 indices made int64 by an op): a
        Cast of that input."""
        for t, t2, name in zip(self.t1.inputs, self.t2.inputs, self.input_names):
            a, b = t._data, t2._data
            if a.shape == arr.shape and b.shape == other.shape and np.array_equal(a, arr) \
                    and np.array_equal(b, other):
                out = self.fresh("cast")
                self.node("Cast", [name], [out],
                          to=self.onnx.helper.np_dtype_to_tensor_dtype(arr.dtype))
                return out
        return None

    # --- nodes ---------------------------------------------------------------------------
    def node(self, op_type, inputs, outputs=None, **attrs):
        if outputs is None:
            outputs = [self.fresh(op_type.lower())]
        elif isinstance(outputs, int):
            outputs = [self.fresh(op_type.lower()) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(
            op_type, list(inputs), list(outputs), name=self.fresh(op_type), **attrs))
        return outputs


def _needed(t1, outputs):
    """Indices of the records the outputs depend on (an iterative walk back)."""
    by_node, by_tensor, by_array = {}, {}, {}
    for rec in t1.records:
        by_tensor[id(rec.out)] = rec.index
        by_array[id(rec.out._data)] = rec.index
        if rec.out.grad_fn is not None:
            by_node[id(rec.out.grad_fn)] = rec.index
    input_ids = {id(t) for t in t1.inputs} | {id(t._data) for t in t1.inputs}

    def source(x, before):
        """The record that made ``x`` (read by record ``before``), or None."""
        if id(x) in input_ids:
            return None
        if isinstance(x, np.ndarray):
            s = by_array.get(id(x))
            return s if s is not None and s < before else None
        if x.grad_fn is not None:
            s = by_node.get(id(x.grad_fn))
            if s is not None and s < before:
                return s
        # an in-place op may have rebased this Tensor after ``before`` read it: by identity
        s = by_tensor.get(id(x))
        if s is None:  # a detached Tensor over a traced value's array
            s = by_array.get(id(x._data))
            if id(x._data) in input_ids:
                return None
        return s if s is not None and s < before else None

    needed = set()
    stack = [s for s in (source(t, len(t1.records)) for t in outputs) if s is not None]
    while stack:
        r = stack.pop()
        if r in needed:
            continue
        needed.add(r)
        for a in _tensor_args(t1.records[r]):
            s = source(a, r)
            if s is not None and s not in needed:
                stack.append(s)
    return sorted(needed)


def _tensor_args(rec):
    """The Tensors and arrays among a record's arguments (also inside tuples: an index)."""
    out = []
    todo = list(rec.args) + list(rec.attrs.values())
    while todo:
        a = todo.pop()
        if isinstance(a, (Tensor, np.ndarray)):
            out.append(a)
        elif isinstance(a, (tuple, list)):
            todo.extend(a)
    return out


def build(onnx, t1, t2, in_names, out_names, dyn, opset, export_params):
    """The ``onnx.ModelProto`` of trace ``t1`` (checked against ``t2``)."""
    from ._ops import CONVERTERS
    from . import UnsupportedOperatorError
    helper = onnx.helper
    g = Graph(onnx, t1, t2, opset, export_params)
    g.input_names = in_names
    if len(t1.records) != len(t2.records) or any(
            a.cls is not b.cls for a, b in zip(t1.records, t2.records)):
        raise g.error("the model ran different ops for the second example input (other values "
                      "and dynamic axes one longer): data-dependent control flow cannot be "
                      "traced")
    if len(t1.outputs) != len(t2.outputs):
        raise g.error("the model returned a different number of outputs for the second input")
    for t, name in zip(t1.inputs, in_names):
        g.register(t, name)

    needed = _needed(t1, t1.outputs)
    g._rec_names = {}
    for r in needed:
        rec = t1.records[r]
        conv = CONVERTERS.get(rec.name)
        if conv is None:
            what = rec.out.grad_fn.name() if rec.out.grad_fn is not None else rec.name
            raise UnsupportedOperatorError(
                f"onnx.export: the op {rec.name} ({what}, output shape {tuple(rec.out.shape)}) "
                f"has no ONNX mapping in tapegrad (supported: see autograd.onnx.supported_ops())")
    for r in needed:
        rec, rec2 = t1.records[r], t2.records[r]
        conv = CONVERTERS[rec.name]
        g._rec_names[r] = g.fresh(rec.name.lower())
        if not getattr(conv, "dynamic_ok", False):
            for i, (a, b) in enumerate(zip(rec.args, rec2.args)):
                if isinstance(a, (Tensor, np.ndarray)) or isinstance(b, (Tensor, np.ndarray)):
                    continue
                if not _same(a, b):
                    raise g.error(f"{rec.name}: argument {i} ({a!r}) changes with the inputs "
                                  f"(it is {b!r} for the second example), so it cannot be "
                                  "exported as a fixed attribute")
            for k in rec.attrs:
                a, b = rec.attrs[k], rec2.attrs[k]
                if not isinstance(a, (Tensor, np.ndarray)) and not _same(a, b):
                    raise g.error(f"{rec.name}: attribute {k}={a!r} changes with the inputs")
        conv(Context(g, rec, rec2))
        g.register(rec.out, g._rec_names[r])

    # graph inputs and outputs
    def value_info(name, t, t_other, axes):
        shape = []
        for ax, n in enumerate(t.shape):
            if ax in axes:
                shape.append(axes[ax])
            elif t_other is not None and t_other.shape[ax] != n:
                shape.append(f"{name}_dim{ax}")
            else:
                shape.append(int(n))
        return helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(t._data.dtype), shape)

    inputs = [value_info(n, t, t2i, dyn.get(n, {}))
              for n, t, t2i in zip(in_names, t1.inputs, t2.inputs)]
    outputs = []
    for t, t_b, name in zip(t1.outputs, t2.outputs, out_names):
        src = g.lookup(t)
        if src is None:  # a constant output (a buffer, or a value not computed from inputs)
            if t_b.shape != t.shape or not np.array_equal(t._data, t_b._data, equal_nan=True):
                raise g.error(f"output {name!r} (shape {tuple(t.shape)}) is computed from the "
                              "inputs outside the traced ops")
            src = g.const(t._data, "const")
        g.node("Identity", [src], [name])
        if t_b.ndim != t.ndim:
            raise g.error(f"output {name!r} changes rank with the inputs")
        outputs.append(value_info(name, t, t_b, dyn.get(name, {})))
    graph = helper.make_graph(g.nodes, "tapegrad", inputs + g.param_inputs, outputs,
                              initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="tapegrad", producer_version=_version())
    model.ir_version = min(model.ir_version, 8 if opset <= 18 else 9 if opset <= 20 else 10)
    return model


def _version():
    import autograd
    return getattr(autograd, "__version__", "0")

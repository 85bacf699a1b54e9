"""The profiler: which op is slow, how often it runs, on which shapes, and what memory it takes
(``torch.autograd.profiler`` and ``torch.profiler``, one module here).

::

    from autograd.profiler import profile, record_function, ProfilerActivity

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")     # open in chrome://tracing or ui.perfetto.dev

What is recorded, per call: every op of the library (an :class:`autograd.graph.Node`'s
``apply``: its forward), every custom :class:`autograd.Function` call, every graph node's
backward as the engine runs it (named as PyTorch names it, ``MulBackward0``), and every
:class:`record_function` range; each with its wall time (``time.perf_counter_ns``), and
optionally the shapes of its array inputs (``record_shapes=True``), the memory it allocated
(``profile_memory=True``: the net bytes NumPy allocated during the call, measured with
:mod:`tracemalloc`; kernels' Numba-internal scratch memory is not seen), the Python stack of the
call (``with_stack=True``) and the floating-point operations of matrix products and
convolutions (``with_flops=True``). Events nest (a backward's own Tensor ops are its children),
so each has a *total* time and a *self* time (total minus its children's), as in PyTorch.

Cost. Off (no active profiler), the profiler costs nothing at all: it adds no check to the op
path or to the engine. While a profiler is recording it swaps instrumented functions into the
class attributes the library calls (``Node.apply``, ``Function.apply``, and the ``backward`` of
every node class), and swaps the originals back when it stops; the per-op benchmark
(``python -m benchmarks --only tiny_ops``) therefore runs the very same code before and after a
profile. On, each recorded call costs two ``perf_counter_ns`` calls and a few list operations
(``record_shapes``, ``profile_memory`` and ``with_stack`` add their own work); the README gives
the measured slow-down on ``tiny_ops``.

Names. Forward ops are named ``aten::<op>`` after PyTorch's operator names (``aten::mul``,
``aten::conv2d``, ``aten::linear``) so that code filtering ``key_averages()`` by key ports,
although tapegrad's ops are not ATen's: one tapegrad op may stand where PyTorch records several
(``aten::linear`` is one node here, ``linear``/``addmm``/``t`` there). Differences from PyTorch:
only the CPU activity exists (asking for CUDA warns and records the CPU only); time is wall
time; ``with_modules`` is accepted and ignored.
"""

import enum
import functools
import gzip
import json
import os
import re
import socket
import threading
import time
import tracemalloc
import traceback
import warnings

import numpy as np

from . import function as _function
from . import graph as _graph
from .tensor import Tensor

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "EventList", "FunctionEvent", "FunctionEventAvg"]


# ======================================================================================
# PyTorch's enums and the schedule
# ======================================================================================

class ProfilerActivity(enum.Enum):
    """What to profile (``torch.profiler.ProfilerActivity``): tapegrad records ``CPU`` only."""

    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3


class ProfilerAction(enum.Enum):
    """What the profiler does at a step (``torch.profiler.ProfilerAction``)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A profiling schedule for :class:`profile` (``torch.profiler.schedule``): after
    ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup`` steps and ``active``
    recorded steps, ``repeat`` times (0: until the profiler stops). At the last active step of
    a cycle the action is ``RECORD_AND_SAVE``: ``on_trace_ready`` runs when that step ends.
    ``skip_first_wait=1`` skips the ``wait`` phase of the first cycle.

    Returns:
        a function ``step (int) -> ProfilerAction``.

    Raises:
        ValueError: for negative counts or ``active < 1``.
    """
    for name, v in (("wait", wait), ("warmup", warmup), ("repeat", repeat),
                    ("skip_first", skip_first)):
        if not isinstance(v, int) or v < 0:
            raise ValueError(f"schedule: {name} must be a non-negative int, got {v!r}")
    if not isinstance(active, int) or active < 1:
        raise ValueError(f"schedule: active must be a positive int, got {active!r}")

    def schedule_fn(step):
        if step < 0:
            raise ValueError(f"schedule: step must be non-negative, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return schedule_fn


def _default_schedule(step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` handler that writes each trace into ``dir_name`` as
    ``<worker_name>.<time_ns>.pt.trace.json[.gz]`` (``torch.profiler.tensorboard_trace_handler``;
    TensorBoard's profiler plugin and Perfetto read these files). ``worker_name`` defaults to
    ``<hostname>_<pid>``."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))
    return handler


# ======================================================================================
# names of the ops
# ======================================================================================

# tapegrad class name -> PyTorch operator name, where the snake-case of the class name is not it
_OP_NAMES = {
    "AddScalar": "add", "SubScalar": "sub", "MulScalar": "mul", "DivScalar": "div",
    "MatMul": "matmul", "GetItem": "index", "IndexPut": "index_put", "IndexAdd": "index_add",
    "AMax": "amax", "MaxDim": "max", "Relu": "relu", "Cast": "to", "Tri": "tril",
    "ConstantPad": "constant_pad_nd", "Expand": "expand", "Permute": "permute",
    "CrossEntropyIndices": "cross_entropy_loss", "NLLLoss": "nll_loss",
    "LSTMSequence": "lstm", "GRUSequence": "gru", "RNNSequence": "rnn_tanh",
    "AdaptiveAvgPool2d": "adaptive_avg_pool2d", "AdaptiveMaxPool2d": "adaptive_max_pool2d",
    "ConvTranspose2d": "conv_transpose2d", "PNorm": "norm", "ZeroNorm": "norm",
    "SlogDet": "slogdet", "SlogDetSign": "slogdet", "Inverse": "linalg_inv",
    "LogSigmoid": "log_sigmoid", "Silu": "silu", "Gelu": "gelu", "Elu": "elu",
}
_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_name_cache = {}


def _op_name(cls):
    """``'aten::mul'`` for ``Mul``, ``'aten::max_pool2d'`` for ``MaxPool2d``."""
    name = _name_cache.get(cls)
    if name is None:
        base = cls.__name__.lstrip("_")
        name = "aten::" + _OP_NAMES.get(base, _SNAKE.sub("_", base).lower())
        _name_cache[cls] = name
    return name


# ======================================================================================
# FLOPs of the ops that dominate (with_flops=True)
# ======================================================================================

def _shape(a):
    if isinstance(a, Tensor):
        return a._data.shape
    if isinstance(a, np.ndarray):
        return a.shape
    return None


def _flops(cls_name, args, out):
    """Floating-point operations (2 per multiply-add) of one call, or 0 where not counted."""
    try:
        if cls_name == "Linear":
            return 2 * out.size * _shape(args[1])[1]
        if cls_name == "MatMul":
            a = _shape(args[0])
            return 2 * out.size * a[-1]
        if cls_name == "Conv2d":
            w = _shape(args[1])
            return 2 * out.size * w[1] * w[2] * w[3]
        if cls_name == "ConvTranspose2d":
            x, w = _shape(args[0]), _shape(args[1])
            return 2 * int(np.prod(x)) * w[1] * w[2] * w[3]
        if cls_name == "ScaledDotProductAttention":
            q, k, v = _shape(args[0]), _shape(args[1]), _shape(args[2])
            lead = int(np.prod(q[:-2]))
            return 2 * lead * q[-2] * k[-2] * (q[-1] + v[-1])
        if cls_name in ("LSTMSequence", "GRUSequence", "RNNSequence"):
            xp, w = _shape(args[0]), _shape(args[1])
            return 2 * xp[0] * xp[1] * w[0] * w[1]
    except (TypeError, IndexError):
        return 0
    return 0


# ======================================================================================
# recording
# ======================================================================================

_active = None            # the recording profiler, or None (read only by the instrumented code)
_lock = threading.Lock()


class _Recorder:
    """The raw events of one recording: ``rows`` of
    ``[name, start_ns, end_ns, parent, thread, shapes, mem, flops, stack, kind]``."""

    def __init__(self, record_shapes, profile_memory, with_stack, with_flops):
        self.rows = []
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.tls = threading.local()

    def open(self, name, args, kind):
        tls = self.tls
        stack = getattr(tls, "stack", None)
        if stack is None:
            stack = tls.stack = []
        rows = self.rows
        idx = len(rows)
        shapes = None
        if self.record_shapes and args is not None:
            shapes = [list(_shape(a)) if _shape(a) is not None else [] for a in args]
        mem = tracemalloc.get_traced_memory()[0] if self.profile_memory else 0
        st = _user_stack() if self.with_stack else None
        rows.append([name, 0, 0, stack[-1] if stack else -1, threading.get_ident(), shapes,
                     mem, 0, st, kind])
        stack.append(idx)
        rows[idx][1] = time.perf_counter_ns()
        return idx

    def close(self, idx):
        end = time.perf_counter_ns()
        row = self.rows[idx]
        row[2] = end
        if self.profile_memory:
            row[6] = tracemalloc.get_traced_memory()[0] - row[6]
        stack = self.tls.stack
        if stack and stack[-1] == idx:
            stack.pop()
        elif idx in stack:
            stack.remove(idx)


_here = os.path.dirname(os.path.abspath(__file__))


def _user_stack():
    """The Python stack of the call, innermost first, as PyTorch's ``FunctionEvent.stack``
    (``'file(line): function'``), without the profiler's own frames."""
    frames = traceback.extract_stack()[:-3]
    out = []
    for f in reversed(frames):
        if f.filename == __file__:
            continue
        out.append(f"{f.filename}({f.lineno}): {f.name}")
    return out


# --- the instrumented functions, swapped in while a profiler records -----------------------
_orig = {}  # (owner class, attribute) -> original attribute (from the class __dict__)


def _node_apply_profiled(cls, *args, **attrs):
    rec = _active
    if rec is None:
        return _orig[(_graph.Node, "apply")].__func__(cls, *args, **attrs)
    idx = rec.open(_op_name(cls), args, "op")
    try:
        out = _orig[(_graph.Node, "apply")].__func__(cls, *args, **attrs)
    finally:
        rec.close(idx)
    if rec.with_flops:
        rec.rows[idx][7] = _flops(cls.__name__, args, out._data)
    return out


def _function_apply_profiled(cls, *args, **kwargs):
    rec = _active
    apply = _orig[(_function.Function, "apply")].__func__
    if rec is None:
        return apply(cls, *args, **kwargs)
    idx = rec.open(cls.__name__, args, "op")
    try:
        return apply(cls, *args, **kwargs)
    finally:
        rec.close(idx)


def _wrap_backward(fn):
    @functools.wraps(fn)
    def backward(ctx, *grads):
        rec = _active
        if rec is None:
            return fn(ctx, *grads)
        idx = rec.open(ctx.name() if not hasattr(ctx, "_name") else ctx._name(), grads,
                       "backward")
        try:
            return fn(ctx, *grads)
        finally:
            rec.close(idx)
    backward.__wrapped_by_profiler__ = True
    return backward


def _node_classes():
    seen, todo = [], [_graph.Node]
    while todo:
        c = todo.pop()
        for s in c.__subclasses__():
            if s not in seen:
                seen.append(s)
                todo.append(s)
    return seen


def _install(rec):
    """Swap the instrumented functions in (caller holds ``_lock``)."""
    global _active
    _orig[(_graph.Node, "apply")] = _graph.Node.__dict__["apply"]
    _graph.Node.apply = classmethod(_node_apply_profiled)
    _orig[(_function.Function, "apply")] = _function.Function.__dict__["apply"]
    _function.Function.apply = classmethod(_function_apply_profiled)
    for c in _node_classes():
        b = c.__dict__.get("backward")
        if isinstance(b, staticmethod):
            _orig[(c, "backward")] = b
            c.backward = staticmethod(_wrap_backward(b.__func__))
    _active = rec


def _uninstall():
    """Put every original back (caller holds ``_lock``)."""
    global _active
    _active = None
    for (owner, attr), value in _orig.items():
        setattr(owner, attr, value)
    _orig.clear()


# ======================================================================================
# events
# ======================================================================================

def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes):
    kb, mb, gb = 1024, 1024 ** 2, 1024 ** 3
    if abs(nbytes) >= gb:
        return f"{nbytes / gb:.2f} GB"
    if abs(nbytes) >= mb:
        return f"{nbytes / mb:.2f} MB"
    if abs(nbytes) >= kb:
        return f"{nbytes / kb:.2f} KB"
    return f"{nbytes} B"


def _format_share(us, total):
    return "NaN" if total == 0 else f"{us * 100.0 / total:.2f}%"


class Interval:
    """An event's time range in microseconds since the profiler started (``start``, ``end``)."""

    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        """``end - start``."""
        return self.end - self.start


class _EventTimes:
    """What :class:`FunctionEvent` and :class:`FunctionEventAvg` share: the device columns
    (always 0 on the CPU) and the formatted CPU times, from each class's ``cpu_time``,
    ``cpu_time_total`` and ``self_cpu_time_total``."""

    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0
    device_memory_usage = self_device_memory_usage = 0
    cpu_time_str = property(lambda self: _format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: _format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _format_time(self.self_cpu_time_total))


class FunctionEvent(_EventTimes):
    """One recorded call (``torch.autograd.profiler_util.FunctionEvent``).

    Attributes:
        id (int), name (str), key (str: the name), thread (int), time_range (Interval, us),
        cpu_time_total / self_cpu_time_total (float, us: with / without children),
        cpu_time (float: the same as cpu_time_total, the average over one call),
        input_shapes (list of shapes, empty without ``record_shapes``),
        cpu_memory_usage / self_cpu_memory_usage (int, bytes, net allocated),
        cpu_children (list of FunctionEvent), cpu_parent (FunctionEvent or None),
        stack (list of str), flops (int), count (1), is_user_annotation (bool: a
        :class:`record_function` range).
    """

    def __init__(self, id, name, thread, start_us, end_us, input_shapes, memory, flops, stack,
                 is_user_annotation=False, is_backward=False):
        self.id = id
        self.name = name
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes or []
        self.cpu_memory_usage = memory
        self.flops = flops
        self.stack = stack or []
        self.is_user_annotation = is_user_annotation
        self.is_backward = is_backward
        self.cpu_children = []
        self.cpu_parent = None
        self.count = 1
        self.device_type = "CPU"

    key = property(lambda self: self.name)
    cpu_time_total = property(lambda self: self.time_range.elapsed_us())
    cpu_time = cpu_time_total

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self):
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time="
                f"{self.cpu_time_total_str} self_cpu_time={self.self_cpu_time_total_str} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_EventTimes):
    """The events of one key summed (``torch.autograd.profiler_util.FunctionEventAvg``):
    ``key``, ``count``, ``cpu_time_total``, ``self_cpu_time_total``, ``cpu_time`` (average per
    call), ``cpu_memory_usage``, ``self_cpu_memory_usage``, ``flops``, ``input_shapes`` and
    ``stack`` (set when grouped by them)."""

    def __init__(self, key, input_shapes=None, stack=None):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.flops = 0
        self.input_shapes = input_shapes
        self.stack = stack
        self.is_user_annotation = False

    def add(self, evt):
        """Add one :class:`FunctionEvent` (or another average) into this one."""
        self.count += evt.count
        self.cpu_time_total += evt.cpu_time_total
        self.self_cpu_time_total += evt.self_cpu_time_total
        self.cpu_memory_usage += evt.cpu_memory_usage
        self.self_cpu_memory_usage += evt.self_cpu_memory_usage
        self.flops += evt.flops
        self.is_user_annotation = evt.is_user_annotation
        return self

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


_SORT_KEYS = ("cpu_time", "cpu_time_total", "self_cpu_time_total", "cpu_memory_usage",
              "self_cpu_memory_usage", "count", "flops", "cuda_time", "cuda_time_total",
              "self_cuda_time_total", "device_time", "device_time_total",
              "self_device_time_total", "cpu_memory_usage")


class EventList(list):
    """A list of :class:`FunctionEvent` or :class:`FunctionEventAvg`
    (``torch.autograd.profiler_util.EventList``) with ``table``, ``key_averages``,
    ``total_average``, ``export_chrome_trace`` and ``self_cpu_time_total``."""

    def __init__(self, events=(), profile_memory=False, with_flops=False):
        super().__init__(events)
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    @property
    def self_cpu_time_total(self):
        """The sum of every event's self time (us): the profiled time."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """One :class:`FunctionEventAvg` per name (and input shapes, and the first
        ``group_by_stack_n`` stack entries, when asked), in order of first appearance."""
        groups = {}
        for e in self:
            if isinstance(e, FunctionEventAvg):
                key = (e.key, str(e.input_shapes) if group_by_input_shape else None,
                       tuple((e.stack or [])[:group_by_stack_n]) if group_by_stack_n else None)
            else:
                key = (e.key, str(e.input_shapes) if group_by_input_shape else None,
                       tuple(e.stack[:group_by_stack_n]) if group_by_stack_n else None)
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(
                    e.key, e.input_shapes if group_by_input_shape else None,
                    list(key[2]) if group_by_stack_n else None)
            avg.add(e)
        return EventList(groups.values(), self._profile_memory, self._with_flops)

    def total_average(self):
        """All events summed into one :class:`FunctionEventAvg` keyed ``'Total'``."""
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """PyTorch's profiler table as text: Name, Self CPU %, Self CPU, CPU total %, CPU total,
        CPU time avg, [CPU Mem, Self CPU Mem with ``profile_memory``], # of Calls, [Input Shapes
        when grouped by them], [Source Location with stacks], [Total FLOPs with ``with_flops``].
        Percentages are of the sum of self times (the ``Self CPU time total`` line).

        Args:
            sort_by (str, optional): an attribute to sort by, descending: ``'cpu_time'``,
                ``'cpu_time_total'``, ``'self_cpu_time_total'``, ``'cpu_memory_usage'``,
                ``'self_cpu_memory_usage'``, ``'count'`` (device keys are all 0 here).
            row_limit (int): at most this many rows (``-1`` or ``None``: all).
            top_level_events_only (bool): only events without a parent.
            time_unit (str, optional): ``'s'``, ``'ms'`` or ``'us'`` for every time cell.

        Raises:
            ValueError: for an unknown ``sort_by``.
        """
        return _build_table(self, sort_by, row_limit, max_src_column_width,
                            max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only, time_unit)

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path):
        """Write these events as a Chrome trace (JSON; ``.gz`` paths are gzipped)."""
        _write_trace([e for e in self if isinstance(e, FunctionEvent)], path)


def _build_table(events, sort_by, row_limit, max_src, max_name, max_shapes, header, top_only,
                 time_unit):
    if sort_by is not None:
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"table: unknown sort_by {sort_by!r}; expected one of "
                             f"{', '.join(dict.fromkeys(_SORT_KEYS))}")
    rows = list(events)
    if top_only:
        rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
    if not rows:
        return ""
    total_self = sum(e.self_cpu_time_total for e in events)
    if sort_by is not None:
        rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)

    def fmt_time(us):
        if time_unit == "s":
            return f"{us / 1e6:.3f}s"
        if time_unit == "ms":
            return f"{us / 1e3:.3f}ms"
        if time_unit == "us":
            return f"{us:.3f}us"
        return _format_time(us)

    name_w = max(len(e.key) for e in rows) + 4
    if max_name is not None:
        name_w = min(name_w, max_name)
    has_shapes = any(e.input_shapes for e in rows)
    shapes_w = min(max(len(str(e.input_shapes)) for e in rows) + 4, max_shapes or 10 ** 9)
    has_stack = any(e.stack for e in rows)
    src_w = 0
    if has_stack:
        src_w = min(max(len(s) for e in rows for s in (e.stack or [""])) + 4,
                    max_src or 10 ** 9)
    with_flops = events._with_flops and any(e.flops > 0 for e in rows)
    profile_memory = events._profile_memory
    if row_limit is not None and row_limit >= 0:
        rows = rows[:row_limit]

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_w] + [12] * (len(headers) - 1)
    align = [">"] * len(headers)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_w)
        align.append(">")
    if has_stack:
        headers.append("Source Location")
        widths.append(src_w)
        align.append("<")
    flops_scale, flops_head = 1, "FLOPs"
    if with_flops:
        smallest = min(e.flops for e in rows if e.flops > 0)
        k = min(int(np.log10(smallest) // 3), 5) if smallest > 0 else 0
        flops_scale = 10.0 ** (-3 * k)
        flops_head = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"][k]
        headers.append(f"Total {flops_head}")
        widths.append(12)
        align.append(">")

    def line(cells):
        return "".join(f"{c:{a}{w}}  " for c, a, w in zip(cells, align, widths))

    def clip(text, w):
        return text if len(text) <= w else text[:w - 3] + "..."

    sep = "".join("-" * w + "  " for w in widths)
    out = []
    if header is not None:
        out += ["=" * (sum(widths) + 2 * (len(widths) - 1)), header]
    if top_only:
        out += ["=" * (sum(widths) + 2 * (len(widths) - 1)),
                "This report only display top-level ops statistics"]
    out += [sep, line(headers), sep]
    for e in rows:
        cells = [clip(e.key, name_w - 1),
                 _format_share(e.self_cpu_time_total, total_self), fmt_time(e.self_cpu_time_total),
                 _format_share(e.cpu_time_total, total_self), fmt_time(e.cpu_time_total),
                 fmt_time(e.cpu_time)]
        if profile_memory:
            cells += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        cells.append(str(e.count))
        stack = e.stack or []
        if has_shapes:
            cells.append(clip(str(e.input_shapes), shapes_w - 1))
        if has_stack:
            cells.append(clip(stack[0], src_w - 1) if stack else "")
        if with_flops:
            cells.append(f"{e.flops * flops_scale:8.3f}" if e.flops > 0 else "--")
        out.append(line(cells))
        if has_stack:
            for s in stack[1:]:
                extra = [""] * len(headers)
                extra[headers.index("Source Location")] = clip(s, src_w - 1)
                out.append(line(extra))
            if len(stack) > 1:
                out.append(line([""] * len(headers)))
    out.append(sep)
    out.append(f"Self CPU time total: {fmt_time(total_self)}")
    return "\n".join(out) + "\n"


def _write_trace(events, path):
    pid = os.getpid()
    trace = []
    threads = sorted({e.thread for e in events})
    trace.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                  "args": {"name": "python (tapegrad)"}})
    for t in threads:
        trace.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": t,
                      "args": {"name": f"thread {t}"}})
    for e in events:
        args = {}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        if e.cpu_memory_usage:
            args["Memory (bytes)"] = e.cpu_memory_usage
        if e.flops:
            args["Flops"] = e.flops
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        cat = "user_annotation" if e.is_user_annotation else "cpu_op"
        trace.append({"ph": "X", "cat": cat, "name": e.name, "pid": pid, "tid": e.thread,
                      "ts": round(e.time_range.start, 3),
                      "dur": round(e.time_range.elapsed_us(), 3), "args": args})
    doc = {"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": trace,
           "traceName": os.path.basename(str(path)), "producer": "tapegrad autograd.profiler"}
    data = json.dumps(doc)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(data)
    else:
        with open(path, "w") as f:
            f.write(data)


def _build_events(rows, t0, profile_memory, with_flops):
    events = []
    for i, (name, start, end, parent, thread, shapes, mem, flops, stack, kind) in enumerate(rows):
        if end == 0:  # still open when the profiler stopped: ends at the last timestamp
            end = max(r[2] for r in rows)
        ev = FunctionEvent(i, name, thread, (start - t0) / 1e3, (end - t0) / 1e3, shapes,
                           mem if profile_memory else 0, flops, stack,
                           is_user_annotation=kind == "user", is_backward=kind == "backward")
        events.append(ev)
        if parent >= 0:
            ev.cpu_parent = events[parent]
            events[parent].cpu_children.append(ev)
    return EventList(events, profile_memory, with_flops)


# ======================================================================================
# the public context managers
# ======================================================================================

class profile:
    """Record the ops run inside the ``with`` block (``torch.profiler.profile``, and
    ``torch.autograd.profiler.profile`` whose arguments it accepts too).

    Args:
        activities (iterable of ProfilerActivity, optional): what to record; only
            ``ProfilerActivity.CPU`` exists here (CUDA warns and is ignored). For
            ``torch.autograd.profiler.profile(enabled)`` code, a bool first argument is read as
            ``enabled``.
        schedule (callable, optional): ``step -> ProfilerAction`` (see :func:`schedule`);
            :meth:`step` advances it. Default: record every step.
        on_trace_ready (callable, optional): ``fn(prof)``, called at the end of each recorded
            cycle of the schedule (and at the end of the block when recording then), e.g.
            :func:`tensorboard_trace_handler`.
        record_shapes (bool): keep the shapes of each call's array inputs.
        profile_memory (bool): keep the net bytes NumPy allocated during each call (uses
            :mod:`tracemalloc`, which it starts for the block when it is not running).
        with_stack (bool): keep the Python stack of each call (slow).
        with_flops (bool): count the FLOPs of matrix products, convolutions, attention and
            recurrent layers (2 per multiply-add).
        with_modules (bool): accepted, ignored.
        enabled (bool): ``False`` records nothing (``torch.autograd.profiler.profile``).
        use_cuda, use_device, use_cpu, experimental_config, acc_events, use_kineto: accepted
            for compatibility (``use_cuda=True`` warns).

    After the block, :meth:`events`, :meth:`key_averages`, :meth:`table`,
    :meth:`export_chrome_trace`, :meth:`export_stacks` and ``self_cpu_time_total`` give the
    result. Times are microseconds of wall time.

    Raises:
        RuntimeError: when another profiler is already recording (one at a time, as PyTorch).
    """

    def __init__(self, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 *, enabled=True, use_cuda=False, use_device=None, use_cpu=True,
                 use_kineto=False, custom_trace_id_callback=None):
        if isinstance(activities, bool):  # torch.autograd.profiler.profile(enabled, ...)
            enabled, activities = activities, None
        acts = set(activities) if activities is not None else {ProfilerActivity.CPU}
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile: activities must be ProfilerActivity values, got "
                                f"{a!r}")
        if acts - {ProfilerActivity.CPU} or use_cuda or use_device not in (None, "cpu"):
            warnings.warn("profile: tapegrad runs on the CPU only; only CPU activity is "
                          "recorded", stacklevel=2)
        if schedule is not None and not callable(schedule):
            raise TypeError("profile: schedule must be callable (step -> ProfilerAction)")
        self.activities = acts
        self.enabled = bool(enabled) and use_cpu
        self.schedule = schedule or _default_schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = bool(record_shapes)
        self.profile_memory = bool(profile_memory)
        self.with_stack = bool(with_stack)
        self.with_flops = bool(with_flops)
        self.with_modules = bool(with_modules)
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._rec = None
        self._t0 = None
        self._rows = []       # rows of the finished recordings since the last trace
        self._events = None   # built lazily from _rows
        self._started_tracemalloc = False
        self._step_row = None
        self._saved = False

    # --- start / stop ------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        """Start profiling (the ``with`` block's entry)."""
        if not self.enabled:
            return
        self._t0 = time.perf_counter_ns()
        self.current_action = self.schedule(self.step_num)
        self._transition(ProfilerAction.NONE, self.current_action)

    def stop(self):
        """Stop profiling (the ``with`` block's exit); runs ``on_trace_ready`` when a recording
        was under way."""
        if not self.enabled:
            return
        if self._rec is not None:
            self._stop_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def step(self):
        """Mark the end of one training step: advance the schedule (recording starts or stops,
        ``on_trace_ready`` runs after a ``RECORD_AND_SAVE`` step), and record a
        ``ProfilerStep#N`` range per step while recording."""
        if not self.enabled:
            return
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transition(prev, self.current_action)

    def _transition(self, prev, new):
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if self._rec is not None and self._step_row is not None:
            self._rec.close(self._step_row)
            self._step_row = None
        if prev == ProfilerAction.RECORD_AND_SAVE or (prev in recording and new not in recording):
            if self._rec is not None:
                self._stop_recording()
                if prev == ProfilerAction.RECORD_AND_SAVE:
                    self._saved = True
                    if self.on_trace_ready is not None:
                        self.on_trace_ready(self)
        if new in recording:
            if self._rec is None:
                if self._saved:  # a new cycle after a saved one: a new trace
                    self._rows = []
                    self._events = None
                    self._saved = False
                self._start_recording()
            if self.schedule is not _default_schedule or self.step_num:
                self._step_row = self._rec.open(f"ProfilerStep#{self.step_num}", None, "user")

    def _start_recording(self):
        rec = _Recorder(self.record_shapes, self.profile_memory, self.with_stack,
                        self.with_flops)
        with _lock:
            if _active is not None or _orig:
                raise RuntimeError("profile: another profiler is already recording (only one "
                                   "can be active at a time)")
            if self.profile_memory and not tracemalloc.is_tracing():
                tracemalloc.start()
                self._started_tracemalloc = True
            _install(rec)
        self._rec = rec

    def _stop_recording(self):
        with _lock:
            _uninstall()
            if self._started_tracemalloc:
                tracemalloc.stop()
                self._started_tracemalloc = False
        rec, self._rec = self._rec, None
        if self._step_row is not None:
            rec.close(self._step_row)
            self._step_row = None
        self._rows.extend(rec.rows)
        self._events = None

    # --- results ------------------------------------------------------------------------------
    def events(self):
        """Every recorded call as an :class:`EventList` of :class:`FunctionEvent`."""
        if self._events is None:
            self._events = _build_events(self._rows, self._t0 or 0, self.profile_memory,
                                         self.with_flops)
        return self._events

    function_events = property(events)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events averaged per name (see :meth:`EventList.key_averages`)."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by=None, row_limit=100, **kwargs):
        """``key_averages().table(...)`` (``torch.autograd.profiler.profile.table``)."""
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def export_chrome_trace(self, path):
        """Write the trace as Chrome Trace Event JSON (``.gz``: gzipped), which
        ``chrome://tracing`` and https://ui.perfetto.dev open: one complete (``"ph": "X"``)
        event per call, timestamps in microseconds, input shapes and memory in ``args``."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write ``frame;frame;...;op value`` lines (outermost frame first) for a flame graph
        (``flamegraph.pl``, speedscope); needs ``with_stack=True``. ``metric`` is
        ``'self_cpu_time_total'`` (us).

        Raises:
            ValueError: without stacks, or for another metric.
        """
        if metric not in ("self_cpu_time_total", "self_cpu_time"):
            raise ValueError(f"export_stacks: metric must be 'self_cpu_time_total', got "
                             f"{metric!r}")
        evs = self.events()
        if not any(e.stack for e in evs):
            raise ValueError("export_stacks: no stacks were recorded; profile with "
                             "with_stack=True")
        with open(path, "w") as f:
            for e in evs:
                if e.stack:
                    frames = ";".join(s.replace(";", ":") for s in reversed(e.stack))
                    f.write(f"{frames};{e.name} {int(e.self_cpu_time_total)}\n")

    @property
    def self_cpu_time_total(self):
        """The sum of the self times of every event (us)."""
        return self.events().self_cpu_time_total

    def __str__(self):
        return self.table()


class record_function:
    """Label a range of code in the profile (``torch.profiler.record_function`` /
    ``torch.autograd.profiler.record_function``): a context manager, or a decorator. The range
    is an event of its own, with the ops run inside it as its children. Without a recording
    profiler it does nothing (one global read on entry).

    Args:
        name (str): the label shown in the table and the trace.
        args (str, optional): PyTorch's optional extra string; accepted and ignored.
    """

    def __init__(self, name, args=None):
        self.name = str(name)
        self.args = args
        self._idx = None
        self._rec = None

    def __enter__(self):
        rec = _active
        if rec is not None:
            self._rec = rec
            self._idx = rec.open(self.name, None, "user")
        return self

    def __exit__(self, *exc):
        if self._rec is not None:
            self._rec.close(self._idx)
            self._rec = self._idx = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            with record_function(self.name, self.args):
                return fn(*a, **k)
        return wrapper



class _FlopCounter:
    """A recording profiler with ``with_flops`` whose running total can be read at any time
    (``Module.summary``'s Mult-Adds): ``mark()`` returns a position in the event list and
    ``flops_since(position)`` the FLOPs of the ops recorded after it. When another profiler is
    already recording, counts nothing (``available`` is False)."""

    def __init__(self):
        self._prof = profile(with_flops=True)
        self.available = False

    def __enter__(self):
        try:
            self._prof.__enter__()
            self.available = True
        except RuntimeError:
            self.available = False
        return self

    def __exit__(self, *exc):
        if self.available:
            self._prof.__exit__(*exc)
        return False

    def mark(self):
        rec = self._prof._rec
        return len(rec.rows) if rec is not None else 0

    def flops_since(self, position):
        rec = self._prof._rec
        if rec is None:
            return 0
        return sum(r[7] for r in rec.rows[position:])

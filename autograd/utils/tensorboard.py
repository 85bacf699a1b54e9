"""TensorBoard logging (``torch.utils.tensorboard``): :class:`SummaryWriter` writes real event
files through `tensorboardX <https://github.com/lanpa/tensorboardX>`_, a maintained writer
library; view them with ``tensorboard --logdir runs``.

::

    from autograd.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/exp1") as writer:
        for step in range(100):
            writer.add_scalar("train/loss", loss.item(), step)
        writer.add_histogram("fc1.weight", model.fc1.weight, step)
        writer.add_graph(model, example_batch)

Tensors are handed to the writer as NumPy arrays (the writer library never sees a tapegrad
Tensor). ``add_graph`` draws the graph of one traced forward (the same trace as
:func:`autograd.onnx.export`, which needs no ``onnx`` package for this): one node per op, named
``aten::<op>`` as the profiler names them, grouped by the submodule that ran it
(``Net/Linear[fc1]/aten::linear``), with the output shapes.

Differences from PyTorch: ``add_scalar``'s ``new_style`` and ``double_precision`` are accepted
and ignored (tensorboardX writes the classic scalar summary); ``add_graph``'s
``use_strict_trace`` is ignored (there is no TorchScript).
"""

import os
import sys

import numpy as np

from ..tensor import Tensor

__all__ = ["SummaryWriter"]


def _tensorboardx():
    """Import tensorboardX without letting it import PyTorch (it tries, to recognise torch
    tensors; tapegrad never hands it one)."""
    mod = sys.modules.get("tensorboardX")
    if mod is not None:
        return mod
    blocked = "torch" not in sys.modules
    if blocked:
        sys.modules["torch"] = None  # makes `import torch` inside it raise ImportError
    try:
        import tensorboardX
    except ImportError:
        raise ImportError("autograd.utils.tensorboard needs the 'tensorboardX' package: pip "
                          "install 'tapegrad[tensorboard]' (or pip install tensorboardX "
                          "tensorboard)") from None
    finally:
        if blocked and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return tensorboardX


def _np(x):
    """A Tensor (or a list/tuple of them) as NumPy; other values unchanged."""
    if isinstance(x, Tensor):
        return np.asarray(x._data)
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, Tensor) for v in x):
        return np.stack([np.asarray(v._data) for v in x])
    return x


def _scalar(x):
    if isinstance(x, Tensor):
        if x._data.size != 1:
            raise ValueError(f"SummaryWriter: a scalar must have one element, got a tensor of "
                             f"shape {tuple(x.shape)}")
        return x._data.reshape(()).item()
    if isinstance(x, np.ndarray):
        return x.reshape(()).item()
    return x


class SummaryWriter:
    """Write TensorBoard event files into ``log_dir`` (``torch.utils.tensorboard.SummaryWriter``).

    Args:
        log_dir (str, optional): the directory; default ``runs/<datetime>_<hostname><comment>``.
        comment (str): suffix of the default ``log_dir``.
        purge_step (int, optional): hide events at or after this step from an earlier run that
            crashed (TensorBoard's purge).
        max_queue (int): events queued before a write to disk.
        flush_secs (int): seconds between flushes.
        filename_suffix (str): suffix of the event file names.

    Raises:
        ImportError: without tensorboardX (the extra ``tapegrad[tensorboard]``).
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        tbx = _tensorboardx()
        self._writer = tbx.SummaryWriter(logdir=log_dir, comment=comment,
                                         purge_step=purge_step, max_queue=max_queue,
                                         flush_secs=flush_secs, filename_suffix=filename_suffix)
        self.log_dir = self._writer.logdir
        self._sub = {}  # add_scalars' writers, one per run
        self._max_queue, self._flush_secs = max_queue, flush_secs

    def get_logdir(self):
        """The directory the event files are written to."""
        return self.log_dir

    # --- the summaries --------------------------------------------------------------------
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number (a Python number or a one-element Tensor) under ``tag`` at
        ``global_step``."""
        self._writer.add_scalar(tag, _scalar(scalar_value), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers in one chart: ``{name: value}``; each is written to a run of
        its own (``<log_dir>/<main_tag>_<name>``), as PyTorch does."""
        tbx = _tensorboardx()
        for tag, value in tag_scalar_dict.items():
            logdir = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            w = self._sub.get(logdir)
            if w is None:
                w = self._sub[logdir] = tbx.SummaryWriter(logdir=logdir,
                                                          max_queue=self._max_queue,
                                                          flush_secs=self._flush_secs)
            w.add_scalar(main_tag, _scalar(value), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """Log a histogram of ``values`` (a Tensor or array); ``bins`` is ``'tensorflow'``,
        a NumPy bins string or a number of bins."""
        self._writer.add_histogram(tag, np.asarray(_np(values), dtype=np.float64), global_step,
                                   bins, walltime, max_bins)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log one image: shape ``(3, H, W)``/``(1, H, W)`` for ``'CHW'`` (or as
        ``dataformats`` says: ``'HWC'``, ``'HW'``...); floats in [0, 1] or uint8 in [0, 255]."""
        self._writer.add_image(tag, _np(img_tensor), global_step, walltime, dataformats)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images ``(N, 3, H, W)`` (or per ``dataformats``) as one grid."""
        self._writer.add_images(tag, _np(img_tensor), global_step, walltime, dataformats)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Log a matplotlib figure (or a list of them) as an image; ``close`` closes it."""
        self._writer.add_figure(tag, figure, global_step, close, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a (Markdown) string."""
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        """Log one run's hyper-parameters (``{name: bool/str/number}``) with its metrics
        (``{name: number}``) for TensorBoard's HParams tab; written to a sub-run ``run_name``
        (default: the time), as PyTorch does.

        Raises:
            TypeError: if either argument is not a dict.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("add_hparams: hparam_dict and metric_dict should be dictionary.")
        hp = {k: _scalar(v) for k, v in hparam_dict.items()}
        metrics = {k: _scalar(v) for k, v in metric_dict.items()}
        self._writer.add_hparams(hp, metrics, name=run_name, global_step=global_step)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127,
                     weights=None, walltime=None):
        """Log a precision-recall curve of binary ``labels`` against ``predictions`` in
        [0, 1]."""
        self._writer.add_pr_curve(tag, _np(labels), _np(predictions), global_step,
                                  num_thresholds, _np(weights), walltime)

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None,
                      tag="default", metadata_header=None):
        """Log an embedding ``(N, D)`` for the projector, with optional labels and images."""
        self._writer.add_embedding(_np(mat), metadata, _np(label_img), global_step, tag,
                                   metadata_header)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Log the graph of ``model(*input_to_model)``: one traced forward, one node per op,
        grouped by submodule, with output shapes (see the module docstring).

        Args:
            model (Module or callable): the model.
            input_to_model (Tensor or tuple of Tensors): its example input(s).
            verbose (bool): also print the nodes.
        """
        graph_def = _graph_def(model, input_to_model, verbose)
        tbx = _tensorboardx()
        event = tbx.proto.event_pb2.Event(graph_def=graph_def.SerializeToString())
        self._writer._get_file_writer().add_event(event)

    def __getattr__(self, name):
        # other tensorboardX add_* methods (add_audio, add_video, add_mesh, add_custom_scalars):
        # passed through with Tensors turned into arrays
        if name.startswith("add_") and name != "_writer":
            method = getattr(self._writer, name)

            def call(*args, **kwargs):
                return method(*[_np(a) for a in args], **{k: _np(v) for k, v in kwargs.items()})
            call.__name__ = name
            return call
        raise AttributeError(f"'SummaryWriter' object has no attribute '{name}'")

    # --- lifetime ---------------------------------------------------------------------------
    def flush(self):
        """Write the pending events to disk."""
        self._writer.flush()
        for w in self._sub.values():
            w.flush()

    def close(self):
        """Flush and close the event files."""
        self._writer.close()
        for w in self._sub.values():
            w.close()
        self._sub.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _graph_def(model, input_to_model, verbose):
    """A TensorFlow ``GraphDef`` (what TensorBoard's graph tab reads) of one traced forward."""
    from ..onnx import _trace
    from ..onnx._graph import _needed, _tensor_args
    from ..profiler import _op_name
    tbx = _tensorboardx()
    pb = tbx.proto
    if input_to_model is None:
        raise ValueError("add_graph: input_to_model is required (tapegrad traces one forward)")
    pos, kw = _trace.split_args(input_to_model)

    # which submodule is running when each op is recorded (forward pre/post hooks)
    scopes = []       # (record index where a module's forward starts, scope name)
    root = type(model).__name__
    handles = []
    named = getattr(model, "named_modules", None)
    if callable(named):
        stack = [root]
        for name, m in named():
            if not name:
                continue
            scope = root + "".join(f"/{type(s).__name__}[{p}]" for s, p in
                                   _path(model, name))

            def pre(mod, args, scope=scope):
                stack.append(scope)
                scopes.append((len(_trace._active[-1].records), scope))

            def post(mod, args, out):
                stack.pop()
                scopes.append((len(_trace._active[-1].records), stack[-1]))
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
    try:
        tr = _trace.trace(model, pos, kw)
    finally:
        for h in handles:
            h.remove()

    def scope_of(index):
        cur = root
        for start, scope in scopes:
            if start > index:
                break
            cur = scope
        return cur

    def shape_attr(t):
        dims = [pb.tensor_shape_pb2.TensorShapeProto.Dim(size=int(n)) for n in t.shape]
        return pb.attr_value_pb2.AttrValue(list=pb.attr_value_pb2.AttrValue.ListValue(
            shape=[pb.tensor_shape_pb2.TensorShapeProto(dim=dims)]))

    nodes = []
    names = {}  # id(Tensor) / ("fn", id(node)) / ("arr", id(array)) -> node name

    def register(t, name):
        names[id(t)] = name
        names[("arr", id(t._data))] = name
        if t.grad_fn is not None:
            names[("fn", id(t.grad_fn))] = name

    def lookup(x):
        if isinstance(x, Tensor):
            if x.grad_fn is not None and ("fn", id(x.grad_fn)) in names:
                return names[("fn", id(x.grad_fn))]
            return names.get(id(x), names.get(("arr", id(x._data))))
        return names.get(("arr", id(x)))

    for i, t in enumerate(tr.inputs):
        name = f"input/input.{i}"
        nodes.append(pb.node_def_pb2.NodeDef(name=name, op="IO Node",
                                             attr={"_output_shapes": shape_attr(t)}))
        register(t, name)
    params = {}
    for r in _needed(tr, tr.outputs):
        rec = tr.records[r]
        inputs = []
        for a in _tensor_args(rec):
            src = lookup(a)
            if src is None:
                data = a._data if isinstance(a, Tensor) else a
                pname = tr.names.get(id(data))
                if pname is None:
                    continue  # a constant: not drawn
                src = params.get(pname)
                if src is None:
                    src = params[pname] = f"{root}/{pname.replace('.', '/')}"
                    nodes.append(pb.node_def_pb2.NodeDef(
                        name=src, op="prim::GetAttr",
                        attr={"_output_shapes": shape_attr(np.asarray(data))}))
            inputs.append(src)
        op = _op_name(rec.cls) if rec.cls.__name__ not in ("Compare", "Predicate") else \
            f"aten::{rec.attrs.get('fn') or getattr(rec.attrs.get('ufunc'), '__name__', 'cmp')}"
        name = f"{scope_of(r)}/{op}_{r}"
        others = [repr(a) for a in rec.args if not isinstance(a, (Tensor, np.ndarray))]
        attr = {"_output_shapes": shape_attr(rec.out._data),
                "attr": pb.attr_value_pb2.AttrValue(s=", ".join(others)[:500].encode())}
        nodes.append(pb.node_def_pb2.NodeDef(name=name, op=op, input=inputs, attr=attr))
        register(rec.out, name)
        if verbose:
            print(f"{name}: {op}({', '.join(inputs)}) -> {tuple(rec.out.shape)}")
    for i, t in enumerate(tr.outputs):
        src = lookup(t)
        nodes.append(pb.node_def_pb2.NodeDef(
            name=f"output/output.{i}", op="IO Node", input=[src] if src else [],
            attr={"_output_shapes": shape_attr(t)}))
    return pb.graph_pb2.GraphDef(node=nodes, versions=pb.versions_pb2.VersionDef(producer=22))


def _path(model, dotted):
    """``[(module, attribute name), ...]`` along the dotted submodule name."""
    out = []
    cur = model
    for part in dotted.split("."):
        cur = cur._modules[part]
        out.append((cur, part))
    return out

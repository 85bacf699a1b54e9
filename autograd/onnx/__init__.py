"""Export a model to ONNX (``torch.onnx.export``), written with the ``onnx`` package.

::

    import autograd.onnx
    model.eval()
    autograd.onnx.export(model, autograd.randn(1, 1, 28, 28), "lenet.onnx",
                         input_names=["image"], output_names=["logits"],
                         dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})

    import onnxruntime                                     # runs it anywhere ONNX runs
    sess = onnxruntime.InferenceSession("lenet.onnx")
    logits, = sess.run(None, {"image": images})

How it works. The model is called once on ``args`` while every op call is recorded (see
:mod:`autograd.onnx._trace`: each op of the library is an :class:`autograd.graph.Node`, and
``Node.apply`` is swapped for a recording version during the call only). The ops that the
outputs depend on are mapped, in order, to ONNX operators (:mod:`autograd.onnx._ops`); the
model's parameters and buffers become initializers under their ``state_dict`` names, and the
graph is checked with ``onnx.checker.check_model(full_check=True)``.

The model is called a second time, on inputs whose values differ and whose dynamic axes
(``dynamic_axes``) are one longer. Comparing the two calls tells (a) which dimensions of every
intermediate value follow the dynamic axes, so that reshapes use ``0``/``-1`` there instead of
the traced sizes, and (b) whether any tensor the graph would store as a constant was in fact
computed from the inputs outside the recorded ops (for example with ``.numpy()``); such a
model cannot be exported faithfully, and ``export`` raises instead of baking the traced value
in. A model whose sequence of ops changes with the inputs (data-dependent Python control flow)
raises too.

Differences from PyTorch: the result is also returned (the ``onnx.ModelProto``); ``training``
defaults to eval mode as PyTorch's (``TrainingMode.EVAL``), and the training mode of every
submodule is restored afterwards; ``do_constant_folding``, ``keep_initializers_as_inputs``,
``custom_opsets``, ``export_modules_as_functions``, ``dynamo`` are accepted and ignored (ONNX
Runtime folds constants itself); ``opset_version`` must be 14 to 21.
"""

import enum
import io
import os

import numpy as np

from ..tensor import Tensor
from . import _trace

__all__ = ["export", "OnnxExporterError", "UnsupportedOperatorError", "TrainingMode",
           "supported_ops"]


class OnnxExporterError(RuntimeError):
    """The model cannot be exported (``torch.onnx.errors.OnnxExporterError``)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op of the model has no ONNX mapping (``torch.onnx.errors.UnsupportedOperatorError``);
    the message names it."""


class TrainingMode(enum.IntEnum):
    """``torch.onnx.TrainingMode``: the mode the model is exported in."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("autograd.onnx needs the 'onnx' package: pip install "
                          "'tapegrad[onnx]' (or pip install onnx; onnxruntime runs the "
                          "exported model)") from None
    return onnx


def supported_ops():
    """The names of the library's op classes that :func:`export` maps to ONNX."""
    from ._ops import CONVERTERS
    return sorted(CONVERTERS)


def export(model, args, f, export_params=True, verbose=False, training=TrainingMode.EVAL,
           input_names=None, output_names=None, operator_export_type=None, opset_version=17,
           do_constant_folding=True, dynamic_axes=None, keep_initializers_as_inputs=None,
           custom_opsets=None, export_modules_as_functions=False, autograd_inlining=True,
           dynamo=False, **kwargs):
    """Trace ``model(*args)`` and write it as an ONNX model to ``f`` (``torch.onnx.export``).

    Args:
        model (Module or callable): the model; a Module is put in eval mode for the export
            (``training``) and restored afterwards.
        args (Tensor or tuple): the example inputs: a Tensor, or a tuple of Tensors whose last
            element may be a dict of keyword-argument Tensors.
        f (str, os.PathLike or file-like): where to write the ``.onnx`` bytes.
        export_params (bool): store the parameters as initializers (default); ``False`` makes
            them graph inputs instead.
        verbose (bool): print the graph (``onnx.helper.printable_graph``).
        training (TrainingMode): ``EVAL`` (default), ``PRESERVE`` or ``TRAINING``.
        input_names (list of str, optional): names of the graph inputs, in order (default:
            the forward's parameter names).
        output_names (list of str, optional): names of the graph outputs (default
            ``output``, or ``output_0``, ``output_1``...).
        opset_version (int): the ONNX opset, 14 to 21 (default 17).
        dynamic_axes (dict, optional): ``{name: {axis: "dim_name"}}`` or ``{name: [axes]}``
            for inputs and outputs whose sizes vary (e.g. the batch axis).

    Returns:
        onnx.ModelProto: the model that was written (PyTorch returns None).

    Raises:
        ImportError: without the ``onnx`` package (the extra ``tapegrad[onnx]``).
        UnsupportedOperatorError: for an op without an ONNX mapping (named in the message).
        OnnxExporterError: when the model's ops or constants depend on its inputs in a way
            the trace cannot express (see the module docstring), or for bad names/axes.
        TypeError, ValueError: for malformed ``args``, ``dynamic_axes`` or ``opset_version``.
    """
    onnx = _onnx()
    if not isinstance(opset_version, int) or not 14 <= opset_version <= 21:
        raise ValueError(f"onnx.export: opset_version must be an int from 14 to 21, got "
                         f"{opset_version!r}")
    pos, kw = _trace.split_args(args)
    example = pos + list(kw.values())
    in_names = list(input_names) if input_names is not None else \
        _trace.input_names_of(model, len(pos), kw)
    if len(in_names) != len(example):
        raise OnnxExporterError(f"onnx.export: {len(in_names)} input_names for {len(example)} "
                                f"inputs")
    dyn = _dynamic_axes(dynamic_axes, in_names, example)

    flags = _set_mode(model, training)
    try:
        t1 = _trace.trace(model, pos, kw)
        pos2, kw2 = _second_inputs(pos, kw, in_names, dyn)
        t2 = _trace.trace(model, pos2, kw2)
    finally:
        _restore_mode(flags)

    n_out = len(t1.outputs)
    if output_names is None:
        out_names = ["output"] if n_out == 1 else [f"output_{i}" for i in range(n_out)]
    else:
        out_names = list(output_names)
        if len(out_names) > n_out:
            raise OnnxExporterError(f"onnx.export: {len(out_names)} output_names for {n_out} "
                                    f"outputs")
        out_names += [f"output_{i}" for i in range(len(out_names), n_out)]
    for name in dyn:
        if name not in in_names and name not in out_names:
            raise OnnxExporterError(f"onnx.export: dynamic_axes names {name!r}, which is "
                                    f"neither an input ({in_names}) nor an output ({out_names})")
    for name, value in (dynamic_axes or {}).items():
        if name in out_names:
            dyn[name] = _axes_dict(name, value)

    from ._graph import build
    model_proto = build(onnx, t1, t2, in_names, out_names, dyn, opset_version, export_params)
    onnx.checker.check_model(model_proto, full_check=True)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    data = model_proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"onnx.export: f must be a path or a writable file object, got "
                        f"{type(f).__name__}")
    return model_proto


def _axes_dict(name, value):
    if isinstance(value, dict):
        out = {}
        for ax, dim in value.items():
            if not isinstance(ax, int):
                raise TypeError(f"onnx.export: dynamic_axes[{name!r}] keys must be ints, got "
                                f"{ax!r}")
            out[ax] = str(dim)
        return out
    if isinstance(value, (list, tuple)):
        return {int(ax): f"{name}_dynamic_axes_{i + 1}" for i, ax in enumerate(value)}
    raise TypeError(f"onnx.export: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a "
                    f"list of axes, got {type(value).__name__}")


def _dynamic_axes(dynamic_axes, in_names, example):
    """``{input name: {axis: dim name}}`` for the inputs, axes normalised and checked."""
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"onnx.export: dynamic_axes must be a dict, got "
                        f"{type(dynamic_axes).__name__}")
    out = {}
    for name, value in dynamic_axes.items():
        axes = _axes_dict(name, value)
        if name in in_names:
            t = example[in_names.index(name)]
            norm = {}
            for ax, dim in axes.items():
                if not -t.ndim <= ax < t.ndim:
                    raise OnnxExporterError(f"onnx.export: dynamic axis {ax} of input {name!r} "
                                            f"is out of range for its shape {tuple(t.shape)}")
                norm[ax % t.ndim] = dim
            out[name] = norm
        else:
            out[name] = axes
    return out


def _second_inputs(pos, kw, names, dyn):
    """Inputs for the second trace: other values (floats scaled and shifted, integers and
    bools rolled, so indices stay valid), and each dynamic axis one longer."""
    def make(t, name):
        a = t._data
        if a.dtype.kind == "f":
            b = (a * 0.75 + 0.125).astype(a.dtype)
        else:
            b = np.roll(a.reshape(-1), 1).reshape(a.shape) if a.size else a.copy()
        for ax in sorted(dyn.get(name, {})):
            b = np.concatenate([b, np.take(b, [0], axis=ax)], axis=ax)
        return Tensor._make(np.ascontiguousarray(b), False, None)

    pos2 = [make(t, names[i]) for i, t in enumerate(pos)]
    kw2 = {k: make(t, names[len(pos) + i]) for i, (k, t) in enumerate(kw.items())}
    return pos2, kw2


def _set_mode(model, training):
    """Put ``model`` in the export's mode; returns what restores it."""
    modules = getattr(model, "modules", None)
    if not callable(modules):
        return []
    flags = [(m, m.training) for m in modules()]
    if training == TrainingMode.EVAL:
        model.train(False)
    elif training == TrainingMode.TRAINING:
        model.train(True)
    return flags


def _restore_mode(flags):
    for m, flag in flags:
        object.__setattr__(m, "training", flag)


def _export_to_bytes(model, args, **kwargs):
    """``export`` into memory; returns ``(bytes, ModelProto)`` (used by the tests)."""
    buf = io.BytesIO()
    proto = export(model, args, buf, **kwargs)
    return buf.getvalue(), proto

"""A picture of the backward graph (torchviz's ``make_dot``), drawn with the ``graphviz``
package.

::

    from autograd.viz import make_dot
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    y = model(autograd.randn(2, 4))
    dot = make_dot(y, params=dict(model.named_parameters()))
    dot.render("graph", format="png")      # graph.png; needs Graphviz's `dot` program
    print(dot.source)                       # the DOT text, which needs nothing more

One box per graph node, named as PyTorch names it (``MulBackward0``, ``AccumulateGrad``),
with edges in the direction of the forward pass, as torchviz draws them: leaves (light blue,
labelled with the parameter's name and shape) at the top, the output (green, its shape) at the
bottom.
``show_saved=True`` adds the tensors each node saved for backward (orange, their shapes,
dashed edges); ``show_attrs=True`` lists each node's non-tensor attributes in its box.

The walk over the graph is iterative (a stack), so a graph of any depth draws without
recursion. Rendering (``.render``, ``.pipe``, ``.view``) runs Graphviz's ``dot``; when it is
not installed, the error says how to install it, and ``.source``/``.save()`` still work.
"""

import numpy as np

from .graph import _RELEASED, AccumulateGrad, Node, _edge, _Output
from .tensor import Tensor

__all__ = ["make_dot", "make_dot_from_trace", "ExecutableNotFound"]

_INSTALL = ("Graphviz's `dot` program is not installed (or not on PATH), so the graph cannot "
            "be rendered. Install it with `apt-get install graphviz` (Debian/Ubuntu), "
            "`dnf install graphviz` (Fedora), `brew install graphviz` (macOS) or "
            "`conda install graphviz`. Without it the DOT text is still available: "
            "`dot.source`, or `dot.save('graph.dot')`.")


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError("autograd.viz needs the 'graphviz' Python package: "
                          "pip install 'tapegrad[viz]' (or pip install graphviz); rendering "
                          "also needs Graphviz's `dot` program (apt-get install graphviz)"
                          ) from None
    return graphviz


def _digraph_class():
    """A ``graphviz.Digraph`` whose rendering methods explain how to install ``dot``."""
    graphviz = _graphviz()
    cls = globals().get("_Digraph")
    if cls is not None:
        return cls

    class NotFound(graphviz.ExecutableNotFound):
        """Graphviz's ``dot`` is missing: the message says how to install it."""

        def __init__(self, args):
            RuntimeError.__init__(self, _INSTALL)
            self.args_ = args

        def __str__(self):
            return _INSTALL

    def guard(name):
        method = getattr(graphviz.Digraph, name)

        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                if isinstance(e, NotFound):
                    raise
                raise NotFound(e.args) from None
        wrapper.__name__ = name
        wrapper.__doc__ = method.__doc__
        return wrapper

    ns = {n: guard(n) for n in ("render", "pipe", "view", "_repr_image_svg_xml",
                                "_repr_mimebundle_") if hasattr(graphviz.Digraph, n)}
    ns["__doc__"] = "``graphviz.Digraph`` of :func:`make_dot` (rendering needs ``dot``)."
    cls = type("Digraph", (graphviz.Digraph,), ns)
    cls.__module__ = __name__
    globals()["_Digraph"] = cls
    globals()["ExecutableNotFound"] = NotFound
    NotFound.__module__ = __name__
    NotFound.__qualname__ = "ExecutableNotFound"
    return cls


def __getattr__(name):
    if name == "ExecutableNotFound":
        _digraph_class()
        return globals()["ExecutableNotFound"]
    raise AttributeError(f"module 'autograd.viz' has no attribute '{name}'")


def _size(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def _node_name(fn):
    if isinstance(fn, AccumulateGrad):
        return "AccumulateGrad"
    if hasattr(fn, "_name"):  # the per-output node of a multi-output custom Function
        return fn._name()
    return fn.name()


def _attr_text(value, limit):
    if isinstance(value, Tensor):
        text = f"Tensor{_size(value.shape)}"
    elif isinstance(value, np.ndarray):
        text = f"array{_size(value.shape)} {value.dtype}" if value.size > 8 else repr(value)
    else:
        text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return text


def _attrs(fn, limit):
    """``name: value`` lines of a node's own non-tensor attributes (its ``__dict__``)."""
    lines = []
    d = getattr(fn, "__dict__", {})
    for k, v in d.items():
        if k.startswith("_") or callable(v):
            continue
        lines.append(f"{k}: {_attr_text(v, limit)}")
    return lines


def _saved(fn, param_map):
    """``(label, shape)`` per array saved by node ``fn`` for backward (empty once freed)."""
    saved = getattr(fn, "_saved", None)
    if saved is None or saved is _RELEASED:
        return []
    out = []
    for i, entry in enumerate(saved):
        obj = entry[0] if isinstance(entry, tuple) else entry
        if isinstance(obj, _Output):
            out.append(("result", obj._data.shape))
        elif isinstance(obj, (Tensor, np.ndarray)):
            out.append((param_map.get(id(obj), f"saved {i}"), obj.shape))
    return out


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """The backward graph of ``var`` as a ``graphviz.Digraph`` (torchviz's ``make_dot``).

    Args:
        var (Tensor or sequence of Tensor): the output(s) whose graph is drawn.
        params (dict of str -> Tensor, optional): names for leaf tensors, e.g.
            ``dict(model.named_parameters())``; a leaf is labelled ``name`` and its shape
            (unnamed leaves by their shape alone).
        show_attrs (bool): list each node's non-tensor attributes (what it keeps for backward,
            e.g. a convolution's stride) in its box.
        show_saved (bool): draw the arrays each node saved for backward, with their shapes
            (nothing once a backward without ``retain_graph=True`` has freed them).
        max_attr_chars (int): cut attribute values longer than this.

    Returns:
        graphviz.Digraph: ``.source`` is the DOT text; ``.render(name, format="png")`` writes
        ``name.png`` (needs Graphviz's ``dot``); in a notebook it shows itself.

    Raises:
        ImportError: without the ``graphviz`` Python package (the extra ``tapegrad[viz]``).
        TypeError: if ``var`` holds something other than Tensors, or ``params`` maps to
            non-Tensors.
    """
    Digraph = _digraph_class()
    outputs = tuple(var) if isinstance(var, (tuple, list)) else (var,)
    for i, v in enumerate(outputs):
        if not isinstance(v, Tensor):
            raise TypeError(f"make_dot: var must be a Tensor or a sequence of Tensors; element "
                            f"{i} is {type(v).__name__}")
    params = {} if params is None else dict(params)
    for k, v in params.items():
        if not isinstance(v, Tensor):
            raise TypeError(f"make_dot: params must map names to Tensors; {k!r} is "
                            f"{type(v).__name__}")
    param_map = {id(v): k for k, v in params.items()}

    dot = Digraph(node_attr=dict(style="filled", shape="box", align="left", fontsize="10",
                                 ranksep="0.1", height="0.2", fontname="monospace"),
                  graph_attr=dict(size="12,12"))

    def var_label(t, name=None):
        if not name:
            name = param_map.get(id(t), "")
        return f"{name}\n {_size(t.shape)}"

    seen = set()
    stack = []

    def visit(fn):
        if fn is None or id(fn) in seen:
            return
        seen.add(id(fn))
        stack.append(fn)

    for v in outputs:
        dot.node(str(id(v)), var_label(v), fillcolor="darkolivegreen1")
        if v.grad_fn is not None:
            visit(v.grad_fn)
            dot.edge(str(id(v.grad_fn)), str(id(v)))
        elif v.requires_grad:
            acc = _edge(v)[0]
            visit(acc)
            dot.edge(str(id(acc)), str(id(v)))

    while stack:
        fn = stack.pop()
        fid = str(id(fn))
        if isinstance(fn, AccumulateGrad):
            leaf = fn.variable
            dot.node(fid, "AccumulateGrad")
            if leaf is not None:
                dot.node(str(id(leaf)), var_label(leaf), fillcolor="lightblue")
                dot.edge(str(id(leaf)), fid)
            continue
        label = _node_name(fn)
        if show_attrs:
            lines = _attrs(fn, max_attr_chars)
            if lines:
                label += "\n" + "-" * max(len(x) for x in lines) + "\n" + "\n".join(lines)
        dot.node(fid, label)
        if show_saved:
            for j, (name, shape) in enumerate(_saved(fn, param_map)):
                sid = f"{fid}_saved{j}"
                dot.node(sid, f"{name}\n {_size(shape)}", fillcolor="orange")
                dot.edge(sid, fid, dir="none", style="dashed")
        if isinstance(fn, Node):
            for nxt, _ in fn.next_functions:
                if nxt is not None:
                    dot.edge(str(id(nxt)), fid)
                    visit(nxt)
    _resize(dot)
    return dot


def _resize(dot, size_per_element=0.15, min_size=12):
    """Grow the drawing's size with the number of nodes (torchviz's ``resize_graph``)."""
    n = len(dot.body)
    side = max(min_size, size_per_element * n)
    dot.graph_attr.update(size=f"{side},{side}")


def make_dot_from_trace(trace):
    """torchviz's ``make_dot_from_trace`` draws a TorchScript trace, which tapegrad does not
    have.

    Raises:
        NotImplementedError: always; draw the backward graph with :func:`make_dot`.
    """
    raise NotImplementedError("make_dot_from_trace: tapegrad has no TorchScript traces; use "
                              "make_dot(output) on the output of a forward pass")

"""autograd.viz.make_dot (torchviz's) and Module.summary's torchinfo columns."""

import shutil

import numpy as np
import pytest

import autograd
import nn
from autograd.viz import make_dot

try:
    import graphviz
except ImportError:  # the summary tests below need no graphviz
    graphviz = None
needs_graphviz = pytest.mark.skipif(graphviz is None, reason="the graphviz package is missing")


def _labels(dot):
    """node id -> label of a Digraph's body (``id [label=... ]`` lines)."""
    out = {}
    for line in dot.body:
        line = line.strip()
        if "->" in line or "[label=" not in line:
            continue
        nid, rest = line.split(" [label=", 1)
        label = rest.rsplit(" fillcolor=", 1)[0].rstrip("]").strip('"')
        out[nid.strip('"')] = label
    return out


def _edges(dot):
    out = []
    for line in dot.body:
        if "->" in line:
            a, b = line.strip().split(" -> ")
            out.append((a.strip('"'), b.split(" ")[0].strip('"')))
    return out


@needs_graphviz
def test_boxes_are_named_as_pytorch_names_them(torch):
    def names(lib, mk):
        x = mk(lib)
        y = (x * 2.0 + x.exp()).sum()
        seen, todo, out = set(), [y.grad_fn], []
        while todo:
            fn = todo.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            out.append(type(fn).__name__ if lib is torch else
                       ("AccumulateGrad" if isinstance(fn, autograd.graph.AccumulateGrad)
                        else fn.name()))
            todo.extend(n for n, _ in fn.next_functions)
        return sorted(out), y

    theirs, _ = names(torch, lambda t: t.ones(3, requires_grad=True))
    ours, y = names(autograd, lambda t: t.ones(3, requires_grad=True))
    assert ours == theirs
    labels = sorted(v for v in _labels(make_dot(y)).values() if "(" not in v)
    assert labels == theirs


@needs_graphviz
def test_params_outputs_and_edges():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    y = model(autograd.randn(2, 4))
    dot = make_dot(y, params=dict(model.named_parameters()))
    assert isinstance(dot, graphviz.Digraph)
    labels = _labels(dot)
    values = set(labels.values())
    for name, p in model.named_parameters():
        assert f"{name}\\n ({', '.join(map(str, p.shape))})" in values or \
            f"{name}\n ({', '.join(map(str, p.shape))})" in values
    assert list(labels.values()).count("LinearBackward0") == 2
    assert list(labels.values()).count("AccumulateGrad") == 4
    edges = _edges(dot)
    out_id = str(id(y))
    assert (str(id(y.grad_fn)), out_id) in edges          # the last node feeds the output
    for p in model.parameters():                           # each parameter feeds its node
        assert any(a == str(id(p)) for a, _ in edges)
    assert "fillcolor=lightblue" in dot.source and "fillcolor=darkolivegreen1" in dot.source


@needs_graphviz
def test_show_saved_and_show_attrs():
    x = autograd.randn(1, 2, 6, 6, requires_grad=True)
    w = autograd.randn(3, 2, 3, 3, requires_grad=True)
    y = autograd.ops.conv.conv2d(x, w, stride=2).tanh().sum()
    plain = make_dot(y)
    assert "orange" not in plain.source
    dot = make_dot(y, params={"x": x, "w": w}, show_saved=True, show_attrs=True)
    src = dot.source
    assert "fillcolor=orange" in src and "style=dashed" in src
    assert "result" in src                       # tanh saves its output
    assert "w\n (3, 2, 3, 3)" in src or "w\\n (3, 2, 3, 3)" in src
    # once backward freed the saved arrays, nothing is shown for them
    y.backward()
    assert "orange" not in make_dot(y, show_saved=True).source
    # max_attr_chars clips attribute text
    short = make_dot(autograd.ops.conv.conv2d(x, w, stride=2), show_attrs=True,
                     max_attr_chars=8)
    for line in short.source.splitlines():
        if ": " in line and "label=" in line:
            assert len(line.split(": ", 1)[1].split("\\n")[0].split('"')[0]) <= 8


@needs_graphviz
def test_several_outputs_leaves_and_errors():
    a = autograd.randn(3, requires_grad=True)
    b = a * 2
    dot = make_dot((b, a))
    assert list(_labels(dot).values()).count("AccumulateGrad") == 1
    with pytest.raises(TypeError, match="Tensor"):
        make_dot([b, 3])
    with pytest.raises(TypeError, match="params"):
        make_dot(b, params={"a": 1.0})


@needs_graphviz
def test_a_deep_graph_draws_without_recursion():
    x = autograd.ones(1, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    dot = make_dot(y)
    assert list(_labels(dot).values()).count("MulBackward0") == 5000


@needs_graphviz
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_png(tmp_path):
    y = (autograd.randn(2, requires_grad=True) ** 2).sum()
    path = make_dot(y).render(str(tmp_path / "g"), format="png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@needs_graphviz
def test_without_dot_the_error_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no executables at all
    y = (autograd.randn(2, requires_grad=True) * 3).sum()
    dot = make_dot(y)
    assert "MulBackward0" in dot.source           # the DOT text needs nothing
    dot.save(str(tmp_path / "g.dot"))
    with pytest.raises(graphviz.ExecutableNotFound, match="apt-get install graphviz"):
        dot.render(str(tmp_path / "g"), format="png")
    with pytest.raises(RuntimeError, match="dot.source"):
        dot.pipe(format="svg")


# ---- Module.summary: torchinfo's columns --------------------------------------------------------
def test_summary_mult_adds_and_sizes(torch):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    s = model.summary((2, 1, 8, 8), print_fn=None)
    conv = 2 * 4 * 6 * 6 * (1 * 3 * 3)   # output elements x (C_in/groups * kH * kW)
    lin = 2 * 10 * 144
    assert s.mult_adds == [conv, 0, 0, lin]
    assert s.total_mult_adds == conv + lin
    assert s.params_size_bytes == 4 * s.total_params
    assert s.input_size_bytes == 2 * 1 * 8 * 8 * 4
    leaf_out = (2 * 4 * 6 * 6 * 2 + 2 * 144 + 2 * 10) * 4
    assert s.forward_backward_pass_size_bytes == 2 * leaf_out
    text = str(s)
    assert "Mult-Adds" in text.splitlines()[2]
    assert "Total mult-adds (M): 0.01" in text and "Params size (MB): 0.01" in text
    assert "Estimated Total Size (MB)" in text
    # torchinfo's arithmetic for the same layers (conv: weight elements x output pixels;
    # linear: weight elements x batch), from the layers' shapes
    tconv = torch.nn.Conv2d(1, 4, 3)
    assert s.mult_adds[0] == tconv.weight.numel() * 6 * 6 * 2
    assert s.mult_adds[3] == 144 * 10 * 2


def test_summary_counts_recurrent_and_attention_layers():
    s = nn.LSTM(8, 16).summary((5, 2, 8), print_fn=None)
    assert s.mult_adds == [5 * 2 * 8 * 64 + 5 * 2 * 16 * 64]
    layer = nn.TransformerEncoderLayer(16, 2, 32)
    s = layer.summary((5, 2, 16), print_fn=None)
    names = [r[0] for r in s.rows]
    macs = dict(zip(names, s.mult_adds))
    assert macs["linear1"] == 5 * 2 * 16 * 32 and macs["linear2"] == 5 * 2 * 32 * 16
    # attention: in-projection, q k^T, weights x v, out-projection (functional, counted on
    # the MultiheadAttention row)
    L, N, E = 5, 2, 16
    assert macs["self_attn"] == L * N * E * 3 * E + 2 * N * L * L * E + L * N * E * E
    assert s.total_mult_adds == sum(m or 0 for m in s.mult_adds)


def test_summary_inside_a_profile_still_works():
    from autograd.profiler import profile
    with profile():
        s = nn.Linear(3, 2).summary((4, 3), print_fn=None)
    assert s.total_params == 8 and s.mult_adds == [None] and "Mult-Adds" in str(s)
    assert np.isfinite(s.params_size_bytes)

"""autograd.profiler: what it records (forward ops, backward nodes, record_function ranges,
shapes, memory, FLOPs), PyTorch's table and schedule, the Chrome trace, and that off it leaves
the library's code exactly as it was."""

import gzip
import json

import numpy as np
import pytest

import autograd
import nn
from autograd import profiler
from autograd.graph import Node
from autograd.profiler import ProfilerAction, ProfilerActivity, profile, record_function


def _originals():
    """Every attribute the profiler swaps, as it is now."""
    out = {("Node", "apply"): Node.__dict__["apply"],
           ("Function", "apply"): autograd.Function.__dict__["apply"]}
    for c in profiler._node_classes():
        if "backward" in c.__dict__:
            out[(c, "backward")] = c.__dict__["backward"]
    return out


def _mul_sum():
    a = autograd.randn(3, 4, requires_grad=True)
    b = autograd.randn(3, 4)
    (a * b).sum().backward()


def test_records_forward_ops_and_backward_nodes_with_pytorch_names():
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _mul_sum()
    keys = [e.key for e in prof.events()]
    for name in ("aten::mul", "aten::sum", "MulBackward0", "SumBackward0"):
        assert name in keys
    # backward ops run inside the node's backward are its children
    mulb = next(e for e in prof.events() if e.key == "MulBackward0")
    assert [c.key for c in mulb.cpu_children] == ["aten::mul"]
    assert mulb.cpu_children[0].cpu_parent is mulb
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts["aten::mul"] == 2  # one forward, one in MulBackward0 (grad * b)


def test_backward_node_names_are_pytorchs(torch):
    def run(lib, profile_cls):
        a = lib.ones(3, 4, requires_grad=True)
        with profile_cls() as prof:
            (a * 2.0 + a.exp()).sum().backward()
        return {e.key for e in prof.key_averages()}

    ours = run(autograd, profile)
    theirs = run(torch, torch.profiler.profile)
    our_backward = {k for k in ours if k.endswith("Backward0")}
    assert our_backward == {"MulBackward0", "AddBackward0", "ExpBackward0", "SumBackward0"}
    for k in our_backward:
        assert any(t.endswith(k) for t in theirs), (k, theirs)


def test_record_function_is_a_parent_and_a_decorator():
    @record_function("helper")
    def helper(x):
        return x.relu()

    with profile() as prof:
        with record_function("block"):
            x = autograd.randn(5)
            y = helper(x * 2)
    evs = prof.events()
    block = next(e for e in evs if e.key == "block")
    assert block.is_user_annotation
    assert [c.key for c in block.cpu_children] == ["aten::mul", "helper"]
    helper_ev = block.cpu_children[1]
    assert [c.key for c in helper_ev.cpu_children] == ["aten::relu"]
    assert block.cpu_time_total >= helper_ev.cpu_time_total >= 0
    assert block.self_cpu_time_total == pytest.approx(
        block.cpu_time_total - sum(c.cpu_time_total for c in block.cpu_children))
    assert y.shape == (5,)
    # without a profiler it does nothing
    with record_function("nothing"):
        pass
    assert helper(autograd.ones(2)).shape == (2,)


def test_record_shapes_and_memory_and_flops():
    x = autograd.randn(64, 32)
    w = autograd.randn(16, 32, requires_grad=True)
    with profile(record_shapes=True, profile_memory=True, with_flops=True) as prof:
        y = autograd.ops.layers.linear(x, w)
        z = autograd.zeros(1)
        big = autograd.randn(256, 1024, requires_grad=True) * 2.0  # 1 MiB of float32 out
    del y, z
    lin = next(e for e in prof.events() if e.key == "aten::linear")
    assert lin.input_shapes[:2] == [[64, 32], [16, 32]]
    assert lin.flops == 2 * 64 * 32 * 16
    mul = [e for e in prof.events() if e.key == "aten::mul"][-1]
    assert mul.cpu_memory_usage >= 256 * 1024 * 4
    grouped = prof.key_averages(group_by_input_shape=True)
    assert any(e.key == "aten::mul" and e.input_shapes == [[256, 1024], []] for e in grouped)
    table = grouped.table(sort_by="cpu_memory_usage", row_limit=3)
    header = table.splitlines()[1]
    for col in ("CPU Mem", "Self CPU Mem", "Input Shapes", "Total KFLOPs"):
        assert col in header
    assert table.splitlines()[3].strip().startswith("aten::mul")  # the biggest allocation
    assert "MB" in table.splitlines()[3]
    assert big.shape == (256, 1024)


def test_table_layout_matches_pytorch(torch):
    def header(text):
        lines = text.splitlines()
        return lines[0], lines[1], lines[-1].split(":")[0]

    a = autograd.ones(2, 2, requires_grad=True)
    with profile() as ours:
        (a * a).sum().backward()
    t = torch.ones(2, 2, requires_grad=True)
    with torch.profiler.profile() as theirs:
        (t * t).sum().backward()
    o_sep, o_head, o_total = header(ours.key_averages().table(sort_by="self_cpu_time_total"))
    t_sep, t_head, t_total = header(theirs.key_averages().table(sort_by="self_cpu_time_total"))
    assert [c for c in o_head.split("  ") if c.strip()] == \
        [c for c in t_head.split("  ") if c.strip()]
    assert [len(c) for c in o_sep.split("  ")[1:]] == [len(c) for c in t_sep.split("  ")[1:]]
    assert o_total == t_total == "Self CPU time total"
    assert o_head.endswith("  ") and o_sep.endswith("  ")


def test_table_sorting_row_limit_and_errors():
    with profile() as prof:
        for _ in range(3):
            _mul_sum()
    avg = prof.key_averages()
    table = avg.table(sort_by="count", row_limit=2)
    rows = table.splitlines()[3:-2]
    assert len(rows) == 2
    counts = [int(r.split()[-1]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == max(e.count for e in avg)
    assert "Self CPU time total:" in table.splitlines()[-1]
    with pytest.raises(ValueError, match="unknown sort_by"):
        avg.table(sort_by="speed")
    total = avg.total_average()
    assert total.count == sum(e.count for e in avg)
    assert prof.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in avg))
    # the name column clips long names as PyTorch does
    long = prof.events()[0]
    long.name = "x" * 80
    assert "x" * 51 + "..." in prof.events().key_averages().table()


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_chrome_trace(tmp_path, suffix):
    with profile(record_shapes=True) as prof:
        with record_function("outer"):
            _mul_sum()
    path = tmp_path / f"trace{suffix}"
    prof.export_chrome_trace(str(path))
    opener = gzip.open if suffix.endswith(".gz") else open
    with opener(path, "rt") as f:
        doc = json.load(f)
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert {e["name"] for e in xs} >= {"outer", "aten::mul", "MulBackward0"}
    for e in xs:
        assert e["dur"] >= 0 and e["ts"] >= 0 and isinstance(e["tid"], int)
    outer = next(e for e in xs if e["name"] == "outer")
    assert outer["cat"] == "user_annotation"
    mul = next(e for e in xs if e["name"] == "aten::mul")
    assert mul["args"]["Input Dims"] == [[3, 4], [3, 4]]
    assert outer["ts"] <= mul["ts"] and mul["ts"] + mul["dur"] <= outer["ts"] + outer["dur"] + 1e-3


def test_off_means_the_original_code():
    before = _originals()
    with profile():
        during = _originals()
        _mul_sum()
    after = _originals()
    assert after == before
    assert during[("Node", "apply")] is not before[("Node", "apply")]
    assert profiler._active is None
    # an exception inside the block restores everything too
    with pytest.raises(ZeroDivisionError):
        with profile():
            1 / 0
    assert _originals() == before


def test_one_profiler_at_a_time_and_disabled():
    with profile():
        with pytest.raises(RuntimeError, match="already recording"):
            with profile():
                pass
    assert profiler._active is None
    with profile(enabled=False) as prof:
        _mul_sum()
    assert len(prof.events()) == 0
    with profile(False) as prof:  # torch.autograd.profiler.profile(enabled) positionally
        _mul_sum()
    assert len(prof.events()) == 0
    with pytest.warns(UserWarning, match="CPU only"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])


def test_custom_function_and_modules_are_recorded():
    class Double(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    x = autograd.randn(2, 4, requires_grad=True)
    with profile() as prof:
        Double.apply(model(x)).sum().backward()
    keys = {e.key for e in prof.events()}
    assert {"Double", "DoubleBackward", "aten::linear", "aten::tanh", "LinearBackward0",
            "TanhBackward0"} <= keys
    double = next(e for e in prof.events() if e.key == "Double")
    assert [c.key for c in double.cpu_children] == ["aten::mul"]
    assert x.grad.shape == (2, 4)


def test_schedule_matches_pytorch(torch):
    kw = dict(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    ours = profiler.schedule(**kw)
    theirs = torch.profiler.schedule(**kw)
    assert [ours(s).name for s in range(14)] == [theirs(s).name for s in range(14)]
    with pytest.raises(ValueError):
        profiler.schedule(wait=0, warmup=0, active=0)


def test_schedule_and_on_trace_ready(tmp_path):
    traces = []

    def ready(prof):
        traces.append(sorted({e.key for e in prof.events() if e.key.startswith("ProfilerStep")}))

    sched = profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
    assert sched(0) is ProfilerAction.NONE and sched(3) is ProfilerAction.RECORD_AND_SAVE
    with profile(schedule=sched, on_trace_ready=ready) as prof:
        for _ in range(10):
            _mul_sum()
            prof.step()
    assert traces == [["ProfilerStep#2", "ProfilerStep#3"], ["ProfilerStep#6", "ProfilerStep#7"]]
    handler = profiler.tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w0")
    with profile(schedule=profiler.schedule(wait=0, warmup=0, active=1, repeat=1),
                 on_trace_ready=handler) as prof:
        for _ in range(3):
            _mul_sum()
            prof.step()
    files = list((tmp_path / "tb").iterdir())
    assert len(files) == 1 and files[0].name.startswith("w0.")
    assert files[0].name.endswith(".pt.trace.json")
    assert json.loads(files[0].read_text())["traceEvents"]


def test_stacks(tmp_path):
    with profile(with_stack=True) as prof:
        autograd.ones(2) * 3
    mul = next(e for e in prof.events() if e.key == "aten::mul")
    assert any("test_profiler.py" in s and "test_stacks" in s for s in mul.stack)
    assert not any("profiler.py(" in s and "autograd" in s for s in mul.stack[:1])
    table = prof.key_averages(group_by_stack_n=2).table()
    assert "Source Location" in table.splitlines()[1]
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path))
    assert path.read_text().strip().endswith(tuple("0123456789"))
    with profile() as plain:
        autograd.ones(1) * 2
    with pytest.raises(ValueError, match="with_stack"):
        plain.export_stacks(str(path))


def test_profiled_results_equal_unprofiled():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    x = autograd.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
    model(x).sum().backward()
    ref = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with profile(record_shapes=True, profile_memory=True, with_flops=True):
        model(x).sum().backward()
    for r, p in zip(ref, model.parameters()):
        np.testing.assert_array_equal(r, p.grad.numpy())

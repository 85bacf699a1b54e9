"""Tests of the benchmark CLI (``python -m benchmarks``): fast, no timing assertions."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import import_torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``benchmarks/`` is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import cli, report, runner  # noqa: E402
from benchmarks.workloads import (WORKLOADS, conv2d_flop, export_state, linear_flop,  # noqa: E402
                                  load_state, tapegrad_namespace)


def _torch_ns():
    import_torch()
    from benchmarks.workloads import torch_namespace
    return torch_namespace()


def test_list_runs_as_a_module():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--list"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert names == list(WORKLOADS)
    for name in ("attention", "lstm"):
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(name))
        if WORKLOADS[name].missing(tapegrad_namespace()):
            assert "not available yet" in line


def test_only_unknown_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.parse_args(["--only", "mlp,nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown workload(s) nope" in err and "mlp" in err


def test_only_parses_and_deduplicates():
    args = cli.parse_args(["--only", " xor, tiny_ops ,xor"])
    assert args.only == ["xor", "tiny_ops"]


@pytest.mark.parametrize("bad", [["--repeat", "0"], ["--warmup", "-1"], ["--threads", "0"],
                                 ["--compare", "jax"]])
def test_bad_numbers_are_usage_errors(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.parse_args(bad)
    assert exc.value.code == 2


def test_summary_ratio_and_gflops_on_fixed_numbers():
    stats = runner.summarize([0.003, 0.001, 0.002, 0.010])
    assert stats["times_ms"] == pytest.approx([3.0, 1.0, 2.0, 10.0])
    assert stats["median_ms"] == pytest.approx(2.5)
    assert (stats["min_ms"], stats["max_ms"]) == pytest.approx((1.0, 10.0))
    assert stats["repeats"] == 4
    assert runner.ratio(30.0, 10.0) == pytest.approx(3.0)
    assert runner.ratio(5.0, 20.0) == pytest.approx(0.25)
    assert runner.ratio(5.0, None) is None
    assert runner.ratio(None, 5.0) is None
    assert runner.ratio(5.0, 0.0) is None
    assert runner.gflops(2e9, 500.0) == pytest.approx(4.0)
    assert runner.gflops(None, 500.0) is None
    assert runner.summarize([])["median_ms"] is None


def test_flop_formulas():
    # conv: 2*N*C_out*H_out*W_out*C_in*k*k forward, x3 with weight and input gradients
    fwd = 2 * 32 * 32 * 32 * 32 * 16 * 3 * 3
    assert conv2d_flop(32, 16, 32, 32, 32, 3) == 3 * fwd
    assert WORKLOADS["conv"].flop == 3 * fwd
    assert linear_flop(4, 5, 6, input_grad=False) == 2 * (2 * 4 * 5 * 6)
    mlp = 2 * 128 * (784 * 256 + 256 * 128 + 128 * 10)  # forward
    mlp += 2 * 128 * (784 * 256 + 256 * 128 + 128 * 10)  # weight gradients
    mlp += 2 * 128 * (256 * 128 + 128 * 10)  # input gradients (not of the data)
    assert WORKLOADS["mlp"].flop == mlp
    assert WORKLOADS["maxpool"].flop is None and WORKLOADS["xor"].flop is None


def test_tiny_ops_and_xor_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["--only", "tiny_ops,xor", "--repeat", "2", "--warmup", "1", "--no-progress",
            "--json", str(out)]
    try:
        import torch  # noqa: F401
        argv += ["--compare", "torch"]
        compared = True
    except ImportError:
        compared = False
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "tiny_ops" in printed and "xor" in printed

    doc = json.loads(out.read_text())
    assert set(doc) == {"environment", "settings", "workloads"}
    env = doc["environment"]
    for key in ("python", "numpy", "numba", "torch", "tapegrad", "cpu_model", "threads",
                "date"):
        assert key in env
    assert env["tapegrad"] and env["numpy"] and env["cpu_model"]
    assert doc["settings"]["repeat"] == 2 and doc["settings"]["warmup"] == 1
    assert [w["name"] for w in doc["workloads"]] == ["tiny_ops", "xor"]
    libs = ["tapegrad", "torch"] if compared else ["tapegrad"]
    for w in doc["workloads"]:
        assert w["status"] == "ok", w["reason"]
        for key in ("description", "flop_per_step", "ops_per_step", "ratio"):
            assert key in w
        for lib in libs:
            stats = w[lib]
            assert len(stats["times_ms"]) == stats["repeats"] == 2
            assert all(t > 0 for t in stats["times_ms"])
            assert stats["min_ms"] <= stats["median_ms"] <= stats["max_ms"]
            assert stats["min_ms"] > 0
            assert stats["first_step_ms"] > 0
        if compared:
            assert env["torch"]
            assert w["ratio"] == pytest.approx(w["tapegrad"]["median_ms"]
                                               / w["torch"]["median_ms"])
        else:
            assert w["torch"] is None and w["ratio"] is None
    tiny = doc["workloads"][0]
    assert tiny["ops_per_step"] == 2000
    assert tiny["tapegrad"]["per_op_us"] == pytest.approx(
        tiny["tapegrad"]["median_ms"] * 1e3 / 2000)


def test_missing_torch_gives_a_message_and_tapegrad_only_results(monkeypatch, capsys):
    def no_torch():
        raise ImportError("No module named 'torch'")
    monkeypatch.setattr(runner, "torch_namespace", no_torch)
    assert cli.main(["--only", "xor", "--repeat", "2", "--warmup", "1", "--no-progress",
                     "--compare", "torch", "--markdown"]) == 0
    captured = capsys.readouterr()
    assert "PyTorch is not importable" in captured.err
    assert "| xor |" in captured.out
    assert "torch ms" not in captured.out


def test_unavailable_workload_is_skipped_with_a_reason():
    ns = tapegrad_namespace()
    for name in ("attention", "lstm"):
        w = WORKLOADS[name]
        result = runner.run_workload(w, [ns], repeat=1, warmup=0)
        if w.missing(ns):
            assert result["status"] == "skipped"
            assert result["reason"].startswith("not available yet")
            table = report.format_table([result], compare=False)
            assert "not available yet" in table


def _losses(name, namespaces, steps):
    """Run ``steps`` steps of workload ``name`` on each namespace from the same weights."""
    setups = runner.build(WORKLOADS[name], namespaces, seed=0)
    out = {}
    for ns in namespaces:
        out[ns.name] = [float(np.asarray(setups[ns.name].step().detach().numpy()).reshape(-1)[0])
                        for _ in range(steps)]
    return out


@pytest.mark.parametrize("name, steps", [("xor", 5), ("mlp", 3), ("tiny_ops", 1),
                                         ("maxpool", 1), ("attention", 3)])
def test_same_result_on_both_libraries(name, steps):
    namespaces = [tapegrad_namespace(), _torch_ns()]
    losses = _losses(name, namespaces, steps)
    np.testing.assert_allclose(losses["tapegrad"], losses["torch"], rtol=2e-4, atol=1e-5)


def test_weights_are_copied_between_libraries():
    namespaces = [tapegrad_namespace(), _torch_ns()]
    setups = runner.build(WORKLOADS["mlp"], namespaces, seed=0)
    a = export_state(setups["tapegrad"].model)
    b = export_state(setups["torch"].model)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    load_state(namespaces[0], setups["tapegrad"].model, b)  # and back


@pytest.mark.parametrize("name", ["attention", "lstm"])
def test_future_workloads_run_on_torch(name):
    ns = _torch_ns()
    w = WORKLOADS[name]
    assert w.unavailable_reason(ns) is None
    setup = w.setup(ns, w.make_data(np.random.default_rng(0)))
    losses = [float(setup.step().item()) for _ in range(2)]
    assert all(np.isfinite(losses))
    assert losses[0] != losses[1]  # the optimizer step changed the weights
    params = list(setup.model.parameters())
    assert params and all(p.grad is None or not p.grad.abs().sum() for p in params)  # zero_grad


def test_markdown_and_plot(tmp_path):
    result = {"name": "w", "description": "", "status": "ok", "reason": None,
              "flop_per_step": 4e9, "ops_per_step": None, "ratio": 2.0,
              "tapegrad": {"median_ms": 20.0, "min_ms": 19.0, "max_ms": 25.0, "repeats": 5,
                           "gflops": 200.0, "per_op_us": None},
              "torch": {"median_ms": 10.0, "min_ms": 9.5, "max_ms": 11.0, "repeats": 5,
                        "gflops": 400.0, "per_op_us": None}}
    md = report.format_markdown([result])
    assert "| w | 20.0 (19.0-25.0) | 10.0 (9.50-11.0) | 2.00 | 200.0 / 400.0 | n=5 |" in md
    text = report.format_table([result])
    assert "2.00" in text
    png = tmp_path / "ratios.png"
    assert report.plot_ratios([result], str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not report.plot_ratios([dict(result, ratio=None)], str(tmp_path / "none.png"))


def test_contention_mode_reports_slowdowns_in_fresh_processes(tmp_path, monkeypatch, capsys):
    from benchmarks import contention
    monkeypatch.setattr(contention, "_torch_available", lambda: False)  # tapegrad only: fast
    out = tmp_path / "contention.json"
    argv = ["--contention", "1", "--only", "mlp", "--contention-repeat", "1",
            "--contention-steps", "2", "--no-progress", "--json", str(out), "--markdown"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| mlp | 1 x spin |" in printed
    doc = json.loads(out.read_text())
    (rec,) = doc["contention"]
    assert rec["case"] == "mlp" and rec["load"] == "spin" and rec["reason"] is None
    tg = rec["tapegrad"]
    assert len(tg["quiet_s"]) == len(tg["busy_s"]) == 1 and tg["quiet_s"][0] > 0
    assert tg["slowdown"] == [pytest.approx(tg["busy_s"][0] / tg["quiet_s"][0])]
    assert rec["torch"] is None


def test_contention_children_start_as_a_users_script():
    import autograd  # noqa: F401  (sets its variables in this process)
    from autograd import _runtime
    from benchmarks import contention
    env = contention.user_environment()
    for name, value in _runtime.ENV_SET.items():
        assert env.get(name) != value, name
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT)


def test_contention_busy_processes_are_killed():
    from benchmarks import contention
    with contention.BusyProcesses(2, "spin") as busy:
        procs = list(busy.procs)
        assert all(p.poll() is None for p in procs)
    assert all(p.poll() is not None for p in procs)
    with pytest.raises(ValueError, match="unknown load"):
        contention.BusyProcesses(1, "nope")


def test_contention_only_accepts_its_cases(capsys):
    with pytest.raises(SystemExit):
        cli.parse_args(["--contention", "1", "--only", "maxpool"])
    assert "mnist_cnn" in capsys.readouterr().err
    assert cli.parse_args(["--contention", "2", "--only", "mnist_cnn,lstm"]).only == [
        "mnist_cnn", "lstm"]

"""Tests of cold-start support: ``python -m kernels.precompile`` and the one-line notice
(kernels/_notice.py) when kernels compile on first use. The notice tests run fresh
interpreters with a new, empty NUMBA_CACHE_DIR (hard timeouts)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kernels import _notice, precompile

ROOT = Path(__file__).resolve().parents[1]

_CALL_POOL = ("import numpy as np, kernels\n"
              "x = np.zeros((1, 1, 4, 4), np.float32)\n"
              "kernels.avg_pool2d_forward(x, 2, 2, 0)\n"
              "kernels.avg_pool2d_forward(x.astype(np.float64), 2, 2, 0)\n")


def _run(code, cache, **env):
    full = dict(os.environ, NUMBA_CACHE_DIR=str(cache), **env)
    full["PYTHONPATH"] = str(ROOT) + os.pathsep + full.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True,
                          text=True, timeout=600)


def test_notice_once_on_a_cold_cache_and_silence_when_warm(tmp_path):
    cold = _run(_CALL_POOL, tmp_path)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count("compiling kernels for first use") == 1, cold.stderr
    assert f"cached in {tmp_path}" in cold.stderr
    assert "tapegrad: compiled " in cold.stderr
    warm = _run(_CALL_POOL, tmp_path)
    assert warm.returncode == 0, warm.stderr
    assert "compil" not in warm.stderr, warm.stderr


def test_notice_can_be_silenced(tmp_path):
    quiet = _run("import numpy as np, kernels\n"
                 "kernels.adaptive_avg_pool2d_forward(np.zeros((1, 1, 2, 2)), (1, 1))\n",
                 tmp_path, TAPEGRAD_COMPILE_NOTICE="0")
    assert quiet.returncode == 0, quiet.stderr
    assert "compil" not in quiet.stderr, quiet.stderr


def test_cache_dir_follows_numba_config(monkeypatch, tmp_path):
    from numba.core import config
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path))
    assert _notice.cache_dir() == str(tmp_path)
    monkeypatch.setattr(config, "CACHE_DIR", "")
    assert _notice.cache_dir().endswith(os.path.join("kernels", "__pycache__"))


def test_precompile_families_in_process(capsys):
    assert precompile.main(["pool", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "compiling kernel families pool for float32" in out
    assert "pool" in out and "done in" in out


def test_precompile_every_family_has_a_recipe_that_runs():
    """Each family's recipe calls real kernels (float64 here: a wrong call raises)."""
    for name in precompile.FAMILIES:
        assert precompile.compile_family(name, ("float64",)) >= 0


def test_precompile_usage_errors(capsys):
    with pytest.raises(SystemExit) as e:
        precompile.main(["nosuch"])
    assert e.value.code == 2
    assert "unknown kernel family nosuch" in capsys.readouterr().err


def test_precompile_runs_as_a_module_with_workers(tmp_path):
    proc = _run("import sys, runpy; sys.argv = ['precompile', 'pool', 'norm', '--jobs', '2']; "
                "runpy.run_module('kernels.precompile', run_name='__main__')", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "pool" in proc.stdout and "norm" in proc.stdout and "FAILED" not in proc.stderr

"""Process-wide runtime settings made at import (autograd/_runtime.py)."""

import os
import subprocess
import sys

import pytest

CHECK = "import autograd; print(autograd._runtime.allocator_tuned)"


def _run(env_updates):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_updates)
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt only")
def test_allocator_is_tuned_on_import_and_can_be_turned_off():
    assert _run({}) == "True"
    assert _run({"TAPEGRAD_MALLOC_TUNING": "0"}) == "False"
    # the user's own glibc settings win
    assert _run({"MALLOC_MMAP_THRESHOLD_": "1048576"}) == "False"


def test_blas_thread_timeout_set_only_before_numpy_loads():
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    code = "import {first}; import autograd, os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    first = subprocess.run([sys.executable, "-c", code.format(first="sys")], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    late = subprocess.run([sys.executable, "-c", code.format(first="numpy")], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()
    assert first == "4"
    assert late == "None"  # NumPy already loaded OpenBLAS: setting it now would be a lie

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

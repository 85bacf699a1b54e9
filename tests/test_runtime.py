"""The process-wide runtime policy (autograd/_runtime.py): settings that must hold whatever the
import order and entry point, the environment variables it respects, the default thread count
under a launcher and in DataLoader workers, and the busy-machine governor.

Each case runs in a fresh interpreter (the settings are made at import), under a hard timeout.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX = sys.platform.startswith("linux")
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

# variables the runtime reads: removed from the child's environment unless a test sets them
_POLICY_VARS = ("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT", "GOTO_THREAD_TIMEOUT",
                "OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "GOTO_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_THREADING_LAYER",
                "NUMBA_THREADING_LAYER_PRIORITY", "LOCAL_WORLD_SIZE",
                "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "TAPEGRAD_BLAS_GOVERNOR",
                "TAPEGRAD_MALLOC_TUNING")


def _env(updates=None):
    env = {k: v for k, v in os.environ.items()
           if k not in _POLICY_VARS and not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(updates or {})
    return env


def _run(code, env_updates=None, timeout=180):
    """Run ``code`` in a fresh interpreter from the repository root; return its last stdout
    line parsed as JSON (and the process, for stderr)."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=_env(env_updates),
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc


# a parallel Numba kernel of ours: starts Numba's threading layer
_KERNEL = """
import numpy as np, kernels
x = np.ones((2, 3, 8, 8), np.float32)
kernels.max_pool2d_forward(x, 2, 2, 0, 1)
"""


def _numpy_blas_threads():
    return """
from threadpoolctl import threadpool_info
blas = [p["num_threads"] for p in threadpool_info()
        if p["user_api"] == "blas" and "numpy" in p["filepath"]]
"""


@pytest.mark.skipif(not LINUX, reason="glibc mallopt only")
def test_allocator_is_tuned_on_import_and_can_be_turned_off():
    code = "import json, autograd; print(json.dumps(autograd._runtime.allocator_tuned))"
    assert _run(code)[0] is True
    assert _run(code, {"TAPEGRAD_MALLOC_TUNING": "0"})[0] is False
    # the user's own glibc settings win
    assert _run(code, {"MALLOC_MMAP_THRESHOLD_": "1048576"})[0] is False


_TIMEOUT = """
import {first}
import numpy as np
a = np.ones((300, 300), np.float32); a @ a     # NumPy's OpenBLAS pool has started
import autograd, json
t = autograd._runtime.info()["openblas_thread_timeout"]
print(json.dumps({{"timeouts": sorted(set(t.values()))}}))
"""


@pytest.mark.skipif(not LINUX, reason="reads /proc/self/maps")
@pytest.mark.parametrize("first", ["sys", "numpy"])
def test_openblas_thread_timeout_holds_whatever_the_import_order(first):
    got = _run(_TIMEOUT.format(first=first))[0]["timeouts"]
    if not got:
        pytest.skip("this OpenBLAS does not export openblas_thread_timeout")
    # 4: idle workers sleep at once; NumPy loaded first had 0 (its 2**28-cycle default) until
    # the runtime re-read the environment and restarted the pool
    assert got == [4]


@pytest.mark.skipif(not LINUX, reason="reads /proc/self/maps")
def test_users_openblas_thread_timeout_is_kept():
    got = _run(_TIMEOUT.format(first="numpy"), {"OPENBLAS_THREAD_TIMEOUT": "12"})[0]["timeouts"]
    if not got:
        pytest.skip("this OpenBLAS does not export openblas_thread_timeout")
    assert got == [12]


# the wait policy as GNU OpenMP itself reports it (omp_display_env(verbose), OpenMP 5.1), from
# the libgomp that Numba's omp layer loaded: GOMP_SPINCOUNT is 0 under PASSIVE, 300000 when
# OMP_WAIT_POLICY was unset at load (OMP_WAIT_POLICY itself reads 'PASSIVE' then too)
_OMP_POLICY = """
import autograd, json, os, ctypes
{before}
import numba
layer = numba.threading_layer()
gomp = [l.split()[-1] for l in open("/proc/self/maps") if "libgomp" in l]
libs = sorted(set(gomp))
ctypes.CDLL(libs[0]).omp_display_env(1) if libs else None
print(json.dumps({{"layer": layer, "libs": libs}}), flush=True)
"""


def _omp_policy(before, env=None):
    got, proc = _run(_OMP_POLICY.format(before=textwrap.dedent(before)), env)
    if got["layer"] != "omp" or not got["libs"]:
        pytest.skip(f"Numba runs the {got['layer']} threading layer here")
    line = next((ln for ln in proc.stderr.splitlines() if "GOMP_SPINCOUNT" in ln), None)
    if line is None:
        pytest.skip("this libgomp has no omp_display_env")
    return int(line.split("=", 1)[1].strip().strip("'"))


@pytest.mark.skipif(not LINUX, reason="GNU OpenMP")
def test_set_num_threads_before_any_kernel_starts_openmp_with_passive_waits():
    # set_num_threads starts Numba's threading layer, i.e. loads libgomp, before any kernel
    assert _omp_policy("autograd.set_num_threads(1)") == 0   # idle workers sleep at once
    assert _omp_policy(_KERNEL) == 0


@pytest.mark.skipif(not LINUX, reason="GNU OpenMP")
def test_users_omp_wait_policy_is_kept():
    assert _omp_policy(_KERNEL, {"OMP_WAIT_POLICY": "ACTIVE"}) > 300000


def test_numba_threading_layer_is_chosen_not_left_to_numba():
    got = _run("import autograd, json; from numba.core import config; "
               "print(json.dumps(config.THREADING_LAYER_PRIORITY))")[0]
    assert got == ["omp", "tbb", "workqueue"]  # Numba's own default starts with tbb
    got = _run("import autograd, json; from numba.core import config; "
               "print(json.dumps(config.THREADING_LAYER_PRIORITY))",
               {"NUMBA_THREADING_LAYER_PRIORITY": "workqueue omp tbb"})[0]
    assert got == ["workqueue", "omp", "tbb"]


_COUNTS = """
import autograd, json
before = autograd.get_num_threads()
default = autograd._runtime.default_num_threads()
""" + _KERNEL + """
import numba
""" + _numpy_blas_threads() + """
print(json.dumps({"before": before, "default": default, "numba": numba.get_num_threads(),
                  "after": autograd.get_num_threads(), "blas": blas}))
"""


@pytest.mark.parametrize("var", ["OMP_NUM_THREADS", "NUMBA_NUM_THREADS"])
def test_thread_count_variables_are_respected(var):
    got = _run(_COUNTS, {var: "1", "TAPEGRAD_BLAS_GOVERNOR": "0"})[0]
    assert got["before"] == got["default"] == got["numba"] == got["after"] == 1
    assert set(got["blas"]) <= {1}


@pytest.mark.skipif(CORES < 2, reason="needs 2 cores to divide")
@pytest.mark.parametrize("var", ["LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE",
                                 "MPI_LOCALNRANKS"])
def test_launcher_local_world_size_divides_the_cores(var):
    got = _run(_COUNTS, {var: "2", "TAPEGRAD_BLAS_GOVERNOR": "0"})[0]
    want = max(1, CORES // 2)
    assert got["before"] == got["default"] == got["numba"] == got["after"] == want
    assert set(got["blas"]) <= {want}
    # numpy imported before autograd: the BLAS already loaded is limited through threadpoolctl
    got = _run("import numpy\n" + _COUNTS, {var: "2", "TAPEGRAD_BLAS_GOVERNOR": "0"})[0]
    assert got["numba"] == want and set(got["blas"]) <= {want}


def test_default_uses_every_core_without_a_launcher():
    got = _run(_COUNTS, {"TAPEGRAD_BLAS_GOVERNOR": "0"})[0]
    assert got["default"] == got["numba"] == CORES


def test_dataloader_worker_settings_use_one_thread():
    code = ("import autograd, json\nautograd._runtime.configure_worker()\n" + _KERNEL
            + "import numba\n" + _numpy_blas_threads()
            + 'print(json.dumps({"numba": numba.get_num_threads(), "blas": blas, '
              '"governor": autograd._runtime.governor.running(), '
              '"default": autograd._runtime.default_num_threads()}))')
    got = _run(code)[0]
    assert got == {"numba": 1, "blas": got["blas"], "governor": False, "default": 1}
    assert set(got["blas"]) <= {1}


def test_governor_decisions_have_hysteresis():
    from autograd import _runtime
    g = _runtime._Governor()
    g._cpus = {"cpu0", "cpu1"}
    g.ceiling = 2
    for others, current, want in [(0.0, 2, 2), (0.45, 2, 2), (0.6, 2, 1), (1.0, 2, 1),
                                  (0.4, 1, 1), (0.35, 1, 1), (0.2, 1, 2), (0.0, 1, 2)]:
        g.others = others
        assert g._decide(current) == want, (others, current)
    g.ceiling = 1
    g.others = 0.0
    assert g._decide(1) == 1  # never above set_num_threads
    assert g._decide(2) == 1  # ... even from a count decided under an older, higher ceiling
    g._cpus = {f"cpu{i}" for i in range(8)}
    g.ceiling = 8
    g.others = 3.0
    assert g._decide(8) == 5


@pytest.mark.skipif(not LINUX or CORES < 2, reason="reads /proc/stat; needs 2 cores")
def test_governor_gives_blas_threads_up_while_other_processes_keep_the_cores_busy():
    code = textwrap.dedent(f"""
        import subprocess, sys, time, json
        import autograd
        import numpy as np
        spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range({CORES})]
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and autograd._runtime.governor.applied != 1:
                time.sleep(0.1)
            others = autograd._runtime.governor.others
        finally:
            for p in spin:
                p.kill()
        """) + _numpy_blas_threads() + (
        'print(json.dumps({"blas": blas, "others": others, '
        '"running": autograd._runtime.governor.running()}))')
    got = _run(code)[0]
    assert got["running"]
    assert got["blas"] == [1], got  # the spinners keep the cores busy: one BLAS thread
    assert got["others"] > 0.5


def test_governor_can_be_turned_off_and_stays_off_for_one_thread():
    code = "import autograd, json; print(json.dumps(autograd._runtime.governor.running()))"
    assert _run(code, {"TAPEGRAD_BLAS_GOVERNOR": "0"})[0] is False
    assert _run(code, {"OMP_NUM_THREADS": "1"})[0] is False


def test_governor_waits_while_a_kernel_holds_numpy_blas():
    pytest.importorskip("threadpoolctl")
    import autograd  # noqa: F401
    from kernels import _blas
    libs = _blas.numpy_blas()
    if not libs:
        pytest.skip("threadpoolctl sees no BLAS")
    before = [lc.num_threads for lc in libs]
    try:
        with _blas.StepBlas(1):
            assert [lc.num_threads for lc in libs] == [1] * len(libs)
            assert _blas.try_set_numpy_threads(2) is False   # refused: the loop's count stays
            assert [lc.num_threads for lc in libs] == [1] * len(libs)
            with _blas.StepBlas(1):                          # nested (or another thread's)
                pass
            assert [lc.num_threads for lc in libs] == [1] * len(libs)
        assert [lc.num_threads for lc in libs] == before      # restored by the last one out
        assert _blas.try_set_numpy_threads(1) is True
        assert [lc.num_threads for lc in libs] == [1] * len(libs)
    finally:
        for lc, n in zip(libs, before):
            lc.set_num_threads(n)


def test_set_num_threads_validates_and_reports():
    import autograd
    with pytest.raises(TypeError, match="expected an int"):
        autograd.set_num_threads(1.5)
    with pytest.raises(ValueError, match="positive"):
        autograd.set_num_threads(0)
    info = autograd._runtime.info()
    for key in ("num_threads", "default_num_threads", "omp_wait_policy", "governor",
                "openblas_thread_timeout", "local_world_size"):
        assert key in info


def test_env_set_lists_what_import_autograd_changed():
    got = _run("import autograd, json; print(json.dumps(autograd._runtime.ENV_SET))",
               {"OMP_WAIT_POLICY": "ACTIVE"})[0]
    assert "OMP_WAIT_POLICY" not in got  # the user's own
    assert got["OPENBLAS_THREAD_TIMEOUT"] == "4"


_USER = """
import autograd, json
from autograd import _runtime
before = _runtime.user_num_threads()
autograd.set_num_threads(1)
print(json.dumps({"before": before, "after": _runtime.user_num_threads(),
                  "env_set": _runtime.ENV_SET.get("NUMBA_NUM_THREADS")}))
"""


@pytest.mark.skipif(CORES < 2, reason="needs 2 cores to divide")
def test_user_num_threads_tells_the_users_choice_from_the_runtimes_default():
    # under a launcher the runtime puts its own default in NUMBA_NUM_THREADS: not a choice
    # (autograd.distributed refines that default when the process group starts)
    got = _run(_USER, {"LOCAL_WORLD_SIZE": str(CORES), "TAPEGRAD_BLAS_GOVERNOR": "0"})[0]
    assert got == {"before": None, "after": 1, "env_set": "1"}
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS"):
        got = _run(_USER, {var: "1", "LOCAL_WORLD_SIZE": str(CORES),
                           "TAPEGRAD_BLAS_GOVERNOR": "0"})[0]
        assert got["before"] == 1 and got["after"] == 1, var


_FROM_ANOTHER_THREAD = """
import json, threading
import autograd
import numpy as np
from kernels import _blas
""" + _numpy_blas_threads() + """
seen = []
def read():
    from threadpoolctl import threadpool_info
    return [p["num_threads"] for p in threadpool_info()
            if p["user_api"] == "blas" and "numpy" in p["filepath"]]
# another thread sets a count first (as the governor does): threadpoolctl alone would then
# ignore every later setting made in the main thread
t = threading.Thread(target=lambda: autograd.set_num_threads(1))
t.start(); t.join()
seen.append(read())
autograd.set_num_threads(2)
seen.append(read())
t = threading.Thread(target=lambda: _blas.try_set_numpy_threads(1))
t.start(); t.join()
seen.append(read())
autograd.set_num_threads(2)
seen.append(read())
print(json.dumps(seen))
"""


@pytest.mark.skipif(CORES < 2, reason="needs 2 threads to tell counts apart")
def test_blas_counts_set_from_any_thread_take_effect():
    pytest.importorskip("threadpoolctl")
    got = _run(_FROM_ANOTHER_THREAD, {"TAPEGRAD_BLAS_GOVERNOR": "0"})[0]
    assert got[0] and got == [[1] * len(got[0]), [2] * len(got[0]), [1] * len(got[0]),
                              [2] * len(got[0])]

"""Contention mode of the benchmark CLI: ``python -m benchmarks --contention N``.

How much does each library slow down when the machine is shared? For every case (the main
example and the benchmark workloads) and each library, this starts a **fresh process the way a
user's script runs** -- ``import autograd`` (or ``import torch``) first, library defaults, none
of this CLI's settings in its environment -- once on the quiet machine and once while ``N`` busy
processes run, and reports ``slowdown = busy time / quiet time`` (1.0: not slowed at all; on a
machine with C cores and N single-core busy processes a fair share gives about
``(N + C) / C`` for a program that uses every core, less for one that does not).

Busy loads (``--contention-load``):

* ``spin`` -- ``N`` pure-Python busy loops (one core each, no memory traffic);
* ``gemm`` -- ``N`` NumPy processes multiplying 512x512 float32 matrices in a loop, each with
  ``OPENBLAS_NUM_THREADS=1`` (one core each, heavy on caches and memory bandwidth).

Cases: ``mnist_cnn`` (``examples/mnist_cnn.py --limit 10000 --epochs 1``, its printed train time,
with ``--backend tapegrad`` and ``--backend torch``; that script imports ``autograd`` first in
both cases, so PyTorch runs there under tapegrad's import-time settings, e.g. a passive OpenMP
wait policy) and the workloads ``lenet``, ``conv``, ``mlp``, ``attention``, ``lstm`` (median
step time over ``--contention-steps`` steps after 3 warm-up steps, in a process that imports
only its own library). Runs are interleaved: for each case and repetition, tapegrad quiet,
PyTorch quiet, then the busy processes start, tapegrad busy, PyTorch busy (the order of the
libraries alternates between repetitions), so slow drift of the machine hits both alike. The
table gives the median slowdown over ``--repeat`` repetitions with its min-max spread, and the
1-minute load average seen before each quiet run (a machine that other jobs keep busy makes
the "quiet" runs busy too: look at it before trusting the numbers).

Nothing here is timed inside the CLI's own process, and the child processes' environment is the
CLI's minus the variables that ``import autograd`` set in it (``autograd._runtime.ENV_SET``).
"""

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

from .runner import _IMPORT_LIBRARY

__all__ = ["CASES", "LOADS", "run", "format_table", "format_markdown", "main",
           "user_environment", "BusyProcesses"]

WORKLOAD_CASES = ("lenet", "conv", "mlp", "attention", "lstm")
EXAMPLE_CASE = "mnist_cnn"
CASES = (EXAMPLE_CASE,) + WORKLOAD_CASES
LOADS = ("spin", "gemm")
LIBRARIES = ("tapegrad", "torch")
DEFAULT_REPEAT = 3
DEFAULT_STEPS = 30

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_BUSY = {
    "spin": "while True:\n    pass\n",
    "gemm": ("import numpy as np\n"
             "a = np.random.default_rng(0).random((512, 512), dtype=np.float32)\n"
             "while True:\n    a @ a\n"),
}

# A fresh process: the library first (as a user's script), then the workload of workloads.py
# loaded without the benchmarks package's __init__ (which imports autograd). Prints one JSON line.
_STEP_SCRIPT = r"""
import sys, time, json, statistics
lib, path, name, steps, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
""" + _IMPORT_LIBRARY + r"""import importlib, importlib.util, os, types
import numpy as np
# a bare "benchmarks" package (its __init__ imports autograd), so that workloads.py and the
# modules it imports relatively (pipeline.py) load as in the package
pkg = types.ModuleType("benchmarks")
pkg.__path__ = [os.path.dirname(path)]
sys.modules["benchmarks"] = pkg
W = importlib.import_module("benchmarks.workloads")
ns = W.Namespace(lib, *mods)
ns.manual_seed(0)
work = W.WORKLOADS[name]
reason = work.unavailable_reason(ns)
if reason:
    print(json.dumps({"skipped": reason}))
    sys.exit(0)
setup = work.setup(ns, work.make_data(np.random.default_rng(0)))
for _ in range(3):
    setup.step()
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    setup.step()
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": statistics.median(times), "steps": len(times)}))
"""


def user_environment():
    """The environment a user's script would start with: this process's, minus the variables
    that ``import autograd`` set here (the CLI imports it), with the repository on
    ``PYTHONPATH``."""
    env = dict(os.environ)
    try:
        from autograd import _runtime
        for name, value in _runtime.ENV_SET.items():
            if env.get(name) == value:
                del env[name]
    except ImportError:
        pass
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class BusyProcesses:
    """Context manager: ``n`` busy processes of kind ``load`` (see :data:`LOADS`) for the
    duration of the block; they are killed on exit, also on an exception or Ctrl-C."""

    def __init__(self, n, load):
        if load not in _BUSY:
            raise ValueError(f"contention: unknown load {load!r}; choose from {', '.join(LOADS)}")
        self.n, self.load, self.procs = n, load, []

    def __enter__(self):
        env = user_environment()
        env["OPENBLAS_NUM_THREADS"] = "1"  # one core per busy process
        for _ in range(self.n):
            self.procs.append(subprocess.Popen([sys.executable, "-c", _BUSY[self.load]], env=env,
                                               stdin=subprocess.DEVNULL,
                                               stdout=subprocess.DEVNULL))
        time.sleep(0.5)  # let them start (the GEMM one imports NumPy)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
        for p in self.procs:
            p.wait()
        self.procs = []
        return False


def _run_workload(library, name, steps, threads, timeout):
    """One fresh process running workload ``name``; returns seconds per step (median) or a
    ``{"skipped"| "error": reason}`` dict."""
    path = os.path.join(ROOT, "benchmarks", "workloads.py")
    cmd = [sys.executable, "-c", _STEP_SCRIPT, library, path, name, str(steps),
           "-" if threads is None else str(threads)]
    return _child(cmd, timeout, lambda out: json.loads(out.strip().splitlines()[-1]))


_TRAIN_TIME = re.compile(r"train time ([0-9.]+) s")


def _run_example(library, data_dir, threads, timeout):
    """``examples/mnist_cnn.py --limit 10000 --epochs 1 --backend library``; its train time."""
    cmd = [sys.executable, os.path.join(ROOT, "examples", "mnist_cnn.py"), "--limit", "10000",
           "--epochs", "1", "--backend", library, "--data-dir", data_dir]
    if threads is not None:
        cmd += ["--threads", str(threads)]

    def parse(out):
        found = _TRAIN_TIME.findall(out)
        if not found:
            return {"error": "no 'train time' in the example's output"}
        return {"seconds": float(found[-1])}
    return _child(cmd, timeout, parse)


def _child(cmd, timeout, parse):
    try:
        proc = subprocess.run(cmd, env=user_environment(), cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit status {proc.returncode}: {tail}"}
    try:
        return parse(proc.stdout)
    except (ValueError, IndexError) as e:
        return {"error": f"unreadable output: {e}"}


def _torch_available():
    import importlib.util
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def default_data_dir():
    """``$TAPEGRAD_DATA``, else ``../shared/data`` beside the repository, else
    ``~/.cache/tapegrad`` (the example's own default)."""
    if os.environ.get("TAPEGRAD_DATA"):
        return os.environ["TAPEGRAD_DATA"]
    shared = os.path.join(os.path.dirname(ROOT), "shared", "data")
    if os.path.isdir(shared):
        return shared
    return os.path.join(os.path.expanduser("~"), ".cache", "tapegrad")


def run(busy, cases=CASES, loads=("spin",), repeat=DEFAULT_REPEAT, steps=DEFAULT_STEPS,
        threads=None, data_dir=None, compare_torch=True, progress=None, timeout=900):
    """Measure every case under every load; returns a list of result dicts, one per
    ``(case, load)``: ``{"case", "load", "busy_processes", "<library>": {"quiet_s": [...],
    "busy_s": [...], "slowdown": [...], "quiet_median_s", "busy_median_s", "slowdown_median",
    "slowdown_min", "slowdown_max"} or None, "loadavg_before": [...], "reason"}``.

    ``busy`` is the number of busy processes; ``progress(text)`` is called before each run."""
    libraries = [lib for lib in LIBRARIES if lib == "tapegrad" or (compare_torch
                                                                   and _torch_available())]
    data_dir = data_dir or default_data_dir()
    say = progress or (lambda text: None)
    results = []
    for case in cases:
        for load in loads:
            rec = {"case": case, "load": load, "busy_processes": busy, "loadavg_before": [],
                   "reason": None}
            runs = {lib: {"quiet_s": [], "busy_s": []} for lib in libraries}

            def once(lib, phase, case=case):
                say(f"{case} / {load}: {lib} {phase}")
                if case == EXAMPLE_CASE:
                    return _run_example(lib, data_dir, threads, timeout)
                return _run_workload(lib, case, steps, threads, timeout)

            for r in range(repeat):
                order = libraries if r % 2 == 0 else libraries[::-1]
                rec["loadavg_before"].append(round(os.getloadavg()[0], 2))
                quiet = {lib: once(lib, "quiet") for lib in order}
                with BusyProcesses(busy, load):
                    noisy = {lib: once(lib, f"busy ({busy} x {load})") for lib in order}
                for lib in libraries:
                    for phase, got in (("quiet_s", quiet[lib]), ("busy_s", noisy[lib])):
                        if "seconds" in got:
                            runs[lib][phase].append(got["seconds"])
                        else:
                            rec["reason"] = f"{lib}: {got.get('skipped') or got.get('error')}"
            for lib in LIBRARIES:
                rec[lib] = _summary(runs[lib]) if lib in runs else None
            results.append(rec)
    return results


def _summary(r):
    q, b = r["quiet_s"], r["busy_s"]
    if not q or not b:
        return None
    ratios = [bb / qq for qq, bb in zip(q, b)]
    return {"quiet_s": q, "busy_s": b, "slowdown": ratios,
            "quiet_median_s": statistics.median(q), "busy_median_s": statistics.median(b),
            "slowdown_median": statistics.median(ratios), "slowdown_min": min(ratios),
            "slowdown_max": max(ratios)}


def _time(seconds):
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def _rows(results):
    rows = []
    for r in results:
        row = [r["case"], f"{r['busy_processes']} x {r['load']}"]
        for lib in LIBRARIES:
            s = r.get(lib)
            if s is None:
                row += ["-", "-"]
                continue
            row.append(f"{_time(s['quiet_median_s'])} -> {_time(s['busy_median_s'])}")
            row.append(f"{s['slowdown_median']:.2f} ({s['slowdown_min']:.2f}-"
                       f"{s['slowdown_max']:.2f})")
        load = r["loadavg_before"]
        row.append(f"{min(load):.1f}-{max(load):.1f}" if load else "-")
        row.append(r["reason"] or "")
        rows.append(row)
    return rows


COLUMNS = ["case", "busy load", "tapegrad quiet -> busy", "tapegrad slowdown",
           "torch quiet -> busy", "torch slowdown", "load avg", "notes"]


def format_table(results):
    """Plain-text table (slowdown = busy / quiet: median (min-max) over the repetitions)."""
    body = _rows(results)
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c)
              for i, c in enumerate(COLUMNS)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(COLUMNS), line(["-" * w for w in widths])] + [line(r) for r in body])


def format_markdown(results):
    """The same table in GitHub Markdown (for the README)."""
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * 5 + ["---"])
           + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in _rows(results)]
    return "\n".join(out)


def main(args):
    """Run the contention mode for the parsed CLI ``args`` (``--contention N`` and friends);
    returns the exit status."""
    cases = args.only or list(CASES)
    loads = [x.strip() for x in args.contention_load.split(",") if x.strip()]
    bad = [x for x in loads if x not in LOADS]
    if bad:
        print(f"--contention-load: unknown load(s) {', '.join(bad)}; choose from "
              f"{', '.join(LOADS)}", file=sys.stderr)
        return 2
    compare = True  # the point of this mode is the side-by-side slowdown
    if not _torch_available():
        print("--contention: PyTorch is not importable; reporting tapegrad only", file=sys.stderr)
    show = None if args.no_progress else (lambda text: print(f"[contention] {text}",
                                                             file=sys.stderr, flush=True))
    started = time.time()
    results = run(args.contention, cases=cases, loads=loads, repeat=args.contention_repeat,
                  steps=args.contention_steps, threads=args.threads, data_dir=args.data_dir,
                  compare_torch=compare, progress=show)
    head = (f"Contention: slowdown = time with {args.contention} busy process(es) / time on the "
            f"quiet machine, median (min-max) of {args.contention_repeat} interleaved "
            f"repetition(s), fresh processes with library defaults"
            f"{'' if args.threads is None else f', {args.threads} threads'}; "
            f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}")
    if args.markdown:
        print(f"_{head}_\n")
        print(format_markdown(results))
    else:
        print(head)
        print()
        print(format_table(results))
    sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"contention": results, "settings": {
                "busy_processes": args.contention, "loads": loads, "repeat":
                args.contention_repeat, "steps": args.contention_steps, "threads": args.threads,
                "cpu_count": os.cpu_count(), "started": started}}, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0

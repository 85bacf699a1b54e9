"""``python -m benchmarks --suite scale``: the workloads of issue 16 at the sizes users train.

Each *family* runs at two or three sizes (the same model code on both libraries, one training
step per timed iteration, tapegrad and PyTorch interleaved in one process as in the default
suite, see :mod:`benchmarks.runner`):

============  ============================================================  ===============
family        one training step                                             sizes
============  ============================================================  ===============
resnet        small ResNet: stem Conv2d(3, 64, 3) + BN + ReLU, two basic    batch 32, 128
              blocks (3x3 conv + BN + ReLU + 3x3 conv + BN, identity
              shortcut, ReLU), global average pool, Linear(64, 10);
              (N, 3, 32, 32), cross-entropy, SGD(0.1, momentum 0.9)
resnet_dw     the same, the first conv of each block a depthwise 3x3        batch 32, 128
              (groups = 64) followed by a pointwise 1x1
transformer   TransformerEncoderLayer(256, 8, 1024, dropout=0,              length 64, 256,
              batch_first=True), batch 8, mean of the output, Adam(1e-3)    512
mlp           MLP 784-W-W-10 (ReLU), batch 256, cross-entropy, Adam(1e-3)   W 1024, 4096
lstm          LSTM(64, 256, num_layers=2, batch_first=True), batch 32, then  length 50, 200
              Linear(256, 10) on the last step, cross-entropy, Adam(1e-3)
============  ============================================================  ===============

Besides the timing table (and, with ``--plot FILE.png``, the ratio against size per family),
the suite measures the **peak memory** of every workload for both libraries in separate
processes (``--no-memory`` skips it): a fresh interpreter imports the library, builds the
workload, runs its warm-up and a few steps, and reports ``VmHWM`` (the process's peak resident
set, Linux ``/proc/self/status``) and the increase of that peak over the resident set just
before the model was built ("workload peak": model, optimizer state, activations, gradients,
scratch buffers and the libraries' caches; the interpreter and the imported libraries are
subtracted). One process per (workload, library), so one library's allocator never holds
memory that the other's measurement would count.

``--only`` takes family names or ``family/size`` keys (``--only resnet_dw,mlp/4096``);
``--tiny`` runs the same models at the tiny sizes of :data:`TINY_FAMILIES` (the tests' smoke
run, seconds). Defaults: 5 timed steps or 6 s per workload and library (``benchmarks/cli.py``),
so the whole suite takes a few minutes on a quiet 2-core machine (11 minutes at a load of ~10).
"""

import json
import os
import subprocess
import sys
import time

import numpy as np

from .workloads import Setup, Workload, _mean_loss, _train_step, conv2d_flop, linear_flop

__all__ = ["SCALE_WORKLOADS", "FAMILIES", "select", "measure_memory", "plot_scale",
           "format_memory", "main"]


# ---- small ResNet (plain and depthwise) ---------------------------------------------------------
RES_WIDTH, RES_CLASSES = 64, 10


def _resnet_model(ns, depthwise):
    nn = ns.nn
    c = RES_WIDTH

    def first_conv():
        if depthwise:  # depthwise 3x3 then pointwise 1x1 (MobileNet's separable convolution)
            return nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False),
                                 nn.Conv2d(c, c, 1, bias=False))
        return nn.Conv2d(c, c, 3, padding=1, bias=False)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = first_conv()
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + x)

    return nn.Sequential(
        nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
        Block(), Block(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, RES_CLASSES))


def _resnet_data(batch):
    def make(rng):
        return {"x": rng.standard_normal((batch, 3, 32, 32), dtype=np.float32),
                "y": rng.integers(0, RES_CLASSES, batch).astype(np.int64)}
    return make


def _resnet_setup(depthwise):
    def setup(ns, data):
        model = _resnet_model(ns, depthwise)
        optimizer = ns.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return Setup(_train_step(model, ns.nn.CrossEntropyLoss(), optimizer,
                                 ns.tensor(data["x"]), ns.tensor(data["y"])), model)
    return setup


def _resnet_flop(batch, depthwise):
    c = RES_WIDTH
    flop = conv2d_flop(batch, 3, c, 32, 32, 3, input_grad=False) + linear_flop(batch, c, 10)
    for _ in range(2):
        if depthwise:  # the depthwise 3x3 (one input channel per output) + the 1x1
            flop += conv2d_flop(batch, 1, c, 32, 32, 3) + conv2d_flop(batch, c, c, 32, 32, 1)
        else:
            flop += conv2d_flop(batch, c, c, 32, 32, 3)
        flop += conv2d_flop(batch, c, c, 32, 32, 3)
    return flop


# ---- transformer encoder layer ------------------------------------------------------------------
TF_D, TF_HEADS, TF_FF, TF_BATCH = 256, 8, 1024, 8


def _tf_data(length):
    def make(rng):
        return {"x": rng.standard_normal((TF_BATCH, length, TF_D), dtype=np.float32)}
    return make


def _tf_setup(ns, data):
    layer = ns.nn.TransformerEncoderLayer(TF_D, TF_HEADS, TF_FF, dropout=0.0, batch_first=True)
    optimizer = ns.optim.Adam(layer.parameters(), lr=1e-3)
    return Setup(_train_step(layer, _mean_loss, optimizer, ns.tensor(data["x"]), None), layer)


def _tf_flop(length):
    t = TF_BATCH * length
    return (linear_flop(t, TF_D, 3 * TF_D, input_grad=False) + linear_flop(t, TF_D, TF_D)
            + linear_flop(t, TF_D, TF_FF) + linear_flop(t, TF_FF, TF_D)
            + 2 * 3 * (2 * TF_BATCH * length * length * TF_D))


# ---- MLP ----------------------------------------------------------------------------------------
MLP_BATCH = 256


def _mlp_data(rng):
    return {"x": rng.standard_normal((MLP_BATCH, 784), dtype=np.float32),
            "y": rng.integers(0, 10, MLP_BATCH).astype(np.int64)}


def _mlp_setup(width):
    def setup(ns, data):
        nn = ns.nn
        model = nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width),
                              nn.ReLU(), nn.Linear(width, 10))
        optimizer = ns.optim.Adam(model.parameters(), lr=1e-3)
        return Setup(_train_step(model, nn.CrossEntropyLoss(), optimizer, ns.tensor(data["x"]),
                                 ns.tensor(data["y"])), model)
    return setup


def _mlp_flop(width):
    return (linear_flop(MLP_BATCH, 784, width, input_grad=False)
            + linear_flop(MLP_BATCH, width, width) + linear_flop(MLP_BATCH, width, 10))


# ---- LSTM ---------------------------------------------------------------------------------------
LSTM_BATCH, LSTM_IN, LSTM_H, LSTM_LAYERS = 32, 64, 256, 2


def _lstm_data(length):
    def make(rng):
        return {"x": rng.standard_normal((LSTM_BATCH, length, LSTM_IN), dtype=np.float32),
                "y": rng.integers(0, 10, LSTM_BATCH).astype(np.int64)}
    return make


def _lstm_setup(ns, data):
    nn = ns.nn

    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(LSTM_IN, LSTM_H, num_layers=LSTM_LAYERS, batch_first=True)
            self.head = nn.Linear(LSTM_H, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    model = LastStep()
    optimizer = ns.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(_train_step(model, nn.CrossEntropyLoss(), optimizer, ns.tensor(data["x"]),
                             ns.tensor(data["y"])), model)


def _lstm_flop(length):
    b, h = LSTM_BATCH, LSTM_H
    flop = length * linear_flop(b, LSTM_IN, 4 * h, input_grad=False)   # layer 1 input
    flop += length * linear_flop(b, h, 4 * h)                           # layer 2 input
    flop += LSTM_LAYERS * length * linear_flop(b, h, 4 * h)             # recurrences
    return flop + linear_flop(b, h, 10)


# ---- the registry -------------------------------------------------------------------------------
def _w(name, description, make_data, setup, flop, requires=()):
    return Workload(name, description, make_data, setup, flop=flop, requires=requires)


FAMILIES = {
    "resnet": ("batch", [32, 128]),
    "resnet_dw": ("batch", [32, 128]),
    "transformer": ("length", [64, 256, 512]),
    "mlp": ("width", [1024, 4096]),
    "lstm": ("length", [50, 200]),
}

# ``--tiny``: the same models at sizes that run in seconds (the suite's smoke test)
TINY_FAMILIES = {
    "resnet": ("batch", [2]),
    "resnet_dw": ("batch", [2]),
    "transformer": ("length", [4, 8]),
    "mlp": ("width", [16, 32]),
    "lstm": ("length", [3]),
}


def make_workloads(families=None):
    """``{"family/size": Workload}`` for the sizes in ``families`` (default :data:`FAMILIES`;
    :data:`TINY_FAMILIES` for ``--tiny``)."""
    families = FAMILIES if families is None else families
    out = {}
    for b in families["resnet"][1]:
        out[f"resnet/{b}"] = _w(
            f"resnet/{b}", f"small ResNet (stem 3->64, 2 basic blocks of 3x3 convs + BN), "
            f"({b}, 3, 32, 32), SGD", _resnet_data(b), _resnet_setup(False),
            _resnet_flop(b, False), ("nn.BatchNorm2d",))
    for b in families["resnet_dw"][1]:
        out[f"resnet_dw/{b}"] = _w(
            f"resnet_dw/{b}", f"the small ResNet with depthwise 3x3 (groups=64) + pointwise "
            f"1x1 as each block's first conv, ({b}, 3, 32, 32), SGD", _resnet_data(b),
            _resnet_setup(True), _resnet_flop(b, True), ("nn.BatchNorm2d",))
    for n in families["transformer"][1]:
        out[f"transformer/{n}"] = _w(
            f"transformer/{n}", f"TransformerEncoderLayer(256, 8, 1024, dropout=0) on "
            f"({TF_BATCH}, {n}, 256), Adam", _tf_data(n), _tf_setup, _tf_flop(n),
            ("nn.TransformerEncoderLayer",))
    for wd in families["mlp"][1]:
        out[f"mlp/{wd}"] = _w(
            f"mlp/{wd}", f"MLP 784-{wd}-{wd}-10, batch {MLP_BATCH}, Adam", _mlp_data,
            _mlp_setup(wd), _mlp_flop(wd))
    for n in families["lstm"][1]:
        out[f"lstm/{n}"] = _w(
            f"lstm/{n}", f"LSTM(64, 256, 2 layers) on ({LSTM_BATCH}, {n}, 64) + Linear, Adam",
            _lstm_data(n), _lstm_setup, _lstm_flop(n), ("nn.LSTM",))
    return out


SCALE_WORKLOADS = make_workloads()
TINY_WORKLOADS = make_workloads(TINY_FAMILIES)


def _registry(tiny):
    return TINY_WORKLOADS if tiny else SCALE_WORKLOADS


def select(only, tiny=False):
    """The workload keys named by ``only`` (family names or ``family/size`` keys; ``None``:
    all), in registry order. Raises ``ValueError`` naming an unknown name."""
    registry = _registry(tiny)
    if not only:
        return list(registry)
    keys = []
    for name in only:
        if name in registry:
            keys.append(name)
        elif name in FAMILIES:
            keys += [k for k in registry if k.split("/")[0] == name]
        else:
            raise ValueError(f"--suite scale --only: unknown workload {name!r}; choose from "
                             f"{', '.join(FAMILIES)} or {', '.join(registry)}")
    return list(dict.fromkeys(keys))


# ---- peak memory (one fresh process per workload and library) -----------------------------------
def _status_kib(field):
    """A ``/proc/self/status`` field in KiB (``VmRSS``, ``VmHWM``), or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def memory_child(library, key, steps=3, threads=None, tiny=False):
    """Run in a fresh process (see :func:`measure_memory`): build workload ``key`` on
    ``library``, one warm-up and ``steps`` steps; print one JSON line with the peaks in MiB."""
    from .workloads import tapegrad_namespace, torch_namespace
    ns = tapegrad_namespace() if library == "tapegrad" else torch_namespace()
    if threads:
        ns.lib.set_num_threads(int(threads))
    work = _registry(tiny)[key]
    data = work.make_data(np.random.default_rng(0))
    before = _status_kib("VmRSS")
    ns.manual_seed(0)
    setup = work.setup(ns, data)
    for _ in range(1 + steps):
        setup.step()
    peak = _status_kib("VmHWM")
    mib = 1024.0
    print(json.dumps({"peak_mib": None if peak is None else peak / mib,
                      "baseline_mib": None if before is None else before / mib,
                      "workload_peak_mib": None if None in (peak, before)
                      else (peak - before) / mib}))


def measure_memory(keys, libraries=("tapegrad", "torch"), threads=None, timeout=900,
                   tiny=False):
    """``{key: {library: {"peak_mib", "baseline_mib", "workload_peak_mib"} or
    {"error": text}}}``, one fresh interpreter per (key, library)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    out = {}
    for key in keys:
        out[key] = {}
        for lib in libraries:
            code = ("import sys; from benchmarks.scale import memory_child; "
                    "memory_child(sys.argv[1], sys.argv[2], threads=sys.argv[3] or None, "
                    "tiny=sys.argv[4] == '1')")
            cmd = [sys.executable, "-c", code, lib, key, str(threads or ""), "1" if tiny else "0"]
            try:
                proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True,
                                      timeout=timeout)
            except subprocess.TimeoutExpired:
                out[key][lib] = {"error": f"timed out after {timeout} s"}
                continue
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                out[key][lib] = {"error": f"exit {proc.returncode}: {tail}"}
                continue
            out[key][lib] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# ---- reports ------------------------------------------------------------------------------------
def _load():
    """``os.getloadavg()`` as text (the machine's load beside each figure)."""
    try:
        return "load %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load n/a"


def _fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def format_scale(results, memory, markdown=False):
    """The suite's table: per workload the medians (min-max), the ratio, the GFLOP/s of both
    and (if measured) the workload peak memory of both, in MiB."""
    from .report import format_ms

    head = ["workload", "size", "tapegrad ms", "torch ms", "ratio", "GFLOP/s tg / torch",
            "peak MiB tg / torch", "load"]
    lines = []
    for r in results:
        fam, size = r["name"].split("/")
        tg, th = r.get("tapegrad"), r.get("torch")

        def cell(s):
            return "-" if not s else (f"{format_ms(s['median_ms'])} ({format_ms(s['min_ms'])}-"
                                      f"{format_ms(s['max_ms'])})")
        gf = " / ".join(_fmt(s.get("gflops"), 1) for s in (tg, th) if s) or "-"
        mem = memory.get(r["name"]) if memory else None
        if mem:
            m = " / ".join(_fmt(mem.get(lib, {}).get("workload_peak_mib"), 0)
                           for lib in ("tapegrad", "torch"))
        else:
            m = "-"
        ratio = _fmt(r.get("ratio"))
        if r["status"] != "ok":
            ratio = f"{r['status']}: {r['reason']}"
        lines.append([fam, f"{FAMILIES[fam][0]} {size}", cell(tg), cell(th), ratio, gf, m,
                      r.get("load", "")])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(row) + " |" for row in lines]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in lines]
    return "\n".join(out)


def plot_scale(results, path, title=None):
    """Ratio (tapegrad / PyTorch, median with the min/max-based spread) against size, one panel
    per family, with the parity line and the issue's 0.8 goal. Returns False when there is
    nothing to plot."""
    from .report import pyplot, save_figure
    plt = pyplot()
    by_fam = {}
    for r in results:
        if r.get("ratio") is None:
            continue
        fam, size = r["name"].split("/")
        tg, th = r["tapegrad"], r["torch"]
        lo = tg["min_ms"] / th["max_ms"]
        hi = tg["max_ms"] / th["min_ms"]
        by_fam.setdefault(fam, []).append((int(size), r["ratio"], lo, hi))
    if not by_fam:
        return False
    fig, axes = plt.subplots(1, len(by_fam), figsize=(2.6 * len(by_fam), 2.8), squeeze=False)
    for ax, (fam, pts) in zip(axes[0], by_fam.items()):
        pts.sort()
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        ax.errorbar(xs, ys, yerr=[[y - p[2] for y, p in zip(ys, pts)],
                                  [p[3] - y for y, p in zip(ys, pts)]],
                    marker="o", capsize=3, lw=1.5)
        ax.axhline(1.0, color="grey", lw=0.8)
        goal = 1.0 if fam == "resnet_dw" else 0.8
        ax.axhline(goal, color="green", lw=0.8, ls="--")
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
        ax.set_title(fam, fontsize=9)
        ax.set_xlabel(FAMILIES[fam][0], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(0, max(1.6, max(p[3] for p in pts) * 1.05))
    axes[0][0].set_ylabel("tapegrad / PyTorch time", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=8)
    return save_figure(plt, fig, path, dpi=80)


def format_memory(memory):
    """The peak-memory table alone (MiB): workload peak and process peak per library."""
    lines = ["workload         tapegrad peak (process)   torch peak (process)   tg / torch"]
    for key, libs in memory.items():
        cells = []
        for lib in ("tapegrad", "torch"):
            m = libs.get(lib, {})
            if "error" in m:
                cells.append(f"error: {m['error']}"[:24].ljust(24))
            else:
                cells.append(f"{_fmt(m.get('workload_peak_mib'), 0)} ({_fmt(m.get('peak_mib'), 0)})"
                             .ljust(24))
        a = libs.get("tapegrad", {}).get("workload_peak_mib")
        b = libs.get("torch", {}).get("workload_peak_mib")
        ratio = _fmt(a / b) if a is not None and b else "-"
        lines.append(f"{key.ljust(16)} {cells[0]}  {cells[1]} {ratio}")
    return "\n".join(lines)


def main(args):
    """``python -m benchmarks --suite scale [--compare torch] [--threads N] [--only ...]
    [--plot FILE.png] [--json FILE] [--markdown] [--no-memory]``; returns the exit status."""
    from . import runner
    try:
        keys = select(args.only, args.tiny)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    namespaces, message = runner.load_namespaces(args.compare)
    if message:
        print(message, file=sys.stderr)
    torch_ns = namespaces[1] if len(namespaces) > 1 else None
    results = []
    try:
        if args.threads is not None:
            for warning in runner.configure_threads(args.threads, torch_ns):
                print(f"warning: {warning}", file=sys.stderr)
        for key in keys:
            if not args.no_progress:
                print(f"[scale] {key} ({_load()})", file=sys.stderr, flush=True)
            if args.threads is not None:
                runner._set_tapegrad_threads(args.threads)
            t0 = time.perf_counter()
            r = runner.run_workload(_registry(args.tiny)[key], namespaces, repeat=args.repeat,
                                    warmup=args.warmup, max_time=args.max_time, seed=args.seed)
            r["load"] = _load()
            r["wall_s"] = time.perf_counter() - t0
            results.append(r)
        env = runner.environment(namespaces, args.threads)
    finally:
        if args.threads is not None:
            runner.restore_threads(torch_ns)
    memory = {}
    if not args.no_memory:
        libs = ("tapegrad", "torch") if torch_ns is not None else ("tapegrad",)
        if not args.no_progress:
            print(f"[scale] peak memory: {len(keys) * len(libs)} processes", file=sys.stderr,
                  flush=True)
        memory = measure_memory(keys, libs, args.threads, tiny=args.tiny)
    print(f"tapegrad {env['tapegrad']} vs torch {env['torch']}, {env['cpu_model']} "
          f"({env['cpu_count']} cores), threads {args.threads or 'default'}; interleaved, "
          f"median (min-max) ms per step; ratio = tapegrad / torch")
    print(format_scale(results, memory, markdown=args.markdown))
    sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "memory": memory, "environment": env,
                       "settings": {"repeat": args.repeat, "warmup": args.warmup,
                                    "max_time_s": args.max_time, "threads": args.threads}},
                      f, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)
    if args.plot:
        title = (f"tapegrad vs torch {env['torch']}, {env['cpu_model']}, "
                 f"{args.threads or 'default'} threads")
        if plot_scale(results, args.plot, title):
            print(f"wrote {args.plot}", file=sys.stderr)
        else:
            print(f"--plot: no ratios (run with --compare torch); {args.plot} not written",
                  file=sys.stderr)
    return 0


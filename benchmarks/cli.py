"""The command line of ``python -m benchmarks`` (see the package docstring for how to read it)."""

import argparse
import sys

from .workloads import WORKLOADS

__all__ = ["build_parser", "parse_args", "main"]


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


DEFAULT_REPEAT = 20
DEFAULT_COLD_RUNS = 3


def build_parser():
    """The argparse parser of ``python -m benchmarks``."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time tapegrad's training steps and kernels, optionally against PyTorch "
                    "on the same machine, in the same process (interleaved runs). Ratios are "
                    "tapegrad's median time over PyTorch's: lower is better for tapegrad.")
    p.add_argument("--compare", choices=["torch"], default=None,
                   help="also run every workload in PyTorch (same data, same initial weights), "
                        "interleaved with tapegrad")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="threads for tapegrad (autograd.set_num_threads: Numba and BLAS via "
                        "threadpoolctl) and PyTorch (default: the libraries' defaults)")
    p.add_argument("--repeat", type=_positive_int, default=None, metavar="N",
                   help=f"timed steps per workload and library (default: {DEFAULT_REPEAT}; "
                        f"fewer if --max-time runs out); with --cold-start, processes per "
                        f"configuration (default: {DEFAULT_COLD_RUNS})")
    p.add_argument("--cold-start", action="store_true",
                   help="instead of the workloads, time fresh processes from 'import autograd, "
                        "nn' to the end of the first LeNet training step, with a cold and a "
                        "warm Numba cache (temporary NUMBA_CACHE_DIR), next to PyTorch's "
                        "'import torch' to the same point (with --compare torch)")
    p.add_argument("--warmup", type=_non_negative_int, default=2, metavar="N",
                   help="untimed steps first, including JIT compilation (default: %(default)s)")
    p.add_argument("--max-time", type=_positive_float, default=10.0, metavar="SECONDS",
                   help="stop timing a workload after this many seconds, once it has at least "
                        "3 repetitions (default: %(default)s)")
    p.add_argument("--only", default=None, metavar="NAMES",
                   help="comma-separated workloads to run (see --list)")
    p.add_argument("--seed", type=int, default=0, help="seed for data and weights (default: 0)")
    p.add_argument("--json", default=None, metavar="FILE", help="write a JSON report to FILE")
    p.add_argument("--plot", default=None, metavar="FILE.png",
                   help="save a bar chart of the tapegrad/torch ratios (needs --compare torch)")
    p.add_argument("--markdown", action="store_true",
                   help="print the table as GitHub Markdown (for the README)")
    p.add_argument("--contention", type=_positive_int, default=None, metavar="N",
                   help="instead of the in-process timings, start N busy processes and report "
                        "each library's slowdown (busy / quiet) on the main example and the "
                        "workloads, in fresh processes run as a user's script "
                        "(benchmarks/contention.py; --only picks cases from "
                        "mnist_cnn,lenet,conv,mlp,attention,lstm)")
    p.add_argument("--contention-load", default="spin", metavar="KINDS",
                   help="busy load(s) for --contention, comma-separated: spin (pure Python "
                        "loops), gemm (NumPy GEMM loops, 1 BLAS thread each) (default: spin)")
    p.add_argument("--contention-repeat", type=_positive_int, default=3, metavar="N",
                   help="interleaved quiet/busy repetitions per case (default: %(default)s)")
    p.add_argument("--contention-steps", type=_positive_int, default=30, metavar="N",
                   help="timed steps per workload process (default: %(default)s)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="the MNIST IDX files for --contention's mnist_cnn case (default: "
                        "$TAPEGRAD_DATA or ../shared/data)")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel scaling (LeNet, MLP: 1 rank x 1 and N threads, N ranks x "
                        "1 thread with DDP) and DDP's all-reduce against raw mpi4py; launch "
                        "with mpiexec -n N (see benchmarks/distributed.py)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--profile", default=None, metavar="NAME",
                   help="print the profiler's table for one workload (benchmarks/profiling.py)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def parse_args(argv=None):
    """Parse and validate the arguments (an unknown ``--only`` name exits with status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.cold_start_runs = args.repeat or DEFAULT_COLD_RUNS
    args.repeat = args.repeat or DEFAULT_REPEAT
    if args.only is not None:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        if args.contention is not None:
            from .contention import CASES as valid
        else:
            valid = WORKLOADS
        unknown = [n for n in names if n not in valid]
        if unknown:
            parser.error(f"--only: unknown workload(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(valid)}")
        if not names:
            parser.error("--only: no workload named")
        args.only = list(dict.fromkeys(names))
    return args


def list_workloads(out=sys.stdout):
    """Print every workload with its description and whether tapegrad can run it."""
    from .workloads import tapegrad_namespace
    ns = tapegrad_namespace()
    width = max(len(n) for n in WORKLOADS)
    for name, w in WORKLOADS.items():
        reason = w.unavailable_reason(ns)
        tail = f"  [{reason}]" if reason else ""
        print(f"{name.ljust(width)}  {w.description}{tail}", file=out)


def main(argv=None):
    """Entry point: parse ``argv``, run the workloads, print the table, write JSON/plot.

    Returns the exit status (0; argument errors exit with 2 through argparse)."""
    args = parse_args(argv)
    if args.list:
        list_workloads()
        return 0
    if args.profile:
        from .profiling import main as profile_main
        return profile_main(args)

    if args.distributed:
        from .distributed import main as distributed_main
        return distributed_main(args)

    from . import report, runner

    if args.cold_start:
        return _cold_start_main(args, runner)
    if args.contention is not None:
        from . import contention
        return contention.main(args)

    namespaces, message = runner.load_namespaces(args.compare)
    if message:
        print(message, file=sys.stderr)
    compare = len(namespaces) > 1
    torch_ns = namespaces[1] if compare else None
    try:
        if args.threads is not None:
            for warning in runner.configure_threads(args.threads, torch_ns):
                print(f"warning: {warning}", file=sys.stderr)
        names = args.only or list(WORKLOADS)
        settings = {"repeat": args.repeat, "warmup": args.warmup, "max_time_s": args.max_time,
                    "min_repeats": runner.MIN_REPEATS, "seed": args.seed,
                    "compare": args.compare if compare else None, "threads": args.threads,
                    "workloads": names, "interleaved": True, "timer": "time.perf_counter",
                    "statistic": "median"}
        results = runner.run_all(names, namespaces, repeat=args.repeat, warmup=args.warmup,
                                 max_time=args.max_time, seed=args.seed,
                                 progress=not args.no_progress, threads=args.threads)
        env = runner.environment(namespaces, args.threads)
    finally:
        if args.threads is not None:
            runner.restore_threads(torch_ns)
    head = report.header(env, settings)

    if args.markdown:
        print(f"_{head}_\n")
        print(report.format_markdown(results, compare))
    else:
        print(head)
        print()
        print(report.format_table(results, compare))
    sys.stdout.flush()

    if args.json:
        report.to_json(results, env, settings, args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    if args.plot:
        title = (f"tapegrad {env['tapegrad']} vs torch {env['torch']}, {env['cpu_model']}, "
                 f"{args.threads or 'default'} threads")
        if report.plot_ratios(results, args.plot, title=title):
            print(f"wrote {args.plot}", file=sys.stderr)
        else:
            print(f"--plot: no ratios to plot (run with --compare torch); {args.plot} not "
                  "written", file=sys.stderr)
    return 0


def format_cold_start(results, runs, threads):
    """The cold-start table (seconds, median with min-max over ``runs`` processes)."""
    lines = [f"Cold start: fresh process -> 'import autograd, nn' (or 'import torch') -> LeNet "
             f"built -> end of its first training step (batch 64, Adam); seconds, median "
             f"(min-max) of {runs} process(es), threads: {threads or 'default'}", ""]
    cols = [("wall_s", "process wall"), ("import_s", "import"), ("setup_s", "build model"),
            ("first_step_s", "first step")]
    width = max(len(n) for n in results) if results else 10
    head = "".ljust(width) + "".join(f"  {label:>20}" for _, label in cols)
    lines += [head, "-" * len(head)]
    for name, r in results.items():
        cells = "".join(
            "  " + f"{r['median'][k]:.2f} ({r['min'][k]:.2f}-{r['max'][k]:.2f})".rjust(20)
            for k, _ in cols)
        lines.append(name.ljust(width) + cells)
    torch_r = results.get("torch")
    if torch_r:
        lines.append("")
        for name in ("tapegrad (cold cache)", "tapegrad (warm cache)"):
            if name in results:
                ratio = results[name]["median"]["wall_s"] / torch_r["median"]["wall_s"]
                lines.append(f"{name} / torch (process wall): {ratio:.2f}")
    lines.append("'process wall' runs from starting the interpreter to its exit; 'import' "
                 "includes autograd.set_num_threads with --threads; 'first step' includes "
                 "Numba's compilation (cold) or cache loading (warm).")
    return "\n".join(lines)


def _cold_start_main(args, runner):
    import json
    results = runner.cold_start(runs=args.cold_start_runs, threads=args.threads,
                                compare_torch=args.compare == "torch",
                                progress=not args.no_progress)
    print(format_cold_start(results, args.cold_start_runs, args.threads))
    sys.stdout.flush()
    if args.json:
        env = runner.environment([runner.tapegrad_namespace()], args.threads)
        with open(args.json, "w") as f:
            json.dump({"cold_start": results, "environment": env,
                       "settings": {"runs": args.cold_start_runs, "threads": args.threads,
                                    "compare": args.compare}}, f, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0

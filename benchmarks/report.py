"""Reports: the text table (stdout), its Markdown version, the JSON file and the ratio plot."""

import json

__all__ = ["rows", "format_table", "format_markdown", "header", "to_json", "plot_ratios",
           "format_ms"]

COLUMNS = ["workload", "tapegrad ms median (min-max)", "torch ms median (min-max)",
           "ratio tg/torch", "GFLOP/s tg / torch", "notes"]


def format_ms(value):
    """A millisecond value with about three significant digits."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _timing(stats, dash="-"):
    if not stats:
        return dash
    return (f"{format_ms(stats['median_ms'])} ({format_ms(stats['min_ms'])}-"
            f"{format_ms(stats['max_ms'])})")


def _gflops(result):
    tg, th = result.get("tapegrad"), result.get("torch")
    values = [s["gflops"] for s in (tg, th) if s and s.get("gflops") is not None]
    if not values:
        return ""
    return " / ".join(f"{v:.1f}" for v in values)


def _notes(result):
    notes = []
    if result["status"] != "ok":
        notes.append(f"{result['status']}: {result['reason']}")
    elif result.get("reason"):
        notes.append(result["reason"])
    tg, th = result.get("tapegrad"), result.get("torch")
    if tg and tg.get("per_op_us") is not None:
        per_op = f"{tg['per_op_us']:.1f} us/op"
        if th and th.get("per_op_us") is not None:
            per_op += f" (torch {th['per_op_us']:.1f})"
        notes.append(per_op)
    if tg and tg.get("repeats"):
        notes.append(f"n={tg['repeats']}")
    return "; ".join(notes)


def rows(results, compare=True):
    """The table's rows (lists of strings), one per workload, columns as :data:`COLUMNS`
    (without the torch columns when ``compare`` is false)."""
    out = []
    for r in results:
        row = [r["name"], _timing(r.get("tapegrad"))]
        if compare:
            row.append(_timing(r.get("torch")))
            row.append(f"{r['ratio']:.2f}" if r.get("ratio") is not None else "-")
        row.append(_gflops(r))
        row.append(_notes(r))
        out.append(row)
    return out


def _columns(compare):
    if compare:
        return list(COLUMNS)
    return ["workload", "tapegrad ms median (min-max)", "GFLOP/s", "notes"]


def header(env, settings):
    """One line describing the run (versions, CPU, threads, protocol)."""
    threads = env["threads"]
    parts = [f"tapegrad {env['tapegrad']}"]
    if env.get("torch"):
        parts.append(f"vs torch {env['torch']}")
    parts.append(f"| numpy {env['numpy']}, numba {env['numba']}, python {env['python']}")
    parts.append(f"| {env['cpu_model']}, {env['cpu_affinity'] or env['cpu_count']} CPUs")
    t = f"| threads: numba {threads['numba']}"
    if threads.get("torch") is not None:
        t += f", torch {threads['torch']}"
    blas = [p["num_threads"] for p in threads.get("threadpools") or []
            if p["user_api"] == "blas"]
    if blas:
        t += f", BLAS {'/'.join(str(b) for b in blas)}"
    parts.append(t)
    if env.get("torch"):
        parts.append(f"| median of up to {settings['repeat']} interleaved steps after "
                     f"{settings['warmup']} warm-up; ratio = tapegrad/torch, lower is better")
    else:
        parts.append(f"| median of up to {settings['repeat']} steps after "
                     f"{settings['warmup']} warm-up")
    parts.append(f"| {env['date']}")
    return " ".join(parts)


def format_table(results, compare=True):
    """A plain-text table with aligned columns."""
    cols = _columns(compare)
    body = rows(results, compare)
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c)
              for i, c in enumerate(cols)]
    right = {1, 2, 3, 4} if compare else {1, 2}

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    return "\n".join(out)


def format_markdown(results, compare=True):
    """The same table in GitHub Markdown (for the README)."""
    cols = _columns(compare)
    body = rows(results, compare)
    align = ["---"] + ["---:"] * (len(cols) - 2) + ["---"]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    return "\n".join(out)


def to_json(results, env, settings, path):
    """Write the machine-readable report: ``{"environment", "settings", "workloads"}`` where each
    workload has ``name, description, status, reason, flop_per_step, ops_per_step, ratio`` and,
    per library (``tapegrad``, ``torch``; ``null`` when not run), ``times_ms`` (raw per-step
    times), ``median_ms``, ``min_ms``, ``max_ms``, ``repeats``, ``first_step_ms`` (the first
    warm-up step, including JIT compilation), ``first_loss``, ``gflops``, ``per_op_us``."""
    doc = {"environment": env, "settings": settings, "workloads": results}
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no display)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(plt, fig, path, dpi):
    """Lay out ``fig``, save it to ``path`` at ``dpi`` and close it; returns True."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


def plot_ratios(results, path, title=""):
    """Bar chart of tapegrad/torch median ratios (log scale, a line at 1.0) saved to ``path``
    with matplotlib's Agg backend. Returns ``False`` (and writes nothing) when no workload has
    a ratio."""
    data = [(r["name"], r["ratio"]) for r in results if r.get("ratio") is not None]
    if not data:
        return False
    plt = pyplot()

    names, values = zip(*data)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(names) + 2), 4.2))
    colors = ["tab:green" if v <= 1 else "tab:red" for v in values]
    bars = ax.bar(names, values, color=colors)
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="same speed as PyTorch")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_ylabel("tapegrad / torch median time (lower is better)")
    for bar, v in zip(bars, values):
        ax.annotate(f"{v:.2f}x", (bar.get_x() + bar.get_width() / 2, v), ha="center",
                    va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    lo, hi = min(min(values), 1.0), max(max(values), 1.0)
    ax.set_ylim(lo / 1.6, hi * 1.6)
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(plt, fig, path, dpi=120)

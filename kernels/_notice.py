"""Tell the user, once per process, when tapegrad's kernels are being compiled.

Numba compiles a kernel on its first call with a new signature unless its on-disk cache
(``cache=True``) already holds it; a cold cache costs seconds per kernel family, during which
a training loop's progress bar sits at 0%. Numba emits a ``"numba:compile"`` event around each
compilation and none when an overload is loaded from the cache (``numba.core.event``), so a
listener on that event sees exactly the cache misses. On the first miss of a function defined
in this package it prints, once, to stderr::

    tapegrad: compiling kernels for first use, about 10 s; cached in DIR (later runs load them;
    `python -m kernels.precompile` compiles ahead of time)

and at exit, if anything was compiled, the time it took. ``ESTIMATE_S`` is the measured cold
compile of the LeNet training step (conv, pool, cross-entropy; see the README's cold-start
table). ``TAPEGRAD_COMPILE_NOTICE=0`` silences both lines.
"""

import atexit
import os
import sys
import time

__all__ = ["install", "cache_dir", "compiled_seconds"]

ESTIMATE_S = 10
_state = {"installed": False, "told": False, "depth": 0, "t0": 0.0, "seconds": 0.0,
          "count": 0, "quiet": False}


def cache_dir():
    """Where Numba keeps this package's compiled kernels: ``NUMBA_CACHE_DIR`` when set, else
    the ``__pycache__`` folder beside the sources (Numba's default when it is writable)."""
    from numba.core import config
    if config.CACHE_DIR:
        return os.path.abspath(config.CACHE_DIR)
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")


def compiled_seconds():
    """``(count, seconds)``: kernels of this package compiled in this process (cache misses,
    outermost compilations only) and the wall time they took."""
    return _state["count"], _state["seconds"]


def _ours(data):
    disp = data.get("dispatcher") if isinstance(data, dict) else None
    fn = getattr(disp, "py_func", None)
    return fn is not None and (getattr(fn, "__module__", "") or "").startswith(__package__)


class _Listener:
    """A ``numba.core.event.Listener`` (built lazily so this module imports without Numba)."""

    @staticmethod
    def make():
        from numba.core import event

        class Listener(event.Listener):
            def on_start(self, ev):
                if not _ours(ev.data):
                    return
                if _state["depth"] == 0:
                    _state["t0"] = time.perf_counter()
                    if not _state["told"] and not _state["quiet"]:
                        _state["told"] = True
                        print(f"tapegrad: compiling kernels for first use, about {ESTIMATE_S} s; "
                              f"cached in {cache_dir()} (later runs load them; "
                              "`python -m kernels.precompile` compiles ahead of time)",
                              file=sys.stderr, flush=True)
                _state["depth"] += 1

            def on_end(self, ev):
                if not _ours(ev.data):
                    return
                _state["depth"] -= 1
                if _state["depth"] == 0:
                    _state["count"] += 1
                    _state["seconds"] += time.perf_counter() - _state["t0"]

        return Listener()


def _report():
    if _state["count"] and not _state["quiet"]:
        print(f"tapegrad: compiled {_state['count']} kernels in {_state['seconds']:.1f} s "
              f"(cached in {cache_dir()})", file=sys.stderr, flush=True)


def install():
    """Register the listener (once). Called when :mod:`kernels` is imported."""
    if _state["installed"]:
        return
    _state["installed"] = True
    _state["quiet"] = os.environ.get("TAPEGRAD_COMPILE_NOTICE", "1").strip() in ("0", "no",
                                                                                "false", "off")
    try:
        from numba.core import event
    except ImportError:  # an old Numba without the event API: no notice
        return
    event.register("numba:compile", _Listener.make())
    atexit.register(_report)

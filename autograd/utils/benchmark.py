"""``autograd.utils.benchmark`` (``torch.utils.benchmark``): :class:`Timer` and
:class:`Measurement` for timing Python statements.

::

    from autograd.utils.benchmark import Timer
    t = Timer(stmt="f(x)", globals={"f": f, "x": x})
    m = t.timeit(100)          # Measurement: m.mean, m.median (seconds per run), m.times
    m = t.blocked_autorange(min_run_time=0.2)

Built on :mod:`timeit` (``time.perf_counter``). Differences from PyTorch: only Python
statements (no C++ ``language``), no ``Compare`` table, no instruction counts; ``num_threads``
is applied with :func:`autograd.set_num_threads` for the duration of the measurement.
"""

import statistics
import textwrap
import timeit as _timeit

__all__ = ["Timer", "Measurement"]


class Measurement:
    """The result of a :class:`Timer` run (``torch.utils.benchmark.Measurement``).

    Attributes:
        number_per_run (int): statement executions per timed block.
        raw_times (list of float): seconds taken by each block.
        times (list of float): seconds per execution for each block
            (``raw_times[i] / number_per_run``).
        mean, median (float): of ``times``, in seconds; ``iqr`` their interquartile range.
        stmt, setup, label, sub_label, description, num_threads: what was timed.
    """

    def __init__(self, number_per_run, raw_times, stmt="", setup="pass", label=None,
                 sub_label=None, description=None, num_threads=1):
        self.number_per_run = int(number_per_run)
        self.raw_times = list(raw_times)
        self.stmt, self.setup = stmt, setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.num_threads = num_threads

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self):
        return statistics.fmean(self.times)

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def iqr(self):
        ts = sorted(self.times)
        if len(ts) < 2:
            return 0.0
        q = statistics.quantiles(ts, n=4, method="inclusive")
        return q[2] - q[0]

    @property
    def title(self):
        return self.label or self.stmt

    @staticmethod
    def _fmt(seconds):
        for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
            if seconds >= scale or unit == "ns":
                return f"{seconds / scale:.2f} {unit}"

    def __repr__(self):
        lines = [f"<autograd.utils.benchmark.Measurement object at {hex(id(self))}>",
                 self.title]
        if self.setup and self.setup != "pass":
            lines.append("setup:\n" + textwrap.indent(self.setup, "  "))
        if self.description:
            lines.append(f"  {self.description}")
        n = len(self.raw_times)
        if n > 1:
            lines.append(f"  Median: {self._fmt(self.median)}")
            lines.append(f"  IQR:    {self._fmt(self.iqr)} ({self._fmt(min(self.times))} to "
                         f"{self._fmt(max(self.times))})")
        else:
            lines.append(f"  {self._fmt(self.median)}")
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"per measurement, {self.num_threads} thread"
                     f"{'s' if self.num_threads > 1 else ''}")
        return "\n".join(lines)


class Timer:
    """Time a Python statement (``torch.utils.benchmark.Timer``).

    Args:
        stmt (str): the statement to time.
        setup (str): run once before timing.
        globals (dict, optional): the namespace ``stmt`` and ``setup`` run in.
        label, sub_label, description (str, optional): carried into the Measurement.
        num_threads (int): threads for tapegrad's kernels while timing.

    Raises:
        ValueError: ``stmt`` or ``setup`` is not a string, or ``num_threads < 1``.
    """

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=None, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language="python"):
        if not isinstance(stmt, str) or not isinstance(setup, str):
            raise ValueError("Timer: stmt and setup must be strings")
        if str(language).lower() not in ("python", "py", "language.python"):
            raise ValueError(f"Timer: only Python statements can be timed, got "
                             f"language={language!r}")
        if int(num_threads) < 1:
            raise ValueError(f"Timer: num_threads must be >= 1, got {num_threads}")
        self._stmt, self._setup = stmt, setup
        self._globals = dict(globals or {})
        self._label, self._sub_label, self._description = label, sub_label, description
        self._num_threads = int(num_threads)
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer or _timeit.default_timer,
                                    globals=self._globals)

    def _measure(self, number, repeats):
        from .._runtime import get_num_threads, set_num_threads
        old = get_num_threads()
        set_num_threads(self._num_threads)
        try:
            raw = [self._timer.timeit(number) for _ in range(repeats)]
        finally:
            set_num_threads(old)
        return Measurement(number, raw, self._stmt, self._setup, self._label, self._sub_label,
                           self._description, self._num_threads)

    def timeit(self, number=1000000):
        """Run ``stmt`` ``number`` times in one block (after one warm-up run); returns a
        :class:`Measurement` with one entry."""
        self._timer.timeit(1)
        return self._measure(int(number), 1)

    def repeat(self, repeat=-1, number=-1):
        """Not implemented, as in PyTorch's ``Timer.repeat``.

        Raises:
            NotImplementedError: always; use :meth:`timeit` or :meth:`blocked_autorange`."""
        raise NotImplementedError("Timer.repeat is not implemented (as in PyTorch); use "
                                  "timeit or blocked_autorange")

    def _block_size(self, min_block=0.01):
        number = 1
        while True:
            t = self._timer.timeit(number)
            if t >= min_block or number >= 10 ** 9:
                return number
            number *= 10

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Pick a block size taking at least ~10 ms, then time blocks until ``min_run_time``
        seconds have passed (at least one block); ``callback(number, seconds)`` is called after
        each block. Returns a :class:`Measurement`."""
        number = self._block_size()
        raw, total = [], 0.0
        while total < min_run_time or not raw:
            m = self._measure(number, 1)
            raw.append(m.raw_times[0])
            total += m.raw_times[0]
            if callback is not None:
                callback(number, m.raw_times[0])
        return Measurement(number, raw, self._stmt, self._setup, self._label, self._sub_label,
                           self._description, self._num_threads)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        """Time blocks until the IQR/median ratio falls under ``threshold`` (after at least
        ``min_run_time``) or ``max_run_time`` seconds pass. Returns a :class:`Measurement`."""
        number = self._block_size()
        raw, total = [], 0.0
        while True:
            m = self._measure(number, 1)
            raw.append(m.raw_times[0])
            total += m.raw_times[0]
            if callback is not None:
                callback(number, m.raw_times[0])
            meas = Measurement(number, raw, self._stmt, self._setup, self._label,
                               self._sub_label, self._description, self._num_threads)
            if len(raw) > 3 and total >= min_run_time and meas.iqr / meas.median < threshold:
                return meas
            if total >= max_run_time:
                return meas

"""tapegrad's ``autograd``: Tensor, the tape-based reverse-mode engine, the op library, grad
modes, ``gradcheck``, random numbers, data loading and datasets.

PyTorch code ports by renaming ``torch`` to ``autograd`` (``torch.nn`` -> ``nn``,
``torch.optim`` -> ``optim``, ``torch.utils.data`` -> ``autograd.data``)::

    import autograd
    x = autograd.randn(3, 4, requires_grad=True)
    y = (x @ x.T).relu().sum()
    y.backward()
    x.grad.shape          # (3, 4)

The submodules ``autograd.data`` and ``autograd.datasets`` load on first use.
"""

import importlib
import warnings as _warnings

from . import _runtime

_runtime.configure()  # first: thread, BLAS and OpenMP policy before NumPy/Numba load (_runtime.py)

from . import _aliases  # noqa: E402

# NumPy's floating-point RuntimeWarnings ("divide by zero encountered in log", "invalid value
# encountered in sqrt", "overflow encountered in exp") raised inside the library's own code: the
# ops follow IEEE arithmetic (log(0) = -inf, sqrt(-1) = nan, 1/0 = inf) and PyTorch returns those
# values silently. One filter, matched only when NumPy warns and only for warnings attributed to
# tapegrad's modules (autograd.*, nn.*, optim.*), so it costs nothing per op (np.errstate around
# each op would cost several microseconds) and leaves warnings from user code alone. Limitation:
# a ``warnings.catch_warnings()`` block that is open while autograd is *first imported* (pytest's
# collection does this) restores the filter list on exit, dropping this filter for the process.
_warnings.filterwarnings(
    "ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
    category=RuntimeWarning, module=r"(autograd|nn|optim)(\.|$)")

_aliases.install()             # autograd.autograd, autograd.utils.data (PyTorch's module paths)

from . import dtypes  # noqa: E402
from .dtypes import (bool, double, float, float16, float32, float64, get_default_dtype, half,  # noqa: A004
                     int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .tensor import Tensor, device_ as device
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .function import Function, once_differentiable
from .engine import backward, grad
from . import engine as _engine_mod
from . import graph
from .ops import *  # noqa: F401,F403
from .factories import *  # noqa: F401,F403
from .random import Generator, default_generator, initial_seed, manual_seed, seed
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .serialization import load, save  # safetensors is imported on first use
from ._runtime import get_num_threads, set_num_threads  # Numba is imported on first use

__version__ = "0.1.0"

# PyTorch's constants ``torch.pi``, ``torch.e``, ``torch.inf``, ``torch.nan`` (Python floats)
import math as _math  # noqa: E402
pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's deprecated ``torch.autograd.Variable``: ``Variable(t, requires_grad=False)``
    returns ``t`` itself (with ``requires_grad`` set when asked), as Variables and Tensors merged
    in PyTorch 0.4; ``isinstance(t, Variable)`` is true for every Tensor.
    ``Variable._execution_engine.queue_callback(fn)`` queues ``fn`` to run at the end of the
    backward pass now running (:func:`autograd.engine.queue_callback`)."""

    _execution_engine = _engine_mod.execution_engine

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        t = data if isinstance(data, Tensor) else Tensor(data if data is not None else [])
        if requires_grad:
            t.requires_grad_(True)
        return t


def is_tensor(obj):
    """True if ``obj`` is a :class:`Tensor`."""
    return isinstance(obj, Tensor)


def numel(input):
    """Number of elements of ``input``."""
    return input.numel()


# ---- PyTorch's device, backend and compiler API on a CPU-only engine (issue 10) ----------------
# ``autograd.cuda``, ``autograd.accelerator``, ``autograd.backends`` (``cudnn``, ``cuda``, ``mps``
# ...), ``autograd.amp`` and ``autograd.jit`` are real modules, so ``import autograd.cuda`` and
# ``import autograd.backends.cudnn as cudnn`` work as PyTorch's do.
from . import accelerator, amp, backends, cuda, jit, version  # noqa: E402
from .amp import autocast  # noqa: E402
from .backends import (are_deterministic_algorithms_enabled,  # noqa: E402
                       get_float32_matmul_precision,
                       is_deterministic_algorithms_warn_only_enabled,
                       set_float32_matmul_precision, use_deterministic_algorithms)
from .jit import compile  # noqa: E402,A004
from .random import fork_rng, get_rng_state, set_rng_state  # noqa: E402
from .tensor import _require_cpu  # noqa: E402  (for nn's device= arguments)
# ------------------------------------------------------------------------------------------------

_LAZY = {"data", "datasets", "distributed", "functional", "linalg", "onnx", "profiler", "utils",
         "viz"}


def __getattr__(name):
    if name == "autograd":  # torch.autograd.X -> autograd.autograd.X is this namespace
        import sys
        return sys.modules[__name__]
    if name in ("nn", "optim"):  # torch.nn.X -> autograd.nn.X is the top-level nn (lazily)
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'autograd' has no attribute '{name}'")

"""Import torchvision beside PyTorch's CPU build, for the comparison tests.

The only torchvision 0.28.0 wheel on PyPI is the CUDA build. Beside torch's CPU build its C
extension (``torchvision/_C.so``) cannot load, and ``import torchvision`` then fails in
``torchvision/_meta_registrations.py`` with "operator torchvision::nms does not exist": that
module registers fake (meta) kernels for ``torchvision::nms`` and ``torchvision::qnms``
unconditionally, and the operators are only declared by the extension. Nothing the tests compare
(transforms, models, datasets) needs the C++ operators, so declaring the two schemas with
``torch.library`` before the import lets the Python side load. (The other operators' meta
registrations are skipped by torchvision itself when ``_C`` did not load.)

``import_torchvision()`` returns the module or raises ``ImportError``; the ``torchvision``
fixture in ``conftest.py`` turns that into a clean skip.
"""

import importlib
import sys

# torchvision/csrc/ops/nms.cpp declares these schemas (TORCH_LIBRARY_FRAGMENT(torchvision, m)).
_SCHEMAS = [
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
]
_LIB = None


def _declare_missing_ops(torch):
    global _LIB
    if _LIB is not None:
        return
    missing = [s for s in _SCHEMAS if not _has_op(torch, s.split("(")[0])]
    if missing:
        _LIB = torch.library.Library("torchvision", "FRAGMENT")
        for schema in missing:
            _LIB.define(schema)


def _has_op(torch, name):
    try:
        torch._C._dispatch_find_schema_or_throw("torchvision::" + name, "")
        return True
    except RuntimeError:
        return False


def import_torchvision():
    """``torchvision``, imported (declaring the missing operator schemas first if needed).

    Raises:
        ImportError: torch or torchvision is not installed, or the import still fails.
    """
    if "torchvision" in sys.modules:
        return sys.modules["torchvision"]
    torch = importlib.import_module("torch")
    try:
        import torchvision  # noqa: F401  (works where the C extension matches torch)
        return torchvision
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise ImportError(f"torchvision cannot be imported: {e}") from e
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
    _declare_missing_ops(torch)
    try:
        import torchvision
    except Exception as e:  # noqa: BLE001 - any failure means: skip
        raise ImportError(f"torchvision cannot be imported: {type(e).__name__}: {e}") from e
    return torchvision


try:
    import pytest
except ImportError:  # imported outside pytest (benchmarks, scripts)
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def torchvision():
        """torchvision 0.28 (see the module docstring), or skip the test cleanly."""
        try:
            return import_torchvision()
        except ImportError as e:
            pytest.skip(f"torchvision is not available: {e}")

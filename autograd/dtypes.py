"""Dtypes and the default floating dtype.

tapegrad's dtypes are NumPy dtypes (``autograd.float32 is numpy.dtype('float32')``), so
``x.dtype == autograd.float32`` and ``x.numpy().dtype == x.dtype`` both hold. PyTorch's names
are provided: ``float32``/``float``, ``float64``/``double``, ``int64``/``long``, ``int32``/``int``,
``uint8``, ``bool``.

Differences from PyTorch: the dtype objects print as NumPy's (``float32``), not ``torch.float32``.
"""

import numpy as np

float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)

_default_dtype = float32

_NAMES = {
    float32: "float32", float64: "float64", float16: "float16", int64: "int64",
    int32: "int32", int16: "int16", int8: "int8", uint8: "uint8", bool: "bool",
}


def get_default_dtype():
    """Return the default floating dtype (``float32`` unless changed)."""
    return _default_dtype


def set_default_dtype(d):
    """Set the default floating dtype used by factories and for Python floats.

    Args:
        d: ``autograd.float32`` or ``autograd.float64`` (or anything ``numpy.dtype`` accepts).

    Raises:
        TypeError: if ``d`` is not a floating dtype (``torch.set_default_dtype`` does the same).
    """
    global _default_dtype
    d = to_dtype(d)
    if d.kind != "f" or d == float16:
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {d}")
    _default_dtype = d


def to_dtype(d):
    """Normalise a dtype-like (``autograd.float32``, ``numpy.float32``, ``'float32'``, Python
    ``float``/``int``/``bool``) to a ``numpy.dtype``. ``None`` stays ``None``.

    Raises:
        TypeError: if ``d`` names no dtype.
    """
    if d is None or isinstance(d, np.dtype):
        return d
    import builtins
    if d is builtins.float:
        return _default_dtype
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    legacy = getattr(d, "_legacy_dtype", None)  # autograd.FloatTensor and friends
    if legacy is not None:
        return legacy
    try:
        return np.dtype(d)
    except TypeError as e:
        raise TypeError(f"expected a dtype (e.g. autograd.float32), got {d!r}") from e


def dtype_name(d):
    """``'float32'`` for ``autograd.float32``; used in reprs and error messages."""
    return _NAMES.get(d, str(d))

"""Lazy access to Pillow, the optional extra ``vision`` (``pip install tapegrad[vision]``).

Pillow is imported only where a PIL image is made or read, so ``import vision`` works without it;
the first use without it raises an ``ImportError`` that names the extra to install.
"""

__all__ = ["pil_image", "is_pil_image"]

_HINT = "pip install tapegrad[vision]  (or: pip install pillow)"


def pil_image(op="vision"):
    """The ``PIL.Image`` module.

    Args:
        op (str): the function that needs Pillow (named in the error).

    Raises:
        ImportError: Pillow is not installed; the message names ``op`` and the extra.
    """
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(f"{op} needs Pillow, which is not installed: {_HINT}") from e
    return Image


def is_pil_image(obj):
    """True if ``obj`` is a ``PIL.Image.Image`` (False when Pillow is not even imported)."""
    import sys
    mod = sys.modules.get("PIL.Image")
    return mod is not None and isinstance(obj, mod.Image)

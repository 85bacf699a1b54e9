"""Sub-pixel rearrangements: ``PixelShuffle`` / ``PixelUnshuffle`` and the functions
``pixel_shuffle`` / ``pixel_unshuffle`` (``torch.nn.PixelShuffle``; Shi et al., "Real-Time
Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural
Network", CVPR 2016).

Both are a reshape, a permutation and a reshape, so their gradients (and second derivatives)
are the inverse rearrangement, by autograd: no kernel of their own.
"""

import numbers

from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle", "pixel_shuffle", "pixel_unshuffle"]


def _factor(value, op, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {value}")
    return int(value)


def _operands(input, factor, op, name):
    """What both rearrangements check first: the factor ``r`` (a positive int, see
    :func:`_factor`) and an input of at least 3 dimensions; returns ``(r, lead, C, H, W)``, the
    input's shape split into its leading dimensions and the last three."""
    r = _factor(factor, op, name)
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {len(shape)} dimension(s)")
    *lead, c, h, w = shape
    return r, lead, c, h, w


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C * r^2, H, W)`` into ``(*, C, H * r, W * r)`` with ``r =
    upscale_factor`` (``F.pixel_shuffle``): ``out[..., c, h*r + i, w*r + j] =
    in[..., c*r^2 + i*r + j, h, w]``.

    Raises:
        RuntimeError: for fewer than 3 dims, a non-positive factor, or a channel count not
            divisible by ``r^2`` (PyTorch's messages).
        TypeError: for a factor that is not an int.
    """
    r, lead, c, h, w = _operands(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H * r, W * r)`` into
    ``(*, C * r^2, H, W)`` with ``r = downscale_factor`` (``F.pixel_unshuffle``).

    Raises:
        RuntimeError: for fewer than 3 dims, a non-positive factor, or a height or width not
            divisible by ``r`` (PyTorch's messages).
        TypeError: for a factor that is not an int.
    """
    r, lead, c, h, w = _operands(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return x.reshape(*lead, c * r * r, h // r, w // r)


class _PixelRearrange(Module):
    """What PixelShuffle and PixelUnshuffle share: ``forward`` calls the subclass's
    ``_function`` with the factor stored under the name ``_factor_name``, and ``repr`` shows
    that factor."""

    _function = None        # pixel_shuffle or pixel_unshuffle (a staticmethod)
    _factor_name = None     # "upscale_factor" or "downscale_factor"

    def forward(self, input):
        return self._function(input, getattr(self, self._factor_name))

    def extra_repr(self):
        return f"{self._factor_name}={getattr(self, self._factor_name)}"


class PixelShuffle(_PixelRearrange):
    """``(*, C * r^2, H, W) -> (*, C, H * r, W * r)`` (``torch.nn.PixelShuffle``): the
    sub-pixel convolution's upsampling step (:func:`pixel_shuffle`).

    Args:
        upscale_factor (int): ``r``.

    Shape:
        input ``(*, C_in, H_in, W_in)`` -> output ``(*, C_out, H_out, W_out)`` with
        ``C_out = C_in / r^2``, ``H_out = H_in * r``, ``W_out = W_in * r``.

    Example::

        >>> nn.PixelShuffle(3)(autograd.randn(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
    """

    _function = staticmethod(pixel_shuffle)
    _factor_name = "upscale_factor"

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor


class PixelUnshuffle(_PixelRearrange):
    """``(*, C, H * r, W * r) -> (*, C * r^2, H, W)`` (``torch.nn.PixelUnshuffle``), the
    inverse of :class:`PixelShuffle` (:func:`pixel_unshuffle`).

    Args:
        downscale_factor (int): ``r``.

    Shape:
        input ``(*, C_in, H_in, W_in)`` -> output ``(*, C_out, H_out, W_out)`` with
        ``C_out = C_in * r^2``, ``H_out = H_in / r``, ``W_out = W_in / r``.

    Example::

        >>> nn.PixelUnshuffle(2)(autograd.randn(1, 1, 4, 4)).shape
        (1, 4, 2, 2)
    """

    _function = staticmethod(pixel_unshuffle)
    _factor_name = "downscale_factor"

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

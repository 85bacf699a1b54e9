"""Upsampling layers: ``Upsample``, ``UpsamplingNearest2d``, ``UpsamplingBilinear2d``
(``torch.nn.Upsample`` and friends), thin modules over :func:`nn.functional.interpolate`."""

from . import functional as F
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Resize a 3-D ``(N, C, L)`` or 4-D ``(N, C, H, W)`` input to ``size`` or by
    ``scale_factor`` (``torch.nn.Upsample``), with :func:`nn.functional.interpolate`.

    Args:
        size (int or tuple, optional): output spatial size.
        scale_factor (float or tuple, optional): multiplier of the spatial size (give exactly
            one of ``size`` and ``scale_factor``).
        mode (str): ``'nearest'`` (default), ``'nearest-exact'``, ``'linear'`` (3-D),
            ``'bilinear'`` (4-D) or ``'trilinear'`` (5-D).
        align_corners (bool, optional): for the linear modes: if True the corner pixels of
            input and output are aligned; if False (the default when None) pixel centres are
            at half-integer positions. Must be None for the nearest modes.
        recompute_scale_factor (bool, optional): if True the kernel uses ``in / out`` instead
            of ``1 / scale_factor``.

    Shape:
        input ``(N, C, H_in, W_in)`` -> output ``(N, C, H_out, W_out)`` with
        ``H_out = floor(H_in * scale_factor)`` (or ``size[0]``), and likewise for ``W`` (and
        for ``L`` with 3-D input, ``D, H, W`` with 5-D input).

    Differs from PyTorch: no bicubic/area modes (they raise ``NotImplementedError``).

    Raises:
        ValueError, NotImplementedError: (in forward) as :func:`nn.functional.interpolate`.

    Example::

        >>> m = nn.Upsample(scale_factor=2, mode='bilinear')
        >>> m(autograd.randn(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` (``torch.nn.UpsamplingNearest2d``).

    Shape: ``(N, C, H_in, W_in)`` -> ``(N, C, H_out, W_out)``, as :class:`Upsample`.
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``
    (``torch.nn.UpsamplingBilinear2d``).

    Shape: ``(N, C, H_in, W_in)`` -> ``(N, C, H_out, W_out)``, as :class:`Upsample`.
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)

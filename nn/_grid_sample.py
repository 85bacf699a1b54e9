"""``F.affine_grid`` and ``F.grid_sample`` (spatial transformer networks, Jaderberg et al.,
2015, "Spatial Transformer Networks"), with PyTorch's coordinate conventions.

Both are compositions of differentiable Tensor ops (matmul; arithmetic, ``clamp``, ``abs``,
``where`` on the coordinates; ``gather`` of the input at the integer corner positions), so
``grid_sample`` is differentiable with respect to both ``input`` and ``grid`` (and twice, as
far as those ops are) and ``affine_grid`` with respect to ``theta``. The integer corner
positions and the in-bounds masks are constants, as in PyTorch's kernels.
"""

import itertools
import warnings

import numpy as np

import autograd
from autograd import Tensor

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def _const(a):
    return Tensor._make(np.ascontiguousarray(a), False, None)


def _base_coords(n, align_corners, dtype):
    """Normalised pixel-centre coordinates in [-1, 1] of ``n`` pixels."""
    if n <= 1:   # PyTorch's linspace_from_neg_one: a single pixel sits at 0
        return np.zeros(1, dtype=dtype)
    c = np.linspace(-1.0, 1.0, n)
    if not align_corners:
        c = c * (n - 1) / n
    return c.astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """A sampling grid from a batch of affine matrices (``torch.nn.functional.affine_grid``).

    Args:
        theta (Tensor): ``(N, 2, 3)`` for 2-D or ``(N, 3, 4)`` for 3-D, floating.
        size (tuple of ints): the output size ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        align_corners (bool, optional): whether -1 and 1 are the centres of the corner pixels
            (``True``) or their outer edges (``False``, the default; ``None`` warns as PyTorch
            does and means ``False``).

    Returns:
        Tensor ``(N, H, W, 2)`` (or ``(N, D, H, W, 3)``): for each output pixel the ``(x, y[,
        z])`` point ``theta @ (x_t, y_t[, z_t], 1)`` in normalised input coordinates.

    Raises:
        TypeError: ``theta`` is not a floating Tensor.
        ValueError: ``theta``'s shape does not match ``size`` (PyTorch's messages), or
            ``size`` is neither 4- nor 5-long.
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor) or theta.dtype.kind != "f":
        raise TypeError("affine_grid: expected theta to be a floating point Tensor, got "
                        f"{getattr(theta, 'dtype', type(theta).__name__)}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[1:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta has batch size {theta.shape[0]} but size asks "
                         f"for {size[0]}")
    if min(spatial) <= 0:
        raise ValueError(f"affine_grid: expected non-zero, positive output size. Got {size}")
    k = len(spatial)
    dtype = theta.dtype
    axes = [_base_coords(n, align_corners, dtype) for n in spatial]   # D?, H, W order
    mesh = np.meshgrid(*axes, indexing="ij")
    # the last dim holds (x, y[, z], 1): x runs along W (the last spatial dim)
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial, dtype=dtype)], -1)
    base = _const(base.reshape(1, -1, k + 1))
    grid = base @ theta.transpose(1, 2)                                # (N, prod, k)
    return grid.reshape((size[0],) + spatial + (k,))


def _unnormalize(coord, n, align_corners):
    if align_corners:
        return (coord + 1) * ((n - 1) / 2)
    return ((coord + 1) * n - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates``: fold ``coord`` into ``[low, high]`` by mirror
    reflections (differentiable: the fold count is a constant)."""
    if twice_low == twice_high:
        return coord * 0
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = (coord - lo).abs()
    flips = np.floor(c._data / span)
    extra = c - _const((flips * span).astype(c.dtype))
    even = _const((flips % 2) == 0)
    return autograd.where(even, extra + lo, (extra * -1) + (span + lo))


def _source_index(coord, n, padding_mode, align_corners):
    ix = _unnormalize(coord, n, align_corners)
    if padding_mode == "border":
        ix = ix.clamp(0, n - 1)
    elif padding_mode == "reflection":
        if align_corners:
            ix = _reflect(ix, 0, 2 * (n - 1))
        else:
            ix = _reflect(ix, -1, 2 * n - 1)
        ix = ix.clamp(0, n - 1)
    return ix


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the normalised points of ``grid``
    (``torch.nn.functional.grid_sample``).

    Args:
        input (Tensor): ``(N, C, H_in, W_in)`` (or ``(N, C, D_in, H_in, W_in)``), floating.
        grid (Tensor): ``(N, H_out, W_out, 2)`` (or ``(N, D_out, H_out, W_out, 3)``), the same
            dtype; ``grid[..., 0]`` is x (along W), ``grid[..., 1]`` is y (along H), in
            ``[-1, 1]`` (values outside follow ``padding_mode``).
        mode (str): ``'bilinear'`` (trilinear for 5-D) or ``'nearest'`` (ties round half to
            even, as PyTorch's ``nearbyint``).
        padding_mode (str): ``'zeros'``, ``'border'`` or ``'reflection'``.
        align_corners (bool, optional): see :func:`affine_grid` (``None`` warns, means False).

    Returns:
        Tensor ``(N, C, H_out, W_out)`` (or ``(N, C, D_out, H_out, W_out)``).

    Differentiable with respect to ``input`` and ``grid`` (``nearest``: with respect to
    ``input`` only; its grid gradient is zero, as in PyTorch).

    Raises:
        ValueError: an unknown ``mode``/``padding_mode``; shapes that do not match (PyTorch's
            messages); dtypes that differ.
        NotImplementedError: ``mode='bicubic'``.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not implemented in tapegrad "
                                  "(use 'bilinear' or 'nearest')")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    for name, t in (("input", input), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise TypeError(f"grid_sample: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim not in (4, 5):
        raise ValueError(f"grid_sample(): expected 4D or 5D input and grid with same number of "
                         f"dimensions, but got input with sizes {list(input.shape)} and grid "
                         f"with sizes {list(grid.shape)}")
    k = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != k:
        raise ValueError(f"grid_sample(): expected grid to have size {k} in last dimension and "
                         f"{input.ndim} dims, but got grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise ValueError(f"grid_sample(): expected grid and input to have same batch size, "
                         f"but got input with sizes {list(input.shape)} and grid with sizes "
                         f"{list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise ValueError(f"grid_sample(): expected input and grid to have the same dtype, but "
                         f"input has {input.dtype} and grid has {grid.dtype}")
    if input.dtype.kind != "f":
        raise ValueError(f"grid_sample(): expected a floating point input, got {input.dtype}")
    N, C = input.shape[:2]
    in_sp = tuple(input.shape[2:])          # (D,) H, W
    out_sp = tuple(grid.shape[1:-1])
    P = int(np.prod(out_sp))
    g = grid.reshape(N, P, k)
    # source coordinates per spatial dim, in input order (D,) H, W; grid's last dim is x, y, z
    coords = [_source_index(g[:, :, k - 1 - d], in_sp[d], padding_mode, align_corners)
              for d in range(k)]
    flat = input.reshape(N, C, int(np.prod(in_sp)))
    strides = [int(np.prod(in_sp[d + 1:])) for d in range(k)]

    def tap(int_pos):
        """Gather ``input`` at the integer positions (one array per dim, each (N, P));
        returns ``(values (N, C, P), in-bounds mask (N, 1, P))``."""
        valid = np.ones((N, P), dtype=bool)
        lin = np.zeros((N, P), dtype=np.int64)
        for d, pos in enumerate(int_pos):
            valid &= (pos >= 0) & (pos < in_sp[d])
            lin += np.clip(pos, 0, in_sp[d] - 1).astype(np.int64) * strides[d]
        idx = _const(np.broadcast_to(lin[:, None, :], (N, C, P)))
        vals = flat.gather(2, idx)
        return vals, valid[:, None, :]

    if mode == "nearest":
        pos = [np.rint(c._data).astype(np.int64) for c in coords]
        vals, valid = tap(pos)
        out = vals * _const(valid.astype(input.dtype))
        if grid.requires_grad:   # PyTorch gives the grid a zero gradient (not None)
            out = autograd.where(_const(np.ones((1, 1, 1), dtype=bool)), out,
                                 coords[0].unsqueeze(1))
        return out.reshape((N, C) + out_sp)
    lows = [np.floor(c._data).astype(np.int64) for c in coords]
    fracs = [c - _const(lo.astype(c.dtype)) for c, lo in zip(coords, lows)]   # (N, P)
    out = None
    for corner in itertools.product((0, 1), repeat=k):
        w = None
        for d, bit in enumerate(corner):
            wd = fracs[d] if bit else (fracs[d] * -1) + 1
            w = wd if w is None else w * wd
        vals, valid = tap([lo + bit for lo, bit in zip(lows, corner)])
        term = vals * (w.unsqueeze(1) * _const(valid.astype(input.dtype)))
        out = term if out is None else out + term
    return out.reshape((N, C) + out_sp)

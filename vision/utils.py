"""Image utilities (``torchvision.utils``): ``make_grid``, ``save_image``,
``draw_bounding_boxes`` (the last two need Pillow, the extra ``vision``)."""

import math
import warnings

import numpy as np

import autograd

from ._pil import pil_image
from .transforms.functional import _convert_dtype

__all__ = ["make_grid", "save_image", "draw_bounding_boxes"]


def _as_array(tensor, op):
    if isinstance(tensor, autograd.Tensor):
        return tensor.detach()._data
    if isinstance(tensor, list):
        for t in tensor:
            if not isinstance(t, autograd.Tensor):
                raise TypeError(f"{op}: tensor or list of tensors expected, got a list "
                                f"containing {type(t)}")
        return np.stack([t.detach()._data for t in tensor])
    raise TypeError(f"{op}: tensor or list of tensors expected, got {type(tensor)}")


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Tile a batch of images into one image (``torchvision.utils.make_grid``).

    Args:
        tensor (Tensor or list[Tensor]): (B, C, H, W), or (C, H, W) / (H, W) for one image;
            1-channel images are repeated to 3 channels.
        nrow (int): images per row. padding (int): pixels between and around the images.
        normalize (bool): shift to [0, 1] by ``value_range`` (default: the min and max).
        value_range ((min, max), optional). scale_each (bool): normalise each image alone.
        pad_value (float): the padding's value.

    Returns:
        Tensor: (C, H_grid, W_grid) with ``H_grid = ymaps * (H + padding) + padding`` (one
        image: the image itself, as torchvision).

    Raises:
        TypeError: not a Tensor or list of Tensors, a non-tuple ``value_range``.
    """
    a = _as_array(tensor, "make_grid")
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        if a.shape[0] == 1:
            a = np.concatenate([a, a, a], 0)
        a = a[None]
    if a.ndim == 4 and a.shape[1] == 1:
        a = np.concatenate([a, a, a], 1)
    if normalize is True:
        a = a.copy()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified. "
                            "min and max are numbers")

        def norm_ip(img, low, high):
            np.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)

        def norm_range(t):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))
        if scale_each is True:
            for t in a:
                norm_range(t)
        else:
            norm_range(a)
    if a.shape[0] == 1:
        return autograd.Tensor(np.ascontiguousarray(a[0]))
    nmaps = a.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(a.shape[2] + padding), int(a.shape[3] + padding)
    grid = np.full((a.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value,
                   dtype=a.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = a[k]
    return autograd.Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save a Tensor (or a batch, tiled with :func:`make_grid` and ``kwargs``) as an image file
    (``torchvision.utils.save_image``): values in [0, 1] scaled to 0..255 with rounding.

    Args:
        tensor (Tensor or list[Tensor]): the image(s). fp (str, path or file object): where.
        format (str, optional): the file format; needed for a file object.

    Raises:
        ImportError: Pillow missing (``pip install tapegrad[vision]``).
    """
    Image = pil_image("save_image")
    grid = make_grid(tensor, **kwargs)._data
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).transpose(1, 2, 0).astype(np.uint8)
    if ndarr.shape[2] == 1:
        ndarr = ndarr[:, :, 0]
    Image.fromarray(np.ascontiguousarray(ndarr)).save(fp, format=format)


def _palette(n):
    palette = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    return [tuple(int(v) for v in (i * palette) % 255) for i in range(n)]


def _parse_colors(colors, n):
    from PIL import ImageColor
    if colors is None:
        colors = _palette(n)
    elif isinstance(colors, list):
        if len(colors) < n:
            raise ValueError(f"Number of colors must be equal or larger than the number of "
                             f"objects, but got {len(colors)} < {n}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"colors must be a tuple or a string, or a list thereof, but got "
                         f"{colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got "
                         f"{colors}.")
    else:
        colors = [colors] * n
    return [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]


def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None,
                        font_size=None):
    """Draw boxes (and labels) on an RGB image (``torchvision.utils.draw_bounding_boxes``).

    Args:
        image (Tensor): (C, H, W), uint8 or float in [0, 1], C = 1 or 3.
        boxes (Tensor): (N, 4) as (xmin, ymin, xmax, ymax) in pixels.
        labels (list[str], optional): one per box. colors: a colour (name or RGB tuple), a list
            of them, or None (torchvision's palette). fill (bool): fill with alpha 100.
        width (int): line width. font (str, optional): a TrueType file; font_size (int).

    Returns:
        Tensor: (3, H, W) of ``image``'s dtype.

    Raises:
        TypeError: ``image`` not a Tensor or of another dtype. ValueError: bad shapes, boxes
            with xmax < xmin or ymax < ymin, or a label count that differs from the boxes'.
    """
    Image = pil_image("draw_bounding_boxes")
    from PIL import ImageDraw, ImageFont
    if not isinstance(image, autograd.Tensor):
        raise TypeError(f"draw_bounding_boxes: Tensor expected, got {type(image)}")
    a = image._data
    if not (a.dtype == np.uint8 or a.dtype.kind == "f"):
        raise ValueError(f"draw_bounding_boxes: the image dtype must be uint8 or float, got "
                         f"{a.dtype}")
    if a.ndim != 3:
        raise ValueError("draw_bounding_boxes: pass individual images, not batches")
    if a.shape[0] not in {1, 3}:
        raise ValueError("draw_bounding_boxes: only grayscale and RGB images are supported")
    b = boxes._data if isinstance(boxes, autograd.Tensor) else np.asarray(boxes)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"draw_bounding_boxes: boxes must be of shape (N, 4), got {b.shape}")
    if ((b[:, 0] > b[:, 2]) | (b[:, 1] > b[:, 3])).any():
        raise ValueError("draw_bounding_boxes: boxes need to be in (xmin, ymin, xmax, ymax) "
                         "format. Use torchvision.ops.box_convert to convert them")
    n = b.shape[0]
    if n == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn")
        return image
    if labels is None:
        labels = [None] * n
    elif len(labels) != n:
        raise ValueError(f"Number of boxes ({n}) and labels ({len(labels)}) mismatch. Please "
                         "specify labels for each box.")
    cols = _parse_colors(colors, n)
    txt_font = ImageFont.load_default() if font is None else \
        ImageFont.truetype(font=font, size=font_size or 10)
    if a.shape[0] == 1:
        a = np.tile(a, (3, 1, 1))
    orig = a.dtype
    u8 = _convert_dtype(a, np.uint8) if orig.kind == "f" else a
    img = Image.fromarray(np.ascontiguousarray(u8.transpose(1, 2, 0)))
    draw = ImageDraw.Draw(img, "RGBA") if fill else ImageDraw.Draw(img)
    for bbox, color, label in zip(b.astype(np.int64).tolist(), cols, labels):
        draw.rectangle(bbox, width=width, outline=color,
                       fill=(color + (100,)) if fill else None)
        if label is not None:
            margin = width + 1
            draw.text((bbox[0] + margin, bbox[1] + margin), label, fill=color, font=txt_font)
    out = np.asarray(img).transpose(2, 0, 1)
    if orig.kind == "f":
        out = _convert_dtype(out, orig)
    return autograd.Tensor(np.ascontiguousarray(out))

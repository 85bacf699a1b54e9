"""Functional transforms (``torchvision.transforms.functional``) for PIL images and Tensors.

Every function takes a PIL image or a Tensor of shape ``(..., C, H, W)`` (any number of leading
batch dimensions; uint8 images in 0..255 or float images in [0, 1]) and returns the same kind.
PIL inputs go through Pillow exactly as torchvision's PIL backend does (so the results are
Pillow's, bit for bit); Tensor inputs go through NumPy implementations of torchvision's tensor
backend formulas (``torchvision/transforms/_functional_tensor.py``): the same blend, grayscale
weights (0.2989, 0.587, 0.114), HSV round trip, Gaussian kernel, PIL-style antialiased
resampling (``interpolate(..., antialias=True)``), affine grid and ``grid_sample``
(``align_corners=False``), and the same casts (float results rounded before a cast back to an
integer dtype; blends truncated).

A batch ``(N, C, H, W)`` is processed with one NumPy call per step (leading dimensions are kept
as array dimensions, never looped over in Python), all images with the same parameters, as in
torchvision.

Differences from torchvision: Tensor results are new Tensors that do not record a gradient
(these are data-pipeline transforms, computed on the arrays); ``affine``/``rotate`` on Tensors
support ``nearest`` and ``bilinear`` (as torchvision); ``resize`` on Tensors supports
``nearest``, ``nearest-exact``, ``bilinear`` and ``bicubic``.
"""

import math
import numbers
import sys
from enum import Enum

import numpy as np

import autograd

from .._pil import is_pil_image, pil_image

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "normalize",
           "resize", "crop", "center_crop", "resized_crop", "pad", "hflip", "vflip", "rotate",
           "affine", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "rgb_to_grayscale", "to_grayscale", "gaussian_blur", "erase", "convert_image_dtype",
           "get_dimensions", "get_image_size", "get_image_num_channels", "invert"]


class InterpolationMode(Enum):
    """Interpolation modes (``torchvision.transforms.InterpolationMode``)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's resampling filter constants (Image.Resampling): NEAREST 0, LANCZOS 1, BILINEAR 2,
# BICUBIC 3, BOX 4, HAMMING 5.
_PIL_MODES = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0,
              InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
              InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
              InterpolationMode.LANCZOS: 1}
_FROM_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
             3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
             5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interp(mode, op):
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, int) and not isinstance(mode, bool) and mode in _FROM_INT:
        return _FROM_INT[mode]  # PIL's integer constants, as torchvision still accepts
    if isinstance(mode, str):
        try:
            return InterpolationMode(mode)
        except ValueError:
            pass
    raise TypeError(f"{op}: interpolation should be an InterpolationMode, got {mode!r}")


# --- input kinds --------------------------------------------------------------------------------
def _is_tensor(img):
    return isinstance(img, autograd.Tensor)


def _array(img, op, min_ndim=2):
    """The NumPy array of a Tensor image, checked to have at least ``min_ndim`` dims."""
    if not _is_tensor(img):
        raise TypeError(f"{op}: img should be a PIL Image or a Tensor, got {type(img).__name__}")
    a = img._data
    if a.ndim < min_ndim:
        raise TypeError(f"{op}: a tensor image must have at least {min_ndim} dimensions "
                        f"(..., C, H, W), got shape {tuple(a.shape)}")
    return a


def _check_kind(img, op):
    if not (_is_tensor(img) or is_pil_image(img)):
        raise TypeError(f"{op}: img should be a PIL Image or a Tensor, got {type(img).__name__}")


def _wrap(a):
    return autograd.Tensor(np.ascontiguousarray(a))


def _max_value(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype == np.bool_:
        return 1
    return np.iinfo(dtype).max


def _to_float(a):
    """(float array, original dtype): float32 for integer images, else unchanged."""
    if a.dtype.kind == "f":
        return a, a.dtype
    return a.astype(np.float32), a.dtype


def _cast_back(a, dtype):
    """Cast a float result back to ``dtype``: integers are rounded first (torchvision's
    ``_cast_squeeze_out``)."""
    if np.dtype(dtype).kind in "iu":
        return np.round(a).astype(dtype)
    return a.astype(dtype, copy=False)


def get_dimensions(img):
    """``[channels, height, width]`` of a PIL image or a Tensor image (``(..., C, H, W)``)."""
    if _is_tensor(img):
        a = img._data
        c = 1 if a.ndim == 2 else a.shape[-3]
        return [c, a.shape[-2], a.shape[-1]]
    if is_pil_image(img):
        w, h = img.size
        return [len(img.getbands()), h, w]
    raise TypeError(f"get_dimensions: unexpected type {type(img).__name__}")


def get_image_size(img):
    """``[width, height]`` of a PIL image or a Tensor image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    """The number of channels of a PIL image or a Tensor image."""
    return get_dimensions(img)[0]


# --- conversions --------------------------------------------------------------------------------
def to_tensor(pic):
    """A PIL image or ``numpy.ndarray`` (H, W, C) -> a Tensor (C, H, W) (``F.to_tensor``).

    uint8 data (PIL modes L, RGB, RGBA, P, 1 ...) become float32 in [0, 1] (divided by 255);
    modes ``I``, ``I;16``, ``F`` keep their int32/int16/float32 values, as torchvision.

    Raises:
        TypeError: ``pic`` is neither. ValueError: an ndarray that is not 2-D or 3-D.
    """
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_tensor: pic should be 2/3 dimensional, got {pic.ndim} "
                             "dimensions")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = np.ascontiguousarray(pic.transpose(2, 0, 1))
        if img.dtype == np.uint8:
            return _wrap(np.divide(img, 255, dtype=np.float32))
        return _wrap(img)
    if not is_pil_image(pic):
        raise TypeError(f"to_tensor: pic should be a PIL Image or ndarray, got "
                        f"{type(pic).__name__}")
    mode_to_nptype = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16,
                      "F": np.float32}
    img = np.array(pic, mode_to_nptype.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        img = 255 * img
    img = img.reshape(pic.size[1], pic.size[0], len(pic.getbands())).transpose(2, 0, 1)
    if img.dtype == np.uint8:
        return _wrap(np.divide(img, 255, dtype=np.float32))
    return _wrap(img)


def pil_to_tensor(pic):
    """A PIL image -> a Tensor (C, H, W) of its own dtype (uint8 for 8-bit modes), values
    unchanged (``F.pil_to_tensor``).

    Raises:
        TypeError: ``pic`` is not a PIL image.
    """
    if not is_pil_image(pic):
        raise TypeError(f"pil_to_tensor: pic should be a PIL Image, got {type(pic).__name__}")
    img = np.array(pic, copy=True)
    if img.ndim == 2:
        img = img[:, :, None]
    return _wrap(img.transpose(2, 0, 1))


def to_pil_image(pic, mode=None):
    """A Tensor (C, H, W) or ndarray (H, W, C) -> a PIL image (``F.to_pil_image``).

    Float data are multiplied by 255 and cast to uint8 (unless ``mode="F"``), as torchvision;
    the mode is inferred from the channel count (1: L, 2: LA, 3: RGB, 4: RGBA) and dtype.

    Raises:
        TypeError: another type, or a dtype with no PIL mode. ValueError: not 2-D/3-D, more
            than 4 channels, or a ``mode`` that does not fit.
    """
    Image = pil_image("to_pil_image")
    if _is_tensor(pic):
        a = pic._data
        if a.ndim == 3:
            a = a.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        a = pic
    else:
        raise TypeError(f"to_pil_image: pic should be Tensor or ndarray, got "
                        f"{type(pic).__name__}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"to_pil_image: pic should be 2/3 dimensional, got {a.ndim} dimensions")
    if a.shape[-1] > 4:
        raise ValueError(f"to_pil_image: pic should not have > 4 channels, got {a.shape[-1]} "
                         "channels")
    if np.issubdtype(a.dtype, np.floating) and mode != "F":
        with np.errstate(invalid="ignore", over="ignore"):
            a = (a * 255).astype(np.uint8)
    c = a.shape[2]
    if c == 1:
        a = a[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(a.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"to_pil_image: incorrect mode ({mode}) supplied for input type "
                             f"{a.dtype}; should be {expected}")
        mode = expected
    else:
        allowed = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[c]
        if mode is not None and mode not in allowed:
            raise ValueError(f"to_pil_image: only modes {allowed} are supported for {c}-channel "
                             "inputs")
        if mode is None and a.dtype == np.uint8:
            mode = allowed[0]
    if mode is None:
        raise TypeError(f"to_pil_image: input type {a.dtype} is not supported")
    a = np.ascontiguousarray(a)
    if mode in ("L", "RGB", "RGBA", "LA", "I", "F", "I;16"):
        img = Image.fromarray(a)
        return img if img.mode == mode else img.convert(mode)
    return Image.frombuffer(mode, (a.shape[1], a.shape[0]), a.tobytes(), "raw", mode, 0, 1)


def convert_image_dtype(image, dtype=np.float32):
    """Convert a Tensor image's dtype, rescaling values (``F.convert_image_dtype``): integer ->
    float divides by the integer maximum; float -> integer multiplies by ``max + 1 - 0.001``
    and truncates (torchvision's rule); integer -> integer shifts bits.

    Raises:
        TypeError: ``image`` is not a Tensor.
    """
    a = _array(image, "convert_image_dtype", 1)
    return _wrap(_convert_dtype(a, np.dtype(dtype)))


def _convert_dtype(a, dtype):
    dtype = np.dtype(dtype)
    if a.dtype == dtype:
        return a
    if a.dtype.kind == "f":
        if dtype.kind == "f":
            return a.astype(dtype)
        eps = 1e-3
        m = float(np.iinfo(dtype).max)
        return (a * (m + 1.0 - eps)).astype(dtype)
    m_in = float(np.iinfo(a.dtype).max)
    if dtype.kind == "f":
        return (a.astype(dtype) / dtype.type(m_in))
    m_out = float(np.iinfo(dtype).max)
    if m_in > m_out:
        factor = int((m_in + 1) // (m_out + 1))
        return (a // factor).astype(dtype)
    factor = int((m_out + 1) // (m_in + 1))
    return a.astype(dtype) * factor


def normalize(tensor, mean, std, inplace=False):
    """``(x - mean) / std`` per channel of a float Tensor (..., C, H, W) (``F.normalize``).

    Raises:
        TypeError: not a float Tensor. ValueError: fewer than 3 dims, or a zero ``std``.
    """
    a = _array(tensor, "normalize", 1)
    if a.dtype.kind != "f":
        raise TypeError(f"normalize: input tensor should be a float tensor, got {a.dtype}")
    if a.ndim < 3:
        raise ValueError("normalize: expected tensor to be a tensor image of size (..., C, H, W),"
                         f" got shape {tuple(a.shape)}")
    mean = np.asarray(mean, dtype=a.dtype)
    std = np.asarray(std, dtype=a.dtype)
    if (std == 0).any():
        raise ValueError(f"normalize: std evaluated to zero after conversion to {a.dtype}, "
                         "leading to division by zero")
    if mean.ndim == 1:
        mean = mean.reshape(-1, 1, 1)
    if std.ndim == 1:
        std = std.reshape(-1, 1, 1)
    if inplace:
        np.subtract(a, mean, out=a)
        np.divide(a, std, out=a)
        return tensor
    return autograd.Tensor((a - mean) / std)


# --- geometry -----------------------------------------------------------------------------------
def hflip(img):
    """Flip left-right (``F.hflip``): PIL ``FLIP_LEFT_RIGHT`` or reversing the last axis."""
    if is_pil_image(img):
        return img.transpose(pil_image().Transpose.FLIP_LEFT_RIGHT)
    return _wrap(_array(img, "hflip")[..., ::-1])


def vflip(img):
    """Flip top-bottom (``F.vflip``): PIL ``FLIP_TOP_BOTTOM`` or reversing the H axis."""
    if is_pil_image(img):
        return img.transpose(pil_image().Transpose.FLIP_TOP_BOTTOM)
    return _wrap(_array(img, "vflip")[..., ::-1, :])


def _parse_padding(padding, op="pad"):
    if isinstance(padding, numbers.Number) and not isinstance(padding, bool):
        if not isinstance(padding, int):
            raise TypeError(f"{op}: padding must be an int or a sequence of ints, got "
                            f"{padding!r}")
        return [padding] * 4
    if not isinstance(padding, (list, tuple)) or \
            not all(isinstance(p, int) and not isinstance(p, bool) for p in padding):
        raise TypeError(f"{op}: padding must be an int or a sequence of ints, got {padding!r}")
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return list(padding)
    raise ValueError(f"{op}: padding must be an int or a 1, 2, or 4 element sequence, got "
                     f"{len(padding)} elements")


_NP_PAD = {"constant": "constant", "edge": "edge", "reflect": "reflect",
           "symmetric": "symmetric"}


def _pad_array(a, left, top, right, bottom, fill, padding_mode):
    """Pad the last two axes of ``a`` (negative amounts crop), fill per channel if given."""
    if min(left, top, right, bottom) < 0:
        h, w = a.shape[-2:]
        a = a[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(v, 0) for v in (left, top, right, bottom))
    width = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return np.pad(a, width, mode=_NP_PAD[padding_mode])
    fill = 0 if fill is None else fill
    if isinstance(fill, (list, tuple)) and len(fill) > 1 and a.ndim >= 3:
        vals = np.asarray(fill, dtype=a.dtype).reshape(-1, 1, 1)
        out = np.empty(a.shape[:-2] + (a.shape[-2] + top + bottom, a.shape[-1] + left + right),
                       dtype=a.dtype)
        out[...] = vals
        out[..., top:top + a.shape[-2], left:left + a.shape[-1]] = a
        return out
    if isinstance(fill, (list, tuple)):
        fill = fill[0]
    return np.pad(a, width, mode="constant", constant_values=np.asarray(fill).astype(a.dtype))


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders (``F.pad``).

    Args:
        img (PIL Image or Tensor): the image.
        padding (int or sequence): all sides; (left/right, top/bottom); or (left, top, right,
            bottom). Negative values crop.
        fill (number or tuple): the ``constant`` mode's value (per channel with a tuple).
        padding_mode (str): ``"constant"``, ``"edge"``, ``"reflect"`` (no edge repeat) or
            ``"symmetric"`` (edge repeated).

    Raises:
        TypeError / ValueError: bad padding, fill or mode.
    """
    left, top, right, bottom = _parse_padding(padding)
    if padding_mode not in _NP_PAD:
        raise ValueError(f"pad: padding_mode should be constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")
    if not isinstance(fill, (numbers.Number, tuple, list)) and fill is not None:
        raise TypeError(f"pad: fill must be a number or a tuple, got {type(fill).__name__}")
    if is_pil_image(img):
        Image = pil_image("pad")
        if img.mode == "P":
            palette = img.getpalette()
            a = np.asarray(img)
            out = Image.fromarray(_pad_array(a, left, top, right, bottom,
                                             fill if not isinstance(fill, (tuple, list))
                                             else fill[0], padding_mode))
            out.putpalette(palette)
            return out
        a = np.asarray(img)
        if a.ndim == 3:
            fill_c = fill if isinstance(fill, (tuple, list)) else [fill] * a.shape[2]
            if len(fill_c) == 1:
                fill_c = list(fill_c) * a.shape[2]
            out = _pad_array(a.transpose(2, 0, 1), left, top, right, bottom,
                             [int(v) for v in fill_c] if img.mode != "F" else list(fill_c),
                             padding_mode).transpose(1, 2, 0)
        else:
            out = _pad_array(a, left, top, right, bottom, fill, padding_mode)
        out = Image.fromarray(np.ascontiguousarray(out))
        return out if out.mode == img.mode else out.convert(img.mode)
    a = _array(img, "pad")
    if padding_mode == "reflect" and (max(left, right) >= a.shape[-1] or
                                      max(top, bottom) >= a.shape[-2]):
        raise ValueError(f"pad: reflect padding {padding} must be smaller than the image "
                         f"size {tuple(a.shape[-2:])}")
    if isinstance(fill, (tuple, list)) and a.ndim >= 3 and len(fill) not in (1, a.shape[-3]):
        raise ValueError(f"pad: fill has {len(fill)} values for {a.shape[-3]} channels")
    return _wrap(_pad_array(a, left, top, right, bottom, fill, padding_mode))


def crop(img, top, left, height, width):
    """The ``height x width`` box at (``top``, ``left``) (``F.crop``); parts outside the image
    are zeros (Pillow's ``crop``; zero padding for Tensors), as torchvision."""
    if is_pil_image(img):
        return img.crop((left, top, left + width, top + height))
    a = _array(img, "crop")
    h, w = a.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        pads = [max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0)]
        sub = a[..., max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
        return _wrap(_pad_array(sub, *pads, fill=0, padding_mode="constant"))
    return _wrap(a[..., top:bottom, left:right])


def _setup_size(size, op, name="size"):
    if isinstance(size, numbers.Number) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise ValueError(f"{op}: please provide only two dimensions (h, w) for {name}, got "
                         f"{size!r}")
    return tuple(size)


def center_crop(img, output_size):
    """The central ``output_size`` box (``F.center_crop``); an image smaller than it is first
    zero-padded around, as torchvision (top/left get the smaller half)."""
    _check_kind(img, "center_crop")
    th, tw = _setup_size(output_size, "center_crop", "output_size")
    _, h, w = get_dimensions(img)
    if tw > w or th > h:
        padding = [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                   (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0]
        img = pad(img, padding, fill=0)
        _, h, w = get_dimensions(img)
        if tw == w and th == h:
            return img
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return crop(img, top, left, th, tw)


def _resized_output_size(h, w, size, max_size, op="resize"):
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size]
    if size is None:
        if max_size is None:
            raise ValueError(f"{op}: size and max_size cannot both be None")
        scale = max_size / max(h, w)
        return [int(h * scale), int(w * scale)]
    if not isinstance(size, (list, tuple)) or len(size) not in (1, 2):
        raise ValueError(f"{op}: size must be an int or a sequence of 1 or 2 ints, got {size!r}")
    if len(size) == 2:
        if max_size is not None:
            raise ValueError(f"{op}: max_size should only be passed if size specifies the "
                             f"length of the smaller edge, got size={size}")
        return [int(size[0]), int(size[1])]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"{op}: max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return [new_long, new_short] if w <= h else [new_short, new_long]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` (``F.resize``).

    Args:
        img (PIL Image or Tensor): the image.
        size (int or (h, w)): an int matches the smaller edge (keeping the aspect ratio, the
            other edge ``int(size * long / short)``); (h, w) is exact.
        interpolation (InterpolationMode): default bilinear. Tensors: nearest, nearest-exact,
            bilinear, bicubic.
        max_size (int, optional): cap of the longer edge when ``size`` is an int.
        antialias (bool): Tensors only (PIL always antialiases): PIL-style antialiased
            resampling for bilinear/bicubic (default True, as torchvision).

    Raises:
        ValueError: bad ``size``/``max_size``; TypeError: bad ``interpolation``.
    """
    _check_kind(img, "resize")
    mode = _interp(interpolation, "resize")
    _, h, w = get_dimensions(img)
    oh, ow = _resized_output_size(h, w, size, max_size)
    if [h, w] == [oh, ow]:
        return img
    if is_pil_image(img):
        return img.resize((ow, oh), _PIL_MODES[mode])
    a = _array(img, "resize")
    return _wrap(_resize_array(a, oh, ow, mode, antialias))


def _resize_array(a, oh, ow, mode, antialias):
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                    InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        raise ValueError(f"resize: interpolation {mode.value} is not supported for tensors "
                         "(use nearest, nearest-exact, bilinear or bicubic)")
    h, w = a.shape[-2:]
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = mode is InterpolationMode.NEAREST_EXACT
        return a[..., _nearest_src(h, oh, exact)[:, None], _nearest_src(w, ow, exact)[None, :]]
    x, dtype = _to_float(a)
    wh = _resample_weights(h, oh, mode, antialias, x.dtype)
    ww = _resample_weights(w, ow, mode, antialias, x.dtype)
    # Width first, then height, skipping an unchanged axis (ATen's separable AA kernel order),
    # each output a sum over its taps in order (ATen's loop), not a BLAS dot product, so the
    # float32 roundings (and hence uint8 results) are PyTorch's.
    out = _apply_taps(x, ww, -1) if ow != w else x
    out = _apply_taps(out, wh, -2) if oh != h else out
    if mode is InterpolationMode.BICUBIC and dtype == np.uint8:
        out = np.clip(out, 0, 255)
    return _cast_back(out, dtype)


def _apply_taps(x, wmat, axis):
    """``sum_j wmat[o, j] * x[..., j, ...]`` along ``axis``, accumulated tap by tap in order
    over each output's nonzero window (one vectorised multiply-add per tap)."""
    nz = wmat != 0
    first = np.where(nz.any(axis=1), nz.argmax(axis=1), 0)
    last = wmat.shape[1] - np.where(nz.any(axis=1), nz[:, ::-1].argmax(axis=1), wmat.shape[1])
    k = int((last - first).max()) if wmat.size else 0
    xm = np.moveaxis(x, axis, -1)
    wide = np.float64 if x.dtype == np.float32 else np.longdouble
    out = np.zeros(xm.shape[:-1] + (wmat.shape[0],), dtype=x.dtype)
    for t in range(max(k, 1)):
        idx = np.minimum(first + t, wmat.shape[1] - 1)
        wt = np.where(first + t < last, wmat[np.arange(wmat.shape[0]), idx], 0).astype(x.dtype)
        # One fused multiply-add per tap, as ATen's compiled loop does: the product is exact
        # in the wider type and the sum rounded once.
        out = (out.astype(wide) + xm[..., idx].astype(wide) * wt.astype(wide)).astype(x.dtype)
    return np.moveaxis(out, -1, axis)


def _nearest_src(n_in, n_out, exact):
    """PyTorch's nearest source index: ``min(floor((i [+ 0.5]) * in / out), in - 1)`` in
    float32 (``nearest_idx`` in ATen's UpSample.h)."""
    if n_in == n_out:
        return np.arange(n_out)
    if not exact and n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    scale = np.float32(n_in) / np.float32(n_out)
    i = np.arange(n_out, dtype=np.float32)
    if exact:
        i = i + np.float32(0.5)
    return np.minimum(np.floor(i * scale).astype(np.int64), n_in - 1)


def _aa_filter(mode):
    """(support half-width, filter(x, float type)) of ATen's / PIL's antialiasing filters:
    triangle for bilinear; Keys' cubic convolution with a = -0.5 for bicubic."""
    if mode is InterpolationMode.BILINEAR:
        def triangle(x, ft=np.float64):
            x = np.abs(x)
            return np.where(x < 1.0, (1.0 - x.astype(np.float64)), 0.0).astype(ft)
        return 1.0, triangle

    def cubic(x, ft=np.float64):
        a = ft(-0.5)
        x = np.abs(x).astype(ft)
        one = ((a + ft(2)) * x - (a + ft(3))) * x * x + ft(1)
        two = (((x - ft(5)) * x + ft(8)) * x - ft(4)) * a
        return np.where(x < 1.0, one, np.where(x < 2.0, two, ft(0))).astype(ft)
    return 2.0, cubic


def _resample_weights(n_in, n_out, mode, antialias, dtype):
    """The (n_out, n_in) interpolation matrix of one axis (``align_corners=False``).

    With ``antialias``: PIL's / ATen's ``_upsample_*_aa`` (support widened by the scale when
    downsampling, taps normalised to sum 1). Without: ATen's plain bilinear (source clamped at
    0) or bicubic (a = -0.75, indices clamped to the border).
    """
    scale = n_in / n_out
    wmat = np.zeros((n_out, n_in), dtype=np.float64)
    if antialias:
        # ATen's _compute_weights_aa, with its C++ types: the tap math is in the input's float
        # type, except where a double literal (0.5) promotes an expression to double.
        ft = np.dtype(dtype).type
        fscale = ft(n_in) / ft(n_out)
        support_half, fn = _aa_filter(mode)
        support = ft(support_half * float(fscale)) if fscale >= 1.0 else ft(support_half)
        invscale = ft(1.0 / float(fscale)) if fscale >= 1.0 else ft(1.0)
        for i in range(n_out):
            center = ft(float(fscale) * (i + 0.5))
            xmin = max(int(float(center) - float(support) + 0.5), 0)
            xmax = min(int(float(center) + float(support) + 0.5), n_in)
            j = np.arange(xmin, xmax, dtype=np.float64)
            arg = ((j - float(center) + 0.5) * float(invscale)).astype(ft)
            wts = fn(arg, ft)
            total = ft(0)
            for v in wts:
                total = ft(total + v)
            if total != 0:
                wts = (wts / total).astype(ft)
            wmat[i, xmin:xmax] = wts
        return wmat.astype(dtype)
    src = scale * (np.arange(n_out) + 0.5) - 0.5
    if mode is InterpolationMode.BILINEAR:
        src = np.maximum(src, 0.0)
        i0 = src.astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        l1 = src - i0
        np.add.at(wmat, (np.arange(n_out), i0), 1.0 - l1)
        np.add.at(wmat, (np.arange(n_out), i1), l1)
        return wmat.astype(dtype)
    a = -0.75
    i0 = np.floor(src).astype(np.int64)
    t = src - i0

    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    coeffs = [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]
    for k, c in enumerate(coeffs):
        idx = np.clip(i0 - 1 + k, 0, n_in - 1)
        np.add.at(wmat, (np.arange(n_out), idx), c)
    return wmat.astype(dtype)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
    """``resize(crop(img, top, left, height, width), size, interpolation)``
    (``F.resized_crop``)."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """torchvision's affine matrix (RSS with shear about ``center``), inverted by default:
    ``M = T * C * RotateScaleShear * C^-1`` (torchvision.transforms.functional)."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        m = [d, -b, 0.0, -c, a, 0.0]
        m = [x / scale for x in m]
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
        m[2] += cx
        m[5] += cy
    else:
        m = [a, b, 0.0, c, d, 0.0]
        m = [x * scale for x in m]
        m[2] += m[0] * (-cx) + m[1] * (-cy)
        m[5] += m[3] * (-cx) + m[4] * (-cy)
        m[2] += cx + tx
        m[5] += cy + ty
    return m


def _pil_fill(fill, img):
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"The number of elements in 'fill' does not match the number of "
                             f"bands of the image ({len(fill)} != {bands})")
        fill = tuple(fill)
        if img.mode != "F":
            fill = tuple(int(x) for x in fill)
    return fill


def _grid_transform(a, matrix, oh, ow, mode, fill):
    """torchvision's ``_gen_affine_grid`` + ``grid_sample(align_corners=False, zeros)`` with the
    fill mask trick, for an array (..., C, H, W); float32 for integer images."""
    x, dtype = _to_float(a)
    h, w = a.shape[-2:]
    ft = x.dtype.type
    theta = np.asarray(matrix, dtype=x.dtype).reshape(2, 3)
    xs = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, ow, dtype=x.dtype)
    ys = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, oh, dtype=x.dtype)
    rescaled = theta.T / np.asarray([0.5 * w, 0.5 * h], dtype=x.dtype)   # (3, 2)
    gx = xs[None, :] * rescaled[0, 0] + ys[:, None] * rescaled[1, 0] + rescaled[2, 0]
    gy = xs[None, :] * rescaled[0, 1] + ys[:, None] * rescaled[1, 1] + rescaled[2, 1]
    ix = ((gx + ft(1)) * ft(w) - ft(1)) / ft(2)   # grid_sample's unnormalisation
    iy = ((gy + ft(1)) * ft(h) - ft(1)) / ft(2)
    lead = x.shape[:-2]
    if mode is InterpolationMode.NEAREST:
        jx, jy = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        valid = (jx >= 0) & (jx < w) & (jy >= 0) & (jy < h)
        out = np.where(valid, x[..., np.clip(jy, 0, h - 1), np.clip(jx, 0, w - 1)], ft(0))
        mask = valid.astype(x.dtype)
    elif mode is InterpolationMode.BILINEAR:
        x0, y0 = np.floor(ix), np.floor(iy)
        out = np.zeros(lead + (oh, ow), dtype=x.dtype)
        mask = np.zeros((oh, ow), dtype=x.dtype)
        for dx in (0, 1):
            for dy in (0, 1):
                cx, cy = x0 + dx, y0 + dy
                wx = (ix - x0) if dx else (x0 + 1 - ix)
                wy = (iy - y0) if dy else (y0 + 1 - iy)
                wgt = (wx * wy).astype(x.dtype)
                valid = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
                jx = np.clip(cx, 0, w - 1).astype(np.int64)
                jy = np.clip(cy, 0, h - 1).astype(np.int64)
                wv = np.where(valid, wgt, ft(0))
                out = out + x[..., jy, jx] * wv
                mask = mask + wv
    else:
        raise ValueError(f"affine/rotate: interpolation {mode.value} is not supported for "
                         "tensors (nearest or bilinear)")
    if fill is not None:
        vals = np.asarray(fill if isinstance(fill, (list, tuple)) else [float(fill)],
                          dtype=x.dtype)
        vals = vals.reshape((-1, 1, 1)) if x.ndim >= 3 else vals.reshape(())
        if mode is InterpolationMode.NEAREST:
            out = np.where(mask < 0.5, vals, out)
        else:
            out = out * mask + (ft(1) - mask) * vals
    return _cast_back(out, dtype)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotate by ``angle`` degrees counter-clockwise (``F.rotate``).

    Args:
        angle (float): degrees, counter-clockwise.
        interpolation (InterpolationMode): nearest (default) or bilinear (also bicubic for PIL).
        expand (bool): enlarge the output to hold the whole rotated image.
        center (sequence, optional): (x, y) in pixels; default the image centre.
        fill (number or sequence, optional): value of the area outside.

    Raises:
        TypeError: ``angle`` is not a number; ValueError: a bad ``center``.
    """
    _check_kind(img, "rotate")
    if not isinstance(angle, (int, float)):
        raise TypeError("rotate: argument angle should be int or float")
    if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
        raise ValueError("rotate: center should be a sequence of length 2")
    mode = _interp(interpolation, "rotate")
    if is_pil_image(img):
        return img.rotate(angle, _PIL_MODES[mode], expand, center,
                          fillcolor=_pil_fill(fill, img))
    a = _array(img, "rotate")
    h, w = a.shape[-2:]
    center_f = [0.0, 0.0] if center is None else \
        [c - s * 0.5 for c, s in zip(center, [w, h])]
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    ow, oh = _affine_output_size(matrix, w, h) if expand else (w, h)
    return _wrap(_grid_transform(a, matrix, oh, ow, mode, fill))


def _affine_output_size(matrix, w, h):
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new = pts @ theta.T
    mn = new.min(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    mx = new.max(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(mx / tol) * tol)
    cmin = np.floor(np.trunc(mn / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Affine transformation keeping the centre invariant (``F.affine``).

    Args:
        angle (float): rotation in degrees (torchvision's convention: positive values rotate
            clockwise on screen, the image's y axis pointing down).
        translate (sequence of 2 ints): horizontal and vertical shift, pixels.
        scale (float): > 0.
        shear (float or sequence of 1 or 2 floats): degrees, x then y.
        interpolation, fill, center: as :func:`rotate`.

    Raises:
        TypeError / ValueError: arguments of the wrong type or length, ``scale <= 0``.
    """
    _check_kind(img, "affine")
    if not isinstance(angle, (int, float)):
        raise TypeError("affine: argument angle should be int or float")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError("affine: argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("affine: argument scale should be positive")
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    if not isinstance(shear, (list, tuple)) or len(shear) not in (1, 2):
        raise ValueError("affine: shear should be a sequence containing max 2 values")
    shear = [float(s) for s in shear] + ([0.0] if len(shear) == 1 else [])
    mode = _interp(interpolation, "affine")
    _, h, w = get_dimensions(img)
    if is_pil_image(img):
        c = [w * 0.5, h * 0.5] if center is None else center
        matrix = _get_inverse_affine_matrix(c, angle, translate, scale, shear)
        return img.transform(img.size, pil_image().Transform.AFFINE, matrix, _PIL_MODES[mode],
                             fillcolor=_pil_fill(fill, img))
    center_f = [0.0, 0.0] if center is None else \
        [1.0 * (c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _get_inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale,
                                        shear)
    return _wrap(_grid_transform(_array(img, "affine"), matrix, h, w, mode, fill))


# --- colour -------------------------------------------------------------------------------------
def _blend(x1, x2, ratio):
    """torchvision's ``_blend``: ``ratio * x1 + (1 - ratio) * x2`` clamped to the dtype's range
    and cast (truncating) to ``x1``'s dtype; computed in float32 for integer images."""
    bound = _max_value(x1.dtype)
    ft = np.float32 if x1.dtype.kind != "f" else x1.dtype.type
    # PyTorch turns the Python scalars ratio and 1 - ratio (computed in double) into float32.
    r = np.asarray(ratio, dtype=np.float64)
    out = r.astype(ft) * x1.astype(ft, copy=False) + \
        (1.0 - r).astype(ft) * np.asarray(x2).astype(ft, copy=False)
    return np.clip(out, 0, bound).astype(x1.dtype)


def _gray(x):
    """Grayscale (..., 1, H, W) in ``x``'s dtype (truncated): 0.2989 R + 0.587 G + 0.114 B."""
    ft = np.float32 if x.dtype.kind != "f" else x.dtype.type
    r, g, b = (x[..., i, :, :].astype(ft, copy=False) for i in range(3))
    return (ft(0.2989) * r + ft(0.587) * g + ft(0.114) * b).astype(x.dtype)[..., None, :, :]


def _channels(a, allowed, op):
    c = a.shape[-3] if a.ndim >= 3 else 1
    if c not in allowed:
        raise TypeError(f"{op}: input image tensor permitted channel values are {allowed}, "
                        f"but found {c}")
    return c


def _blend_adjust(img, factor, what, enhancer, degenerate):
    """adjust_brightness/contrast/saturation (torchvision's): ``ValueError`` for a negative
    ``factor``; a PIL image through Pillow's ``ImageEnhance.<enhancer>``; a tensor (1 or 3
    channels) blended with ``degenerate(array, channels)`` (returned unchanged where that is
    ``None``)."""
    if factor < 0:
        raise ValueError(f"{what}_factor ({factor}) is not non-negative.")
    if is_pil_image(img):
        from PIL import ImageEnhance
        return getattr(ImageEnhance, enhancer)(img).enhance(factor)
    op = f"adjust_{what}"
    a = _array(img, op, 3)
    other = degenerate(a, _channels(a, [1, 3], op))
    if other is None:
        return img
    return _wrap(_blend(a, other, factor))


def adjust_brightness(img, brightness_factor):
    """Blend with black (``F.adjust_brightness``): 0 black, 1 unchanged, 2 twice as bright.

    Raises:
        ValueError: a negative factor.
    """
    return _blend_adjust(img, brightness_factor, "brightness", "Brightness",
                         lambda a, c: np.zeros((), a.dtype))


def adjust_contrast(img, contrast_factor):
    """Blend with the mean grey level (``F.adjust_contrast``).

    Raises:
        ValueError: a negative factor.
    """
    return _blend_adjust(img, contrast_factor, "contrast", "Contrast", _mean_gray)


def _mean_gray(a, c):
    """The mean grey level of each image, ``(..., 1, 1, 1)`` (adjust_contrast's blend)."""
    ft = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
    src = _gray(a) if c == 3 else a
    return src.astype(ft).mean(axis=(-3, -2, -1), keepdims=True, dtype=ft)


def adjust_saturation(img, saturation_factor):
    """Blend with the grayscale image (``F.adjust_saturation``); 1-channel images unchanged.

    Raises:
        ValueError: a negative factor.
    """
    return _blend_adjust(img, saturation_factor, "saturation", "Color",
                         lambda a, c: None if c == 1 else _gray(a))


def _rgb2hsv(x):
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    maxc, minc = x.max(axis=-3), x.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    one = x.dtype.type(1)
    s = cr / np.where(eqc, one, maxc)
    crd = np.where(eqc, one, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = (hr + hg + hb).astype(x.dtype)
    h = np.fmod(h / x.dtype.type(6) + one, one)
    return h, s, maxc


def _hsv2rgb(h, s, v):
    ft = h.dtype.type
    i = np.floor(h * ft(6))
    f = h * ft(6) - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (ft(1) - s), 0, 1)
    q = np.clip(v * (ft(1) - s * f), 0, 1)
    t = np.clip(v * (ft(1) - s * (ft(1) - f)), 0, 1)
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-3)


def adjust_hue(img, hue_factor):
    """Shift the hue by ``hue_factor`` turns (``F.adjust_hue``, in [-0.5, 0.5]); 1-channel
    images are unchanged. Tensors go through float32 HSV (torchvision's ``_rgb2hsv``); PIL
    images through Pillow's HSV mode with the uint8 wrap-around, as torchvision's PIL backend.

    Raises:
        ValueError: ``hue_factor`` outside [-0.5, 0.5].
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if is_pil_image(img):
        Image = pil_image("adjust_hue")
        if img.mode in {"L", "1", "I", "F"}:
            return img
        input_mode = img.mode
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        with np.errstate(over="ignore", invalid="ignore"):
            np_h += np.array(hue_factor * 255).astype(np.uint8)  # torchvision's wrap-around
        h = Image.fromarray(np_h)
        return Image.merge("HSV", (h, s, v)).convert(input_mode)
    a = _array(img, "adjust_hue", 3)
    if _channels(a, [1, 3], "adjust_hue") == 1:
        return img
    x = _convert_dtype(a, np.float32)
    h, s, v = _rgb2hsv(x)
    h = np.fmod(h + np.float32(hue_factor), np.float32(1.0))
    h = np.where(h < 0, h + np.float32(1.0), h)  # torch's % is a floored modulo
    return _wrap(_convert_dtype(_hsv2rgb(h, s, v), a.dtype))


def rgb_to_grayscale(img, num_output_channels=1):
    """Grayscale (``F.rgb_to_grayscale``): PIL's ``convert("L")`` (ITU-R 601-2 luma) for PIL
    images; ``0.2989 R + 0.587 G + 0.114 B`` (truncated to the dtype) for Tensors.

    Raises:
        ValueError: ``num_output_channels`` not 1 or 3.
    """
    if num_output_channels not in (1, 3):
        raise ValueError("rgb_to_grayscale: num_output_channels should be either 1 or 3")
    if is_pil_image(img):
        Image = pil_image("rgb_to_grayscale")
        g = img.convert("L")
        if num_output_channels == 3:
            arr = np.asarray(g)
            g = Image.fromarray(np.dstack([arr, arr, arr]))
        return g
    a = _array(img, "rgb_to_grayscale", 3)
    c = _channels(a, [1, 3], "rgb_to_grayscale")
    g = _gray(a) if c == 3 else a.copy()
    if num_output_channels == 3:
        g = np.broadcast_to(g, g.shape[:-3] + (3,) + g.shape[-2:])
    return _wrap(g)


def to_grayscale(img, num_output_channels=1):
    """PIL images only, as torchvision's ``F.to_grayscale``; see :func:`rgb_to_grayscale`."""
    if not is_pil_image(img):
        raise TypeError(f"to_grayscale: input should be a PIL Image, got {type(img).__name__}")
    return rgb_to_grayscale(img, num_output_channels)


def invert(img):
    """``max - img`` (``F.invert``); PIL through ``ImageOps.invert``."""
    if is_pil_image(img):
        from PIL import ImageOps
        return ImageOps.invert(img)
    a = _array(img, "invert", 3)
    return _wrap(_max_value(a.dtype) - a)


def _gaussian_kernel1d(ksize, sigma, dtype):
    half = (ksize - 1) * 0.5
    x = np.linspace(-half, half, ksize, dtype=dtype)
    pdf = np.exp(dtype.type(-0.5) * (x / dtype.type(sigma)) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma=None):
    """Gaussian blur (``F.gaussian_blur``): a separable kernel over ``linspace(-(k-1)/2,
    (k-1)/2, k)`` normalised to 1, reflect padding; PIL images go through the Tensor path and
    back, as torchvision.

    Args:
        kernel_size (int or (kx, ky)): odd, positive.
        sigma (float or (sx, sy), optional): default ``0.3 * ((k - 1) * 0.5 - 1) + 0.8``.

    Raises:
        TypeError / ValueError: a kernel size that is not odd and positive, sigma <= 0.
    """
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"gaussian_blur: kernel_size should be int or a sequence of integers, "
                        f"got {type(kernel_size).__name__}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"gaussian_blur: if kernel_size is a sequence its length should be 2, "
                         f"got {len(kernel_size)}")
    for k in kernel_size:
        if k % 2 == 0 or k < 0:
            raise ValueError(f"gaussian_blur: kernel_size should have odd and positive integers,"
                             f" got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if isinstance(sigma, (list, tuple)) and len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"gaussian_blur: if sigma is a sequence, its length should be 2, got "
                         f"{len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"gaussian_blur: sigma should have positive values, got {sigma}")
    if is_pil_image(img):
        out = gaussian_blur(pil_to_tensor(img), kernel_size, sigma)
        return to_pil_image(out, mode=img.mode)
    a = _array(img, "gaussian_blur", 3)
    x, dtype = _to_float(a)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], x.dtype)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], x.dtype)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    if px >= a.shape[-1] or py >= a.shape[-2]:
        raise ValueError(f"gaussian_blur: kernel_size {kernel_size} needs reflect padding "
                         f"larger than the image {tuple(a.shape[-2:])}")
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(py, py), (px, px)], mode="reflect")
    kernel = np.outer(ky, kx).astype(x.dtype)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kernel_size[1], kernel_size[0]),
                                                   axis=(-2, -1))
    out = np.einsum("...ij,ij->...", win, kernel, optimize=True)
    return _wrap(_cast_back(out, dtype))


def erase(img, i, j, h, w, v, inplace=False):
    """Set the box (``i``, ``j``, ``h``, ``w``) of a Tensor image to ``v`` (``F.erase``).

    Args:
        v (Tensor or number): the value(s), broadcast to (..., C, h, w).

    Raises:
        TypeError: ``img`` is not a Tensor.
    """
    a = _array(img, "erase", 3)
    vals = v._data if _is_tensor(v) else np.asarray(v)
    if inplace:
        a[..., i:i + h, j:j + w] = vals
        return img
    out = a.copy()
    out[..., i:i + h, j:j + w] = vals
    return autograd.Tensor(out)

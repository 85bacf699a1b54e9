"""Transform classes (``torchvision.transforms``): the same names, arguments, defaults, ``repr``
and ``get_params`` as torchvision, over :mod:`vision.transforms.functional`.

Random transforms draw from tapegrad's default generator (``autograd.random``), so
``autograd.manual_seed(s)`` makes a pipeline repeatable. ``get_params`` is a static method, as in
torchvision, returning the parameters one call would use; applying the functional op with them
gives the transform's output.

Called on a Tensor of shape ``(N, C, H, W)`` a transform is torchvision's: one set of random
parameters for the whole batch. The per-sample batch path (each image its own parameters, one
NumPy call for the batch) is :func:`vision.transforms.apply_batch`, which the datasets'
``__getitems__`` use; see :mod:`vision.transforms._batch`.

Differences from torchvision: the random numbers come from NumPy's PCG64 (other values than
PyTorch's for the same seed, the same distributions); transforms are :class:`nn.Module`
subclasses whose Tensor outputs do not record gradients.
"""

import math
import numbers
from collections.abc import Sequence

import numpy as np

import autograd
import nn

from . import functional as F
from .._pil import is_pil_image
from .functional import InterpolationMode, _setup_size

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype", "Normalize",
           "Resize", "CenterCrop", "Pad", "Lambda", "RandomApply", "RandomChoice",
           "RandomOrder", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomResizedCrop", "RandomRotation", "RandomAffine", "ColorJitter", "Grayscale",
           "RandomGrayscale", "GaussianBlur", "RandomErasing"]


def _rng():
    """The NumPy generator of tapegrad's default generator (re-read: manual_seed replaces it)."""
    return autograd.random.get_rng()


def _uniform(a, b):
    return float(_rng().uniform(a, b))


def _randint(low, high):
    return int(_rng().integers(low, high))


def _check_scale_ratio(scale, ratio):
    """The ``scale`` and ``ratio`` ranges of RandomResizedCrop and RandomErasing: sequences
    ``(min, max)``, with torchvision's errors (TypeError, ValueError)."""
    if not isinstance(scale, Sequence):
        raise TypeError("Scale should be a sequence")
    if not isinstance(ratio, Sequence):
        raise TypeError("Ratio should be a sequence")
    if scale[0] > scale[1] or ratio[0] > ratio[1]:
        raise ValueError("Scale and ratio should be of kind (min, max)")


def _random_box_sides(area, scale, ratio):
    """One try of torchvision's random box (RandomResizedCrop, RandomErasing): an area
    ``area * U(scale)`` and an aspect ratio ``r`` log-uniform in ``ratio``; returns the two
    sides ``(round(sqrt(area r)), round(sqrt(area / r)))``, which RandomResizedCrop reads as
    ``(w, h)`` and RandomErasing as ``(h, w)``, as torchvision does."""
    target_area = area * _uniform(scale[0], scale[1])
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
    return (int(round(math.sqrt(target_area * aspect_ratio))),
            int(round(math.sqrt(target_area / aspect_ratio))))


class _Transform(nn.Module):
    """Base of the Module transforms (torchvision's are ``nn.Module`` too). ``_batch`` is the
    per-sample batch path (see :mod:`vision.transforms._batch`): ``(array (N, C, H, W), pil)``
    -> ``(array, pil)``, or ``None`` when there is none."""

    def _batch(self, a, pil):
        return None


class Compose:
    """Chain transforms (``torchvision.transforms.Compose``).

    Args:
        transforms (list): the transforms, applied in order.
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def _batch(self, a, pil):
        from ._batch import _batch_step
        for t in self.transforms:
            res = _batch_step(t, a, pil)
            if res is None:
                return None
            a, pil = res
        return a, pil

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """PIL image or ndarray (H, W, C) -> float32 Tensor (C, H, W) in [0, 1] for 8-bit data
    (``torchvision.transforms.ToTensor``; see :func:`functional.to_tensor`)."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def _batch(self, a, pil):
        if not pil:
            return None  # torchvision's ToTensor refuses Tensors
        if a.dtype == np.uint8:
            return np.divide(a, 255, dtype=np.float32), False
        return a, False

    def __repr__(self):
        return f"{type(self).__name__}()"


class PILToTensor:
    """PIL image -> Tensor (C, H, W) of the image's dtype, values unchanged
    (``torchvision.transforms.PILToTensor``)."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def _batch(self, a, pil):
        return (a, False) if pil else None

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToPILImage:
    """Tensor (C, H, W) or ndarray (H, W, C) -> PIL image (``torchvision.transforms.ToPILImage``).

    Args:
        mode (str, optional): the PIL mode; inferred from the channels when None.
    """

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def _batch(self, a, pil):
        if pil or a.dtype != np.uint8 or self.mode is not None:
            return None
        return a, True

    def __repr__(self):
        return f"{type(self).__name__}(" + (f"mode={self.mode}" if self.mode else "") + ")"


class ConvertImageDtype(_Transform):
    """Convert a Tensor image's dtype, rescaling values
    (``torchvision.transforms.ConvertImageDtype``).

    Args:
        dtype: the target dtype (``autograd.float32``, ``autograd.uint8`` ...).
    """

    def __init__(self, dtype):
        super().__init__()
        self.dtype = np.dtype(dtype)

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def _batch(self, a, pil):
        return None if pil else (F._convert_dtype(a, self.dtype), False)


class Normalize(_Transform):
    """``(x - mean) / std`` per channel of a float Tensor (``torchvision.transforms.Normalize``).

    Args:
        mean (sequence): per-channel means. std (sequence): per-channel standard deviations.
        inplace (bool): write into the input.

    Shape: ``(..., C, H, W)`` -> same.
    """

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def _batch(self, a, pil):
        if pil:
            return None
        return F.normalize(autograd.Tensor(a), self.mean, self.std)._data, False

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Resize(_Transform):
    """Resize (``torchvision.transforms.Resize``; see :func:`functional.resize`).

    Args:
        size (int or (h, w)): an int matches the smaller edge.
        interpolation (InterpolationMode): default bilinear.
        max_size (int, optional): cap of the longer edge.
        antialias (bool): default True.
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        super().__init__()
        if not isinstance(size, (int, Sequence, type(None))):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = F._interp(interpolation, "Resize")
        self.antialias = antialias

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def _batch(self, a, pil):
        if pil:
            return None  # Pillow's resampling rounds in fixed point: not the float path
        return F.resize(autograd.Tensor(a), self.size, self.interpolation, self.max_size,
                        self.antialias)._data, False

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop(_Transform):
    """Crop the centre (``torchvision.transforms.CenterCrop``).

    Args:
        size (int or (h, w)): the output size.
    """

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, "CenterCrop")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def _batch(self, a, pil):
        return F.center_crop(autograd.Tensor(a), self.size)._data, pil

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class Pad(_Transform):
    """Pad the borders (``torchvision.transforms.Pad``; see :func:`functional.pad`).

    Args:
        padding (int or sequence), fill (number or tuple), padding_mode (str): as ``F.pad``.

    Raises:
        TypeError / ValueError: bad arguments.
    """

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, Sequence) and len(padding) not in [1, 2, 4]:
            raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def _batch(self, a, pil):
        return F.pad(autograd.Tensor(a), self.padding, self.fill, self.padding_mode)._data, pil

    def __repr__(self):
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class Lambda:
    """A user function as a transform (``torchvision.transforms.Lambda``).

    Raises:
        TypeError: ``lambd`` is not callable.
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomApply(_Transform):
    """Apply ``transforms`` (in order) with probability ``p``
    (``torchvision.transforms.RandomApply``)."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < _rng().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{body}\n)"


class RandomOrder:
    """Apply ``transforms`` in a random order (``torchvision.transforms.RandomOrder``)."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for i in _rng().permutation(len(self.transforms)):
            img = self.transforms[int(i)](img)
        return img


class RandomChoice:
    """Apply one transform picked at random, with weights ``p``
    (``torchvision.transforms.RandomChoice``).

    Raises:
        ValueError: ``p`` of another length than ``transforms``.
    """

    def __init__(self, transforms, p=None):
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != "
                             f"{len(transforms)}")
        self.transforms = transforms
        total = sum(p) if p is not None else None
        self.p = [w / total for w in p] if p is not None else None

    def __call__(self, *args):
        i = int(_rng().choice(len(self.transforms), p=self.p))
        return self.transforms[i](*args)


class RandomCrop(_Transform):
    """Crop at a random place (``torchvision.transforms.RandomCrop``).

    Args:
        size (int or (h, w)): the output size.
        padding (int or sequence, optional): padding applied first (see ``F.pad``).
        pad_if_needed (bool): pad an image smaller than ``size`` up to it.
        fill (number or tuple): the constant mode's value. padding_mode (str): as ``F.pad``.

    Raises:
        ValueError: the (padded) image is smaller than ``size``.
    """

    @staticmethod
    def get_params(img, output_size):
        """``(i, j, th, tw)`` of a random crop of ``output_size`` from ``img``, uniform over the
        positions.

        Raises:
            ValueError: ``output_size`` larger than the image.
        """
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        return _randint(0, h - th + 1), _randint(0, w - tw + 1), th, tw

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        self.size = tuple(_setup_size(size, "RandomCrop"))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _prepare(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        return img

    def forward(self, img):
        img = self._prepare(img)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def _batch(self, a, pil):
        from ._batch import gather_crops
        x = self._prepare(autograd.Tensor(a))._data
        n, (h, w), (th, tw) = x.shape[0], x.shape[-2:], self.size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        i = _rng().integers(0, h - th + 1, size=n)
        j = _rng().integers(0, w - tw + 1, size=n)
        return gather_crops(x, i, j, th, tw), pil

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class _RandomFlip(_Transform):
    """The random flips: the class's ``_flip`` (``F.hflip``/``F.vflip``) with probability
    ``p``; a batch draws one coin per image and flips along array axis ``_axis``."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        if _rng().random() < self.p:
            return type(self)._flip(img)
        return img

    def _batch(self, a, pil):
        flip = _rng().random(a.shape[0]) < self.p
        return np.where(flip[:, None, None, None], np.flip(a, self._axis), a), pil

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Flip left-right with probability ``p`` (``torchvision.transforms.RandomHorizontalFlip``)."""

    _flip = F.hflip
    _axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Flip top-bottom with probability ``p`` (``torchvision.transforms.RandomVerticalFlip``)."""

    _flip = F.vflip
    _axis = -2


class RandomResizedCrop(_Transform):
    """Crop a random area and aspect ratio, then resize (``torchvision.transforms.
    RandomResizedCrop``; Szegedy et al. 2015, "Going deeper with convolutions").

    Args:
        size (int or (h, w)): the output size.
        scale ((float, float)): range of the crop's area as a fraction of the image's.
        ratio ((float, float)): range of the aspect ratio (log-uniform).
        interpolation (InterpolationMode): default bilinear. antialias (bool): default True.

    Raises:
        ValueError: a decreasing ``scale`` or ``ratio``.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.size = _setup_size(size, "RandomResizedCrop")
        _check_scale_ratio(scale, ratio)
        self.interpolation = F._interp(interpolation, "RandomResizedCrop")
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """``(i, j, h, w)`` of a random crop (see the class docstring; torchvision's
        algorithm: 10 tries, then a central crop clamped to ``ratio``)."""
        _, height, width = F.get_dimensions(img)
        for _ in range(10):
            w, h = _random_box_sides(height * width, scale, ratio)
            if 0 < w <= width and 0 < h <= height:
                return _randint(0, height - h + 1), _randint(0, width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation,
                              antialias=self.antialias)

    def _batch(self, a, pil):
        if pil:
            return None
        from ._batch import crop_params_batch, resize_crops
        n, (height, width) = a.shape[0], a.shape[-2:]
        i, j, h, w = crop_params_batch(height, width, self.scale, self.ratio, n)
        return resize_crops(a, i, j, h, w, self.size, self.interpolation, self.antialias), pil

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale="
                f"{tuple(round(s, 4) for s in self.scale)}, ratio="
                f"{tuple(round(r, 4) for r in self.ratio)}, interpolation="
                f"{self.interpolation.value}, antialias={self.antialias})")


def _setup_angle(x, name, req_sizes=(2,)):
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return [-x, x]
    if not isinstance(x, Sequence) or len(x) not in req_sizes:
        raise ValueError(f"{name} should be a sequence of length "
                         + " or ".join(str(s) for s in req_sizes) + ".")
    return [float(d) for d in x]


def _tensor_fill(fill, img):
    if fill is None or not isinstance(img, autograd.Tensor):
        return fill
    c = F.get_dimensions(img)[0]
    if isinstance(fill, (int, float)):
        return [float(fill)] * c
    return [float(f) for f in fill]


class RandomRotation(_Transform):
    """Rotate by a uniform random angle (``torchvision.transforms.RandomRotation``).

    Args:
        degrees (number or (min, max)): a number d means (-d, d).
        interpolation (InterpolationMode): default nearest. expand (bool), center (x, y),
        fill (number or sequence): as ``F.rotate`` (fill default 0).

    Raises:
        ValueError: negative single ``degrees`` or a sequence of the wrong length.
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        super().__init__()
        self.degrees = _setup_angle(degrees, "degrees")
        self.interpolation = F._interp(interpolation, "RandomRotation")
        self.expand = expand
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError("center should be a sequence of length 2.")
        self.center = center
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.fill = fill

    @staticmethod
    def get_params(degrees):
        """A uniform angle in ``[degrees[0], degrees[1]]``."""
        return _uniform(degrees[0], degrees[1])

    def forward(self, img):
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center,
                        _tensor_fill(self.fill, img))

    def _batch(self, a, pil):
        if pil or self.expand:
            return None
        from ._batch import affine_batch
        n, (h, w) = a.shape[0], a.shape[-2:]
        angles = _rng().uniform(self.degrees[0], self.degrees[1], size=n)
        center_f = [0.0, 0.0] if self.center is None else \
            [c - s * 0.5 for c, s in zip(self.center, [w, h])]
        mats = [F._get_inverse_affine_matrix(center_f, -float(t), [0.0, 0.0], 1.0, [0.0, 0.0])
                for t in angles]
        fill = _tensor_fill(self.fill, autograd.Tensor(a[:1]))
        return affine_batch(a, mats, self.interpolation, fill), pil

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}"
                + (f", center={self.center}" if self.center is not None else "")
                + (f", fill={self.fill}" if self.fill is not None else "") + ")")


class RandomAffine(_Transform):
    """Random affine transformation keeping the centre invariant
    (``torchvision.transforms.RandomAffine``).

    Args:
        degrees (number or (min, max)): rotation range.
        translate ((a, b), optional): maximal fractions of width and height to shift by.
        scale ((min, max), optional): scale range. shear (number or 2 or 4 numbers, optional):
            x shear range (and y's with 4).
        interpolation (InterpolationMode): default nearest. fill, center: as ``F.affine``.

    Raises:
        ValueError: out-of-range ``translate`` or ``scale``, bad lengths.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        super().__init__()
        self.degrees = _setup_angle(degrees, "degrees")
        if translate is not None:
            if not isinstance(translate, Sequence) or len(translate) != 2:
                raise ValueError("translate should be a sequence of length 2.")
            for t in translate:
                if not 0.0 <= t <= 1.0:
                    raise ValueError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            if not isinstance(scale, Sequence) or len(scale) != 2:
                raise ValueError("scale should be a sequence of length 2.")
            for s in scale:
                if s <= 0:
                    raise ValueError("scale values should be positive")
        self.scale = scale
        self.shear = _setup_angle(shear, "shear", (2, 4)) if shear is not None else None
        self.interpolation = F._interp(interpolation, "RandomAffine")
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.fill = fill
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError("center should be a sequence of length 2.")
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """``(angle, (tx, ty), scale, (shear_x, shear_y))`` for an image of ``img_size``
        ``[width, height]`` (torchvision's draws: uniform angle, translation rounded to whole
        pixels, uniform scale and shears)."""
        angle = _uniform(degrees[0], degrees[1])
        if translate is not None:
            max_dx = float(translate[0] * img_size[0])
            max_dy = float(translate[1] * img_size[1])
            tx = int(round(_uniform(-max_dx, max_dx)))
            ty = int(round(_uniform(-max_dy, max_dy)))
            translations = (tx, ty)
        else:
            translations = (0, 0)
        scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        _, height, width = F.get_dimensions(img)
        ret = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                              [width, height])
        return F.affine(img, *ret, interpolation=self.interpolation,
                        fill=_tensor_fill(self.fill, img), center=self.center)

    def _batch(self, a, pil):
        if pil:
            return None
        from ._batch import affine_batch
        n, (h, w) = a.shape[0], a.shape[-2:]
        center_f = [0.0, 0.0] if self.center is None else \
            [1.0 * (c - s * 0.5) for c, s in zip(self.center, [w, h])]
        mats = []
        for _ in range(n):
            angle, (tx, ty), scale, shear = self.get_params(self.degrees, self.translate,
                                                            self.scale, self.shear, [w, h])
            mats.append(F._get_inverse_affine_matrix(center_f, angle, [1.0 * tx, 1.0 * ty],
                                                     scale, list(shear)))
        fill = _tensor_fill(self.fill, autograd.Tensor(a[:1]))
        return affine_batch(a, mats, self.interpolation, fill), pil

    def __repr__(self):
        s = f"{type(self).__name__}(degrees={self.degrees}"
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                s += f", {name}={getattr(self, name)}"
        if self.interpolation != InterpolationMode.NEAREST:
            s += f", interpolation={self.interpolation.value}"
        if self.fill != 0:
            s += f", fill={self.fill}"
        if self.center is not None:
            s += f", center={self.center}"
        return s + ")"


class ColorJitter(_Transform):
    """Random brightness, contrast, saturation and hue, in a random order
    (``torchvision.transforms.ColorJitter``).

    Args:
        brightness, contrast, saturation (float or (min, max)): a number b means
            ``[max(0, 1 - b), 1 + b]``; factors as ``F.adjust_*``.
        hue (float or (min, max)): a number h means ``[-h, h]``, within [-0.5, 0.5].

    Raises:
        ValueError: negative numbers or ranges outside the bounds.
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5),
                                     clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """``(fn_idx, b, c, s, h)``: a random order of the four adjustments and a uniform
        factor from each range (None where the range is None)."""
        fn_idx = [int(i) for i in _rng().permutation(4)]
        b = None if brightness is None else _uniform(brightness[0], brightness[1])
        c = None if contrast is None else _uniform(contrast[0], contrast[1])
        s = None if saturation is None else _uniform(saturation[0], saturation[1])
        h = None if hue is None else _uniform(hue[0], hue[1])
        return fn_idx, b, c, s, h

    def forward(self, img):
        fn_idx, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation,
                                             self.hue)
        for fn_id in fn_idx:
            if fn_id == 0 and b is not None:
                img = F.adjust_brightness(img, b)
            elif fn_id == 1 and c is not None:
                img = F.adjust_contrast(img, c)
            elif fn_id == 2 and s is not None:
                img = F.adjust_saturation(img, s)
            elif fn_id == 3 and h is not None:
                img = F.adjust_hue(img, h)
        return img

    def _batch(self, a, pil):
        if pil:
            return None
        from ._batch import color_jitter_batch
        return color_jitter_batch(a, self.brightness, self.contrast, self.saturation,
                                  self.hue), pil

    def __repr__(self):
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class Grayscale(_Transform):
    """Convert to grayscale (``torchvision.transforms.Grayscale``; see
    :func:`functional.rgb_to_grayscale`).

    Args:
        num_output_channels (int): 1 or 3.
    """

    def __init__(self, num_output_channels=1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def _batch(self, a, pil):
        if pil:
            return None  # Pillow's luma rounds differently from the tensor formula
        return F.rgb_to_grayscale(autograd.Tensor(a), self.num_output_channels)._data, pil

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(_Transform):
    """Grayscale with probability ``p``, keeping the channel count
    (``torchvision.transforms.RandomGrayscale``)."""

    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        num_output_channels = F.get_dimensions(img)[0]
        if _rng().random() < self.p:
            return F.rgb_to_grayscale(img, num_output_channels=num_output_channels)
        return img

    def _batch(self, a, pil):
        if pil:
            return None
        c = a.shape[-3]
        gray = F.rgb_to_grayscale(autograd.Tensor(a), c)._data if c == 3 else a
        pick = _rng().random(a.shape[0]) < self.p
        return np.where(pick[:, None, None, None], gray, a), pil

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class GaussianBlur(_Transform):
    """Gaussian blur with a uniform random sigma (``torchvision.transforms.GaussianBlur``).

    Args:
        kernel_size (int or (kx, ky)): odd and positive.
        sigma (float or (min, max)): fixed sigma or the range it is drawn from.

    Raises:
        ValueError: an even or non-positive kernel size, a non-positive or decreasing sigma.
    """

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size = _setup_size(kernel_size, "GaussianBlur", "kernel_size")
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min, sigma_max):
        """A uniform sigma in ``[sigma_min, sigma_max]``."""
        return _uniform(sigma_min, sigma_max)

    def forward(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def _batch(self, a, pil):
        if pil:
            return None
        from ._batch import gaussian_blur_batch
        sig = _rng().uniform(self.sigma[0], self.sigma[1], size=a.shape[0])
        return gaussian_blur_batch(a, list(self.kernel_size), sig), pil

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


class RandomErasing(_Transform):
    """Erase a random rectangle with probability ``p`` (``torchvision.transforms.
    RandomErasing``; Zhong et al. 2017, "Random Erasing Data Augmentation"). Tensors only.

    Args:
        p (float): probability. scale ((min, max)): erased area over image area.
        ratio ((min, max)): aspect ratio range (log-uniform).
        value (number, sequence or "random"): the fill; "random" draws N(0, 1) per pixel.
        inplace (bool): erase in the input.

    Raises:
        TypeError: a PIL image input or a bad ``value``. ValueError: bad ranges.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        super().__init__()
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        _check_scale_ratio(scale, ratio)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """``(i, j, h, w, v)``: the box and its values (``v`` a Tensor (C, h, w) of N(0, 1)
        when ``value`` is None, else ``value`` per channel); the whole image and itself after
        10 failed tries, as torchvision."""
        img_c, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        for _ in range(10):
            h, w = _random_box_sides(img_h * img_w, scale, ratio)
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = autograd.Tensor(_rng().standard_normal((img_c, h, w), dtype=np.float32))
            else:
                v = autograd.Tensor(np.asarray(value, dtype=np.float32)[:, None, None])
            return _randint(0, img_h - h + 1), _randint(0, img_w - w + 1), h, w, v
        return 0, 0, img_h, img_w, img

    def _value(self, channels):
        if isinstance(self.value, (int, float)):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]
        if value is not None and len(value) not in (1, channels):
            raise ValueError("If value is a sequence, it should have either a single value or "
                             f"{channels} (number of input channels)")
        return value

    def forward(self, img):
        if is_pil_image(img):
            raise TypeError("RandomErasing: img should be a Tensor, got a PIL Image (put it "
                            "after ToTensor)")
        if _rng().random() < self.p:
            value = self._value(img.shape[-3])
            x, y, h, w, v = self.get_params(img, scale=self.scale, ratio=self.ratio,
                                            value=value)
            return F.erase(img, x, y, h, w, v, self.inplace)
        return img

    def _batch(self, a, pil):
        if pil:
            return None
        from ._batch import erase_batch
        return erase_batch(a, self.p, self.scale, self.ratio, self._value(a.shape[-3])), pil

    def __repr__(self):
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")

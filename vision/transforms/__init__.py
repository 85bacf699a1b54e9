"""Image transforms (``torchvision.transforms``) for PIL images and Tensors.

The classes are in :mod:`vision.transforms.transforms`, the functions in
:mod:`vision.transforms.functional` (``import vision.transforms.functional as F``), the
per-sample batch path in :func:`apply_batch`.
"""

from . import functional
from ._batch import apply_batch
from .functional import InterpolationMode
from .transforms import (CenterCrop, ColorJitter, Compose, ConvertImageDtype, GaussianBlur,
                         Grayscale, Lambda, Normalize, Pad, PILToTensor, RandomAffine,
                         RandomApply, RandomChoice, RandomCrop, RandomErasing, RandomGrayscale,
                         RandomHorizontalFlip, RandomOrder, RandomResizedCrop, RandomRotation,
                         RandomVerticalFlip, Resize, ToPILImage, ToTensor)

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype", "Normalize",
           "Resize", "CenterCrop", "Pad", "Lambda", "RandomApply", "RandomChoice",
           "RandomOrder", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomResizedCrop", "RandomRotation", "RandomAffine", "ColorJitter", "Grayscale",
           "RandomGrayscale", "GaussianBlur", "RandomErasing", "InterpolationMode",
           "functional", "apply_batch"]

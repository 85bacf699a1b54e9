"""Legacy alias: the datasets moved to ``vision.datasets`` (``torchvision.datasets``).

``autograd.datasets.MNIST`` and ``FashionMNIST`` keep their old behaviour: ``dataset[i]`` gives
the image as a float32 Tensor of shape (1, 28, 28) in [0, 1] (what ``ToTensor()`` would give),
``transform`` receives that Tensor, and ``__getitems__`` without transforms returns
``[images (B, 1, 28, 28) float32, labels (B,) int64]``. ``vision.datasets.MNIST`` returns PIL
images, as torchvision does; new code should use it.

This module imports nothing from ``vision`` when it is imported: ``autograd`` never depends on
the layers above it (see DESIGN.md). Its names are resolved on first attribute access
(``from autograd.datasets import MNIST`` imports ``vision.datasets`` then).
"""

import importlib

__all__ = ["MNIST", "FashionMNIST", "read_idx", "read_image_file", "read_label_file"]

_FROM_MNIST = {"read_idx", "read_image_file", "read_label_file", "DatasetFileError"}
_LEGACY = {"MNIST", "FashionMNIST"}


def _legacy_class(name):
    mod = importlib.import_module("vision.datasets.mnist")
    base = getattr(mod, name)
    doc = (f"{name} with Tensor images (legacy ``autograd.datasets.{name}``): ``dataset[i]`` is "
           "``(float32 Tensor (1, 28, 28) in [0, 1], int)``. See ``vision.datasets." + name
           + "`` for the rest; that class returns PIL images as torchvision does.")
    return type(name, (base,), {"_image_kind": "tensor", "__doc__": doc,
                                "__module__": __name__})


def __getattr__(name):
    if name in _LEGACY:
        value = _legacy_class(name)
    elif name in _FROM_MNIST:
        value = getattr(importlib.import_module("vision.datasets.mnist"), name)
    else:
        raise AttributeError(f"module 'autograd.datasets' has no attribute '{name}' (the "
                             "datasets live in vision.datasets)")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

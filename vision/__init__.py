"""vision: torchvision's datasets, transforms, utils and model architectures for tapegrad.

Code written for torchvision ports by renaming ``torchvision`` -> ``vision`` (and ``torch`` ->
``autograd``, ``torch.nn`` -> ``nn``): ``vision.datasets``, ``vision.transforms``,
``vision.utils``, ``vision.models`` hold torchvision's names, arguments, defaults and outputs;
where they differ the docstrings say so. Pillow is the optional extra ``vision``
(``pip install tapegrad[vision]``), imported only where a PIL image is made or read.

Layering: ``vision`` sits above ``nn`` (its models are ``nn.Module`` trees); ``autograd`` and
``nn`` never import it.
"""

from . import datasets, models, transforms, utils

__version__ = "0.1.0"

__all__ = ["datasets", "models", "transforms", "utils"]

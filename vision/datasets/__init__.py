"""Datasets (``torchvision.datasets``): MNIST, FashionMNIST, KMNIST, EMNIST, CIFAR10, CIFAR100,
SVHN, ImageFolder, DatasetFolder, FakeData.

Each reads the official files without executing anything from them (no pickle: CIFAR's python
archives go through a restricted reader that accepts only their known layout), checks every size
it is told before allocating, and raises a clear error naming the file when a file is missing,
truncated or not what it should be. ``download=True`` fetches with MD5 checks where there is a
network and says which files to copy where there is none.
"""

from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST
from .svhn import SVHN
from .utils import DatasetFileError
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "SVHN",
           "ImageFolder", "DatasetFolder", "FakeData", "VisionDataset", "DatasetFileError"]

"""tapegrad's ``nn``: modules, layers, losses, ``functional``, ``init`` and ``utils``, with
``torch.nn``'s names, arguments, defaults and parameter shapes (so ``state_dict`` keys match).
"""

from . import functional, init, utils
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Flatten, Identity, Linear, Unflatten
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .parameter import Parameter
from .pooling import MaxPool2d

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Identity", "Linear", "Flatten",
           "Unflatten", "Conv2d", "MaxPool2d", "ReLU", "Sigmoid", "Tanh", "Softmax",
           "LogSoftmax", "Dropout", "CrossEntropyLoss", "NLLLoss", "MSELoss", "functional",
           "init", "utils"]

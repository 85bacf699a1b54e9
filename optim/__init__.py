"""tapegrad's ``optim``: optimizers with ``torch.optim``'s names, hyper-parameters, defaults
and update rules."""

from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam"]

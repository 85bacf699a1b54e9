"""``autograd.data.sampler`` (``torch.utils.data.sampler``): the samplers of
:mod:`autograd.data`, at PyTorch's module path."""

from . import (BatchSampler, RandomSampler, Sampler, SequentialSampler,  # noqa: F401
               SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]

"""Data loading: ``torch.utils.data`` for tapegrad (``from autograd.data import DataLoader``).

Datasets (:class:`Dataset`, :class:`IterableDataset`, :class:`TensorDataset`, :class:`Subset`,
:class:`ConcatDataset`, :func:`random_split`), samplers (:class:`SequentialSampler`,
:class:`RandomSampler`, :class:`SubsetRandomSampler`, :class:`WeightedRandomSampler`,
:class:`BatchSampler`), :func:`default_collate` / :func:`default_convert` and
:class:`DataLoader`, with PyTorch's names, arguments, defaults and semantics.

Randomness comes from :func:`autograd.random.get_rng`: a sampler or loader given
``generator=None`` draws from the default generator, so ``autograd.manual_seed(s)`` makes the
shuffling of a whole run repeatable; a passed :class:`autograd.Generator` gives a stream of its
own. The streams are NumPy's, so orders differ from PyTorch's for the same seed.

The batch fast path: a dataset may define ``__getitems__(indices)`` returning the collated batch
(what ``default_collate([dataset[i] for i in indices])`` returns). :class:`DataLoader` then
fetches each batch with that one call instead of one ``__getitem__`` per sample.
:class:`TensorDataset` does it with one fancy-index per tensor. (PyTorch calls
``__getitems__`` too, but passes its list of samples to ``collate_fn`` afterwards; here it
returns the batch itself and is used only while ``collate_fn`` is the default.)

Worker processes (``num_workers > 0``, ``get_worker_info``, seeding, errors): see
:class:`DataLoader` (``dataloader.py``) and ``_worker.py``.

Differences from PyTorch, also noted where they apply: Python floats collate to the default
dtype (float32), not float64; collated batches are new arrays, not tracked by autograd unless an
element requires grad; worker processes start with ``forkserver`` by default (PyTorch: ``fork``
on Linux), and ``pin_memory`` does nothing (CPU only).
"""

import bisect
import collections.abc
import math
import numbers
import operator
import warnings

import numpy as np

from ..random import get_rng
from ..tensor import Tensor

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler", "DataLoader", "default_collate", "default_convert",
    "get_worker_info",
]


# --- datasets ---------------------------------------------------------------------------------

class Dataset:
    """A map-style dataset (``torch.utils.data.Dataset``): subclasses define ``__getitem__``
    (index -> sample) and usually ``__len__``.

    Optionally ``__getitems__(indices)`` returns a whole collated batch (what
    ``default_collate([self[i] for i in indices])`` would), the :class:`DataLoader` fast path.

    ``a + b`` is ``ConcatDataset([a, b])``.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream (``torch.utils.data.IterableDataset``): subclasses define
    ``__iter__``. A :class:`DataLoader` over it batches the stream in order; ``shuffle`` and
    ``sampler`` are not allowed (PyTorch's rule)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support + (ConcatDataset needs map-style "
                        "datasets)")


def _is_int(value):
    """Whether ``value`` is an integer (any ``numbers.Integral``) and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_positive_int(owner, name, value):
    """Raise ValueError (PyTorch's message) unless ``value`` is a positive integer."""
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")


def _check_bool(owner, name, value, error=TypeError):
    """Raise ``error`` (PyTorch's message) unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise error(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")


def _as_tensor(x, what):
    """``x`` as a Tensor (an ndarray is wrapped without copy); TypeError otherwise."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{what}: expected Tensors, got {type(x).__name__}")


def _index_array(indices, n, who):
    """Indices as an intp array, range-checked against ``n`` (negative ones allowed)."""
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            idx = idx.astype(np.intp)
        else:
            raise TypeError(f"{who}: indices must be integers, got {idx.dtype}")
    idx = idx.astype(np.intp, copy=False).reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx[(idx < -n) | (idx >= n)][0])
        raise IndexError(f"{who}: index {bad} is out of range for a dataset of size {n}")
    return idx


class TensorDataset(Dataset):
    """A dataset of tensors indexed along their first dimension
    (``torch.utils.data.TensorDataset``).

    Args:
        *tensors (Tensor): all with the same size N of dimension 0 (NumPy arrays are wrapped
            without copy).

    ``dataset[i]`` is ``tuple(t[i] for t in tensors)``. ``__getitems__(indices)`` returns the
    batch ``[t[indices] for t in tensors]`` (a list, as :func:`default_collate` gives for tuple
    samples) with one fancy-index per tensor: the :class:`DataLoader` fast path.

    Attributes:
        tensors (tuple[Tensor, ...]): the tensors.

    Raises:
        ValueError: if the tensors' first dimensions differ (the sizes are named), or a tensor is
            0-dimensional.
        TypeError: if an argument is not a Tensor or ndarray.
    """

    def __init__(self, *tensors):
        tensors = tuple(_as_tensor(t, "TensorDataset") for t in tensors)
        for k, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is 0-dimensional; every tensor "
                                 "needs a first (sample) dimension")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError("TensorDataset: size mismatch between tensors: the first "
                             f"dimensions are {sizes} (shapes "
                             f"{[tuple(t.shape) for t in tensors]}); they must all be equal")
        self.tensors = tensors

    def __len__(self):
        return self.tensors[0].shape[0] if self.tensors else 0

    def __getitem__(self, index):
        """``tuple(t[index] for t in self.tensors)``: one sample for an int index; for a slice,
        a list/array of indices or an index tensor, a batch (``ds[i:j]``), as PyTorch (which
        indexes every tensor with ``index``).

        Raises:
            IndexError: for an int index out of range.
        """
        if not isinstance(index, (int, np.integer)) and not (
                isinstance(index, Tensor) and index.ndim == 0 and index.dtype.kind in "iu"):
            return tuple(t[index] for t in self.tensors)
        n = len(self)
        i = operator.index(index)
        if not -n <= i < n:
            raise IndexError(f"TensorDataset: index {i} is out of range for a dataset of "
                             f"size {n}")
        return tuple(t[i] if t.requires_grad else Tensor(t._data[i, ...]) for t in self.tensors)

    def __getitems__(self, indices):
        """The batch for ``indices``: ``[t[indices] for t in self.tensors]``, each of shape
        ``(len(indices),) + t.shape[1:]`` and ``t``'s dtype.

        Raises:
            IndexError: an index out of range.
        """
        idx = _index_array(indices, len(self), "TensorDataset")
        return [t[idx] if t.requires_grad else Tensor(t._data[idx])
                for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (``torch.utils.data.Subset``).

    Args:
        dataset (Dataset): the whole dataset.
        indices (sequence of int): the indices into ``dataset``, in order.

    ``subset[i]`` is ``dataset[indices[i]]``; ``__getitems__`` forwards to the dataset's own
    ``__getitems__`` (with the mapped indices) when it has one.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        """The collated batch of ``[self[i] for i in indices]``."""
        mapped = [self.indices[i] for i in indices]
        inner = getattr(self.dataset, "__getitems__", None)
        if inner is not None:
            return inner(mapped)
        return default_collate([self.dataset[i] for i in mapped])

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other (``torch.utils.data.ConcatDataset``).

    Args:
        datasets (iterable of Dataset): at least one; none may be an :class:`IterableDataset`.

    Attributes:
        datasets (list): the parts; cumulative_sizes (list[int]): running totals of their lengths.

    Raises:
        ValueError: no datasets, or an index whose absolute value exceeds the length.
        TypeError: an :class:`IterableDataset` among them.
        IndexError: an index past the end.
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of the lengths of ``sequence``'s datasets."""
        out, total = [], 0
        for d in sequence:
            total += len(d)
            out.append(total)
        return out

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        idx = operator.index(idx)
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("ConcatDataset: absolute value of index should not exceed "
                                 f"dataset length ({idx} for length {n})")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of "
                             f"size {n}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` s
    (``torch.utils.data.random_split``).

    Args:
        dataset (Dataset): with ``__len__``.
        lengths (sequence of int or float): the sizes, summing to ``len(dataset)``; or fractions
            summing to 1, turned into ``floor(frac * len)`` each with the remainder given out one
            at a time round-robin from the first (PyTorch's rule, so the sizes equal PyTorch's).
        generator (Generator, optional): the random stream (default: the default generator).

    Returns:
        list[Subset]: one per length; together they hold every index exactly once.

    Raises:
        ValueError: a fraction outside [0, 1], or lengths that do not sum to the dataset's length
            (or to 1).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1: "
                                 f"{frac}")
            sizes.append(int(math.floor(n * frac)))
        remainder = n - sum(sizes)
        for i in range(remainder):
            sizes[i % len(sizes)] += 1
        for i, s in enumerate(sizes):
            if s == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; "
                              "this leads to an empty dataset.")
        lengths = sizes
    for i, s in enumerate(lengths):
        if not _is_int(s) or s < 0:
            raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                             f"summing to 1, got {lengths[i]!r} at index {i}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n})")
    perm = get_rng(generator).permutation(n).tolist()
    out, start = [], 0
    for s in lengths:
        out.append(Subset(dataset, perm[start:start + s]))
        start += s
    return out


# --- samplers ---------------------------------------------------------------------------------

class Sampler:
    """Base of the samplers (``torch.utils.data.Sampler``): ``__iter__`` yields indices (or
    lists of indices for a batch sampler), ``__len__`` says how many."""

    def __init__(self, data_source=None):
        """``data_source`` is accepted for compatibility and unused (as in PyTorch)."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source))

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices into ``data_source``, a new draw on every ``iter()``
    (``torch.utils.data.RandomSampler``).

    Args:
        data_source (Dataset): sized.
        replacement (bool): draw with replacement (then ``num_samples`` can be anything).
        num_samples (int, optional): how many per pass (default ``len(data_source)``); without
            replacement and more than the length, whole permutations follow one another.
        generator (Generator, optional): the random stream (default: the default generator,
            read at each ``iter()``, so ``manual_seed`` applies).

    Raises:
        TypeError: ``replacement`` not a bool.
        ValueError: ``num_samples`` not a positive integer.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool("RandomSampler", "replacement", replacement)
        _check_positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self):
        """Indices per pass: ``num_samples`` if given, else ``len(data_source)``."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self):
        n = len(self.data_source)
        k = self.num_samples
        rng = get_rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=k)
        reps = -(-k // n)
        return np.concatenate([rng.permutation(n) for _ in range(reps)])[:k]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, new on every ``iter()``
    (``torch.utils.data.SubsetRandomSampler``)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _index_array(self):
        perm = get_rng(self.generator).permutation(len(self.indices))
        return np.asarray(self.indices)[perm] if len(self.indices) else perm

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0..len(weights)-1`` drawn with probability proportional to ``weights``
    (``torch.utils.data.WeightedRandomSampler``).

    Args:
        weights (sequence of float): non-negative, not all zero.
        num_samples (int): how many per pass.
        replacement (bool): with replacement (default True); without, ``num_samples`` must not
            exceed the number of non-zero weights.
        generator (Generator, optional): the random stream.

    Raises:
        ValueError: bad ``num_samples``, or weights not a 1-D non-negative finite sequence.
        TypeError: ``replacement`` not a bool.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        _check_bool("WeightedRandomSampler", "replacement", replacement)
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights,
                       dtype=np.float64)
        if w.ndim != 1 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be a 1-D sequence of finite "
                             f"non-negative numbers, not all zero; got shape {w.shape}")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without "
                             f"replacement from {np.count_nonzero(w)} non-zero weights")
        self.weights = Tensor(w)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def _index_array(self):
        w = self.weights._data
        return get_rng(self.generator).choice(len(w), size=self.num_samples,
                                              replace=self.replacement, p=w / w.sum())

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``
    (``torch.utils.data.BatchSampler``).

    Args:
        sampler (Sampler or iterable): yields indices.
        batch_size (int): positive.
        drop_last (bool): drop the last batch if it is smaller than ``batch_size``.

    ``len`` is ``ceil(len(sampler) / batch_size)``, or ``floor`` with ``drop_last``.

    Raises:
        ValueError: ``batch_size`` not a positive int or ``drop_last`` not a bool.
    """

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last, ValueError)
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        bs = self.batch_size
        if type(self.sampler) in _ARRAY_SAMPLERS:
            # Our own samplers: draw the whole pass as one array and slice it.
            idx = self.sampler._index_array()
            stop = len(idx) - len(idx) % bs if self.drop_last else len(idx)
            for start in range(0, stop, bs):
                yield idx[start:start + bs].tolist()
            return
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == bs:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# Samplers whose whole pass BatchSampler may draw at once with ``_index_array()`` (exact types:
# a subclass may override ``__iter__``).
_ARRAY_SAMPLERS = (SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler)


# --- collation --------------------------------------------------------------------------------

_COLLATE_TYPES_MSG = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                      "dicts or lists; found {}")


def _stack_tensors(batch):
    """Stack equal-shaped Tensors along a new dim 0 (tracked by autograd if one requires grad)."""
    first = tuple(batch[0].shape)
    for k, t in enumerate(batch):
        if tuple(t.shape) != first:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"but got {first} at entry 0 and {tuple(t.shape)} at entry {k}")
    if any(t.requires_grad for t in batch):
        from .. import ops  # tracked stack only when needed (lazy: ops imports much)
        return ops.stack(list(batch), 0)
    return Tensor(np.stack([t._data for t in batch]))


def _is_namedtuple(x):
    """True for instances of ``collections.namedtuple`` classes."""
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _as_mapping_like(like, items):
    """The dict ``items`` as the mapping type of ``like`` (an OrderedDict stays one), or the
    dict itself when that type cannot be built from a dict."""
    if type(like) is dict:
        return items
    try:
        return type(like)(items)
    except TypeError:
        return items


def default_collate(batch):
    """Merge a list of samples into a batch (``torch.utils.data.default_collate``).

    By the type of the first element:

    - :class:`Tensor` -> the tensors stacked along a new dimension 0 (equal shapes required);
    - ``numpy.ndarray`` -> stacked into a Tensor (dtype kept); NumPy scalars -> a 1-D Tensor of
      their dtype;
    - ``bool`` -> bool Tensor, ``int`` -> int64 Tensor, ``float`` -> Tensor of the default dtype
      (float32; PyTorch gives float64), each of shape (B,);
    - ``str`` / ``bytes`` -> the list unchanged;
    - mapping -> the same mapping type with each key's values collated;
    - namedtuple -> the same namedtuple of collated fields;
    - tuple or list -> a list with each position collated (PyTorch also turns tuples into
      lists), the elements must have equal lengths.

    Args:
        batch (sequence): the samples, at least one.

    Raises:
        RuntimeError: tensors or arrays of different shapes, or sequences of different lengths.
        TypeError: an element of an unsupported type (``None``, object arrays ...).
        ValueError: an empty batch.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(_COLLATE_TYPES_MSG.format(f"numpy array of dtype {elem.dtype}"))
        first = elem.shape
        for k, a in enumerate(batch):
            if np.shape(a) != first:
                raise RuntimeError("default_collate: stack expects each array to be equal "
                                   f"size, but got {first} at entry 0 and {np.shape(a)} at "
                                   f"entry {k}")
        return Tensor(np.stack(batch))
    if isinstance(elem, np.generic):
        if elem.dtype.kind in "OUSV":
            raise TypeError(_COLLATE_TYPES_MSG.format(f"numpy scalar of dtype {elem.dtype}"))
        return Tensor(np.array(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        from ..dtypes import get_default_dtype
        return Tensor(np.array(batch, dtype=get_default_dtype()))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _as_mapping_like(elem, {key: default_collate([d[key] for d in batch])
                                       for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               f"equal size (got lengths {[len(e) for e in batch]})")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(_COLLATE_TYPES_MSG.format(type(elem).__name__))


def default_convert(data):
    """Convert NumPy arrays in a sample to Tensors, leaving the rest
    (``torch.utils.data.default_convert``; used when ``batch_size=None``).

    ``numpy.ndarray`` -> Tensor (no copy); NumPy scalars -> 0-d Tensor; mappings, namedtuples,
    tuples and lists converted element by element; everything else unchanged.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OUSV" else Tensor(data)
    if isinstance(data, np.generic):
        return data if data.dtype.kind in "OUSV" else Tensor(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _as_mapping_like(data, {k: default_convert(v) for k, v in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data


# --- the loader (dataloader.py) and its worker processes (_worker.py) -------------------------
from .dataloader import DataLoader  # noqa: E402
from ._worker import WorkerInfo, get_worker_info  # noqa: E402
from .distributed import DistributedSampler  # noqa: E402,F401 (torch.utils.data.DistributedSampler)

"""Variable-length sequences (``torch.nn.utils.rnn``): :class:`PackedSequence`,
:func:`pad_sequence`, :func:`pack_padded_sequence`, :func:`pad_packed_sequence`,
:func:`pack_sequence`, :func:`unpad_sequence`, :func:`unpack_sequence`.

A packed batch stores only the valid time steps, time-major: for each step ``t`` the rows of
the sequences longer than ``t``, longest sequence first. ``batch_sizes[t]`` is how many
sequences are still running at step ``t``; ``sorted_indices``/``unsorted_indices`` map between
the caller's batch order and the decreasing-length order (``None`` when the caller's batch was
already sorted, ``enforce_sorted=True``). ``nn.RNN``/``nn.LSTM``/``nn.GRU`` accept a
``PackedSequence`` and return one.

Every function is differentiable with respect to the sequence data: packing and unpacking are
one gather each (an indexing op), padding is a ``cat``.
"""

from collections import namedtuple

import numpy as np

import autograd
from autograd import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


def invert_permutation(permutation):
    """The inverse of an int64 permutation Tensor (``None`` stays ``None``)."""
    if permutation is None:
        return None
    p = np.asarray(permutation._data, dtype=np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return Tensor._make(inv, False, None)


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch of variable-length sequences (``torch.nn.utils.rnn.PackedSequence``);
    build it with :func:`pack_padded_sequence` or :func:`pack_sequence`.

    Attributes:
        data (Tensor): ``(sum(lengths), *)`` the valid steps, time-major, longest first.
        batch_sizes (Tensor): int64 ``(max_length,)``: sequences still running at each step.
        sorted_indices (Tensor or None): int64 ``(B,)``: the caller's index of each sorted row.
        unsorted_indices (Tensor or None): its inverse.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required (build packed sequences "
                            "with pack_padded_sequence or pack_sequence)")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """A PackedSequence whose ``data`` is ``data.to(*args, **kwargs)`` (the index tensors
        are kept)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes,
                                                         self.sorted_indices,
                                                         self.unsorted_indices)

    def cpu(self):
        """This PackedSequence (the CPU is the only device)."""
        return self

    def double(self):
        """A copy whose ``data`` is float64 (the index tensors unchanged)."""
        return self.to(dtype=autograd.float64)

    def float(self):
        """A copy whose ``data`` is float32 (the index tensors unchanged)."""
        return self.to(dtype=autograd.float32)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        """Always ``False`` (no pinned memory on a CPU-only install)."""
        return False


def _lengths_array(lengths, fn):
    if isinstance(lengths, Tensor):
        arr = np.asarray(lengths._data)
    else:
        arr = np.asarray(lengths)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iuf"):
        raise ValueError(f"{fn}: lengths must be a 1-D sequence of ints, got "
                         f"{type(lengths).__name__} of shape {arr.shape}")
    return arr.astype(np.int64)


def _pack_index(batch_sizes, B):
    """Flat indices into a time-major ``(T, B)`` grid of the packed rows."""
    return np.concatenate([t * B + np.arange(n, dtype=np.int64)
                           for t, n in enumerate(batch_sizes)])


def _batch_sizes(sorted_lengths):
    T = int(sorted_lengths[0])
    return np.array([(sorted_lengths > t).sum() for t in range(T)], dtype=np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (``torch.nn.utils.rnn.pack_padded_sequence``).

    Args:
        input (Tensor): ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``.
        lengths (Tensor or list of ints): ``(B,)`` valid length of each sequence (``1..T``).
        batch_first (bool): the layout of ``input``.
        enforce_sorted (bool): require lengths in decreasing order (then ``sorted_indices`` is
            ``None``); with ``False`` the batch is sorted here (stable, longest first).

    Returns:
        PackedSequence with ``data`` of shape ``(sum(lengths), *)``.

    Raises:
        ValueError: lengths not 1-D, of the wrong count, or above ``T``.
        RuntimeError: a length ``<= 0``, or unsorted lengths with ``enforce_sorted`` (PyTorch's
            messages).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got "
                        f"{type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must have at least 2 dims (T, B, *), "
                         f"got shape {tuple(input.shape)}")
    lens = _lengths_array(lengths, "pack_padded_sequence")
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[0], input.shape[1]
    if lens.size != B:
        raise ValueError(f"pack_padded_sequence: Expected `len(lengths)` to be equal to "
                         f"batch_size, but got {lens.size} (batch_size={B})")
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lens.max() > T:
        raise ValueError(f"pack_padded_sequence: a length ({int(lens.max())}) exceeds the "
                         f"padded length {T}")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable").astype(np.int64)
        sorted_indices = Tensor._make(order, False, None)
        lens = lens[order]
        input = input.index_select(1, sorted_indices)
    bs = _batch_sizes(lens)
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat[Tensor._make(_pack_index(bs, B), False, None)]
    return PackedSequence(data, Tensor._make(bs, False, None), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a :class:`PackedSequence` into a padded batch
    (``torch.nn.utils.rnn.pad_packed_sequence``).

    Args:
        sequence (PackedSequence): the packed batch.
        batch_first (bool): return ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value (float): value of the padded positions.
        total_length (int, optional): pad to this length instead of the longest sequence.

    Returns:
        ``(padded, lengths)``: the batch in the caller's original order and an int64
        ``(B,)`` tensor of lengths.

    Raises:
        TypeError: ``sequence`` is not a PackedSequence.
        ValueError: ``total_length`` shorter than the longest sequence (PyTorch's message).
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got "
                        f"{type(sequence).__name__}")
    bs = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    T, B = bs.size, int(bs[0])
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {T}")
        T = int(total_length)
    data = sequence.data
    N = data.shape[0]
    inv = np.full(T * B, N, dtype=np.int64)       # N points at the padding row
    inv[_pack_index(bs, B)] = np.arange(N, dtype=np.int64)
    pad_row = autograd.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = autograd.cat([data, pad_row], 0)[Tensor._make(inv, False, None)]
    padded = padded.reshape((T, B) + tuple(data.shape[1:]))
    lengths = np.array([(bs > b).sum() for b in range(B)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._data]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._make(lengths, False, None)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length Tensors into a padded batch
    (``torch.nn.utils.rnn.pad_sequence``).

    Args:
        sequences (list of Tensors): each ``(L_i, *)`` with the same trailing dims and dtype.
        batch_first (bool): return ``(B, T, *)`` instead of ``(T, B, *)``, ``T = max L_i``.
        padding_value (float): value of the padded positions.
        padding_side (str): ``'right'`` (default) or ``'left'``.

    Raises:
        ValueError: a bad ``padding_side``; an empty list.
        RuntimeError: trailing dims that differ (naming the shapes).
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected a list of Tensors, element {i} is a "
                            f"{type(s).__name__}")
        if s.ndim < 1:
            raise RuntimeError(f"pad_sequence: element {i} is 0-dimensional; each sequence "
                               "needs a length dim")
    trailing = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: The size of tensor {i} {tuple(s.shape)} must "
                               f"match the trailing dims {trailing} of tensor 0")
    T = max(s.shape[0] for s in sequences)
    dtype = sequences[0].dtype
    cols = []
    for s in sequences:
        n = T - s.shape[0]
        if n:
            pad = autograd.full((n,) + trailing, padding_value, dtype=s.dtype)
            s = autograd.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        cols.append(s.to(dtype) if s.dtype != dtype else s)
    return autograd.stack(cols, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of Tensors ``(L_i, *)``
    (``torch.nn.utils.rnn.unpad_sequence``)."""
    lens = _lengths_array(lengths, "unpad_sequence")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of Tensors ``(L_i, *)`` (``torch.nn.utils.rnn.pack_sequence``):
    ``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=...)``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of Tensors a :class:`PackedSequence` holds, in the caller's original order
    (``torch.nn.utils.rnn.unpack_sequence``)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def _pack_like(padded, packed):
    """Pack ``padded`` ``(T, B, *)`` (the caller's batch order) with the batch sizes and
    sort order of ``packed`` (used by the recurrent layers for their output)."""
    if packed.sorted_indices is not None:
        padded = padded.index_select(1, packed.sorted_indices)
    bs = np.asarray(packed.batch_sizes._data, dtype=np.int64)
    T, B = padded.shape[0], padded.shape[1]
    flat = padded.reshape((T * B,) + tuple(padded.shape[2:]))
    data = flat[Tensor._make(_pack_index(bs, B), False, None)]
    return PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                          packed.unsorted_indices)

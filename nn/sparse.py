"""Lookup tables: ``Embedding``."""

import autograd
from autograd import Tensor, no_grad

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``
    (``torch.nn.Embedding``): integer indices in, their rows out.

    Args:
        num_embeddings (int): size of the table.
        embedding_dim (int): size of each vector.
        padding_idx (int, optional): this row is initialised to zeros and gets no gradient
            (negative values count from the end).
        max_norm (float, optional): rows looked up whose ``norm_type``-norm exceeds it are
            renormalised in place to that norm at each call.
        norm_type (float): the p of the p-norm for ``max_norm`` (default 2).
        scale_grad_by_freq (bool): divide gradients by the frequency of each index in the
            mini-batch.
        sparse (bool): accepted for compatibility; the gradient is always dense (tapegrad has
            no sparse tensors).
        _weight (Tensor, optional): an initial ``(num_embeddings, embedding_dim)`` table.
        _freeze (bool): the weight does not require grad.
        dtype: parameter dtype (default float32).

    Shape:
        input ``(*)`` int64/int32 -> output ``(*, embedding_dim)``.

    Attributes:
        weight (Parameter): ``(num_embeddings, embedding_dim)``, drawn from N(0, 1) (PyTorch's
            initialisation), the ``padding_idx`` row zero.

    Raises:
        ValueError: for a ``padding_idx`` outside the table or a ``_weight`` of another shape.
        IndexError (at call): for an index outside ``[0, num_embeddings)``.

    Example::

        >>> emb = nn.Embedding(10, 3)
        >>> emb(autograd.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
        (2, 4, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if padding_idx > 0 and padding_idx >= num_embeddings:
                raise ValueError("Embedding: padding_idx must be within num_embeddings "
                                 f"(got {padding_idx} for {num_embeddings})")
            if padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise ValueError("Embedding: padding_idx must be within num_embeddings "
                                     f"(got {padding_idx} for {num_embeddings})")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(autograd.empty(num_embeddings, embedding_dim, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: shape of _weight {tuple(_weight.shape)} does not "
                                 f"match (num_embeddings, embedding_dim) = "
                                 f"{(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Draw the table from N(0, 1) and zero the ``padding_idx`` row."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight._data[self.padding_idx] = 0
                self.weight._bump_version()

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                           self.norm_type, self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An ``Embedding`` whose table is ``embeddings`` (``(num_embeddings, embedding_dim)``,
        shared, not copied); ``freeze=True`` (default) makes it non-trainable
        (``torch.nn.Embedding.from_pretrained``).

        Raises:
            ValueError: if ``embeddings`` is not 2-D.
        """
        if not isinstance(embeddings, Tensor):
            embeddings = autograd.tensor(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                   _weight=embeddings, _freeze=freeze)

"""Fused array-level optimizer updates for ``optim`` (which sits above ``autograd`` and does not
import ``kernels`` itself): :func:`adam_step` and :func:`adam_step_applicable` from
:mod:`kernels.optim`, whose docstring has the formula, the rounding contract and the numbers."""

from kernels.optim import adam_step, adam_step_applicable

__all__ = ["adam_step", "adam_step_applicable"]

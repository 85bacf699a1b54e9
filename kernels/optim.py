"""Fused optimizer updates: one pass over each parameter instead of a dozen NumPy passes.

Pure array-in-place functions on ``numpy.ndarray`` (no Tensor, no graph); float32 and float64.
``optim.adam_update`` (Adam, AdamW) calls :func:`adam_step` when its arrays allow it (same
dtype, C-contiguous) and keeps its NumPy formulation otherwise; both give the same numbers.

The NumPy formulation of Adam makes about twelve passes over memory, each allocating a
temporary the size of the parameter (``(1 - beta1) * g``, ``g * g``, ``sqrt(v)``, ``m / denom``
...). Here each element is read once and written once: for 20 million float32 parameters
(an ``MLP 784-4096-4096-10``), measured on the 2-core machine, 170 ms against 12 ms (two
threads; 78 ms on one); for 1M, 4.7 ms against 0.5 ms; for 1,000 the same 0.02 ms.

Rounding follows the NumPy formulation operation by operation (the same products, sums and
their order, every constant rounded to the array's dtype first, no fused multiply-add), so the
fused step equals ``optim.adam_update``'s NumPy path bit for bit. The formula (in that
docstring) is PyTorch's ``torch.optim.Adam`` single-tensor algorithm (Kingma & Ba, 2015),
and AdamW's decoupled weight decay (Loshchilov & Hutter, 2019).

Loop nest: one loop over the flattened elements, compiled twice (:func:`kernels._twin.twins`);
the ``prange`` twin splits it over Numba's threads for parameters of at least
:data:`PARALLEL_MIN` elements (a ``prange`` launch costs microseconds, which a bias vector does
not repay). Elements are independent, so there are no races. The hyper-parameters are scalar
arguments: read from a small array instead, the loop did not vectorise (the array might alias
the stores) and ran 8x slower.
"""

import math

import numpy as np
from numba import njit, prange

from ._twin import twins, use_parallel

__all__ = ["adam_step", "adam_step_applicable", "PARALLEL_MIN"]

PARALLEL_MIN = 1 << 16


@njit(cache=True, inline="always")  # inlined by Numba: a call per element would cost ~50 ns
def _adam_element(p, g, m, v, vmax, i, sign, l2, decay, beta1, one_minus_beta1, beta2,
                  one_minus_beta2, bias2_sqrt, eps, step_size, amsgrad):
    # The constants are scalars of the array dtype, never an array: loads from an array that
    # might alias the stores made the loop ~8x slower.
    gi = g[i] * sign
    if l2 != 0:
        gi = gi + l2 * p[i]
    pi = p[i]
    if decay != 1:
        pi = pi * decay
    mi = m[i] * beta1
    mi = mi + one_minus_beta1 * gi
    vi = v[i] * beta2
    vi = vi + one_minus_beta2 * (gi * gi)
    m[i] = mi
    v[i] = vi
    if amsgrad:
        mx = vmax[i]
        if mx == mx and not vi <= mx:   # as np.maximum: a NaN on either side wins
            vmax[i] = vi
        vi = vmax[i]
    d = np.sqrt(vi) / bias2_sqrt
    d = d + eps
    p[i] = pi - step_size * (mi / d)


def _adam_loop(p, g, m, v, vmax, sign, l2, decay, beta1, one_minus_beta1, beta2,
               one_minus_beta2, bias2_sqrt, eps, step_size, amsgrad):
    for i in prange(p.size):
        _adam_element(p, g, m, v, vmax, i, sign, l2, decay, beta1, one_minus_beta1, beta2,
                      one_minus_beta2, bias2_sqrt, eps, step_size, amsgrad)


_ADAM = twins(_adam_loop)


def adam_step_applicable(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None):
    """True when :func:`adam_step` can update these arrays in place: float32 or float64, one
    dtype, one shape, the state arrays C-contiguous and writeable (``grad`` may be strided)."""
    dt = param.dtype
    if dt != np.float32 and dt != np.float64:
        return False
    arrays = [param, exp_avg, exp_avg_sq] + ([] if max_exp_avg_sq is None else [max_exp_avg_sq])
    for a in arrays + [grad]:
        if not isinstance(a, np.ndarray) or a.dtype != dt or a.shape != param.shape:
            return False
    return all(a.flags.c_contiguous and a.flags.writeable for a in arrays)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1, beta2, eps,
              weight_decay, amsgrad, maximize, decoupled=False, parallel=None):
    """One Adam (or, with ``decoupled=True``, AdamW) step in place, fused (see the module
    docstring for the formula and its source).

    Args:
        param, grad, exp_avg, exp_avg_sq: arrays of one shape and dtype (float32 or float64);
            ``param``, ``exp_avg``, ``exp_avg_sq`` are updated in place.
        max_exp_avg_sq: the amsgrad running maximum (updated in place), or ``None``.
        step (int): the step number ``t`` after this update (1 on the first).
        parallel (bool or None): force the ``prange`` or the serial loop; ``None`` picks by size.

    The caller checks the arguments (:func:`adam_step_applicable`); this function asserts.
    """
    assert adam_step_applicable(param, grad, exp_avg, exp_avg_sq,
                                max_exp_avg_sq if amsgrad else None)
    dt = param.dtype.type
    l2 = weight_decay if (weight_decay and not decoupled) else 0.0
    decay = 1 - lr * weight_decay if (weight_decay and decoupled) else 1.0
    bias1 = 1 - beta1 ** step
    bias2_sqrt = math.sqrt(1 - beta2 ** step)
    c = [dt(x) for x in (-1.0 if maximize else 1.0, l2, decay, beta1, 1 - beta1, beta2, 1 - beta2,
                         bias2_sqrt, eps, lr / bias1)]
    vmax = max_exp_avg_sq if amsgrad else exp_avg_sq
    g = grad if grad.flags.c_contiguous else np.ascontiguousarray(grad)
    flat = [a.reshape(-1) for a in (param, g, exp_avg, exp_avg_sq, vmax)]
    kernel = _ADAM.parallel if use_parallel(parallel, param.size, PARALLEL_MIN) else _ADAM.serial
    kernel(*flat, *c, bool(amsgrad))

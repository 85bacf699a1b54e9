"""``gradcheck`` and ``gradgradcheck``: compare autograd's gradients with finite differences.

Follows ``torch.autograd.gradcheck``'s contract: the numerical Jacobian is taken by central
differences ``(f(x + eps) - f(x - eps)) / (2 eps)`` in float64; the analytical Jacobian is
built row by row with vector-Jacobian products (one ``autograd.grad`` call per output element);
they must agree within ``|a - n| <= atol + rtol * |n|``. It also checks that every gradient has
its input's shape and dtype and that backward is reentrant (a second run gives the same
result). ``gradgradcheck`` applies the same test to the gradient function itself
(second derivatives; HIPS autograd's ``check_grads`` of order 2).
"""

import warnings

import numpy as np

from . import grad_mode
from .engine import grad as _grad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when the analytical and numerical gradients differ."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return [o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _numerical_jacobian(func, inputs, wrt, eps):
    """J[k][i] has shape (out_k.size, in_i.size)."""
    with grad_mode.no_grad():
        outs0 = _outputs(func, inputs)
    jac = [[np.zeros((o._data.size, inputs[i]._data.size)) for i in wrt] for o in outs0]
    for col, i in enumerate(wrt):
        x = inputs[i]._data
        flat = x.reshape(-1) if x.flags.c_contiguous else None
        if flat is None:
            raise GradcheckError(f"gradcheck: input {i} must be contiguous to be perturbed")
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            with grad_mode.no_grad():
                plus = [o._data.astype(np.float64).reshape(-1).copy()
                        for o in _outputs(func, inputs)]
            flat[j] = orig - eps
            with grad_mode.no_grad():
                minus = [o._data.astype(np.float64).reshape(-1).copy()
                         for o in _outputs(func, inputs)]
            flat[j] = orig
            for k in range(len(outs0)):
                jac[k][col][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _analytical_jacobian(func, inputs, wrt):
    outs = _outputs(func, inputs)
    tensors = [inputs[i] for i in wrt]
    jac = [[np.zeros((o._data.size, inputs[i]._data.size)) for i in wrt] for o in outs]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o._data.size):
            v = np.zeros(o.shape, dtype=o.dtype)
            v.reshape(-1)[r] = 1
            gs = _grad(o, tensors, Tensor(v), retain_graph=True, allow_unused=True)
            for col, (g, t) in enumerate(zip(gs, tensors)):
                if g is None:
                    continue
                if g.shape != t.shape:
                    raise GradcheckError(f"gradcheck: gradient for input {wrt[col]} has shape "
                                         f"{tuple(g.shape)}, expected {tuple(t.shape)}")
                if g.dtype != t.dtype:
                    raise GradcheckError(f"gradcheck: gradient for input {wrt[col]} has dtype "
                                         f"{g.dtype}, expected {t.dtype}")
                jac[k][col][r] = g._data.reshape(-1)
    return outs, jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              check_reentrant=True):
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    Args:
        func (callable): takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs (Tensor or tuple): the arguments; those with ``requires_grad=True`` are checked.
            They should be float64 (a warning is given otherwise) and contiguous.
        eps (float): finite-difference step.
        atol, rtol (float): tolerance ``|analytical - numerical| <= atol + rtol * |numerical|``.
        raise_exception (bool): raise :class:`GradcheckError` on failure instead of returning
            ``False``.
        check_reentrant (bool): also check that a second backward gives identical gradients.

    Returns:
        bool: ``True`` if every check passed.

    Raises:
        GradcheckError: with the output/input pair and both Jacobians, if a check fails and
            ``raise_exception`` is true.
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of "
                          "double precision floating point.", stacklevel=2)
    try:
        outs, analytical = _analytical_jacobian(func, inputs, wrt)
        numerical = _numerical_jacobian(func, inputs, wrt, eps)
        for k in range(len(outs)):
            for col, i in enumerate(wrt):
                a, n = analytical[k][col], numerical[k][col]
                if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                    raise GradcheckError(
                        f"Jacobian mismatch for output {k} with respect to input {i},\n"
                        f"numerical:{n}\nanalytical:{a}\n")
        if check_reentrant:
            _, again = _analytical_jacobian(func, inputs, wrt)
            for k in range(len(outs)):
                for col, i in enumerate(wrt):
                    if not np.array_equal(again[k][col], analytical[k][col], equal_nan=True):
                        raise GradcheckError(
                            f"Backward is not reentrant: output {k}, input {i} gave different "
                            "gradients on two runs")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """Check second derivatives: ``gradcheck`` of ``(inputs, v) -> vjp(func, inputs, v)``
    computed with ``create_graph=True`` (``torch.autograd.gradgradcheck``).

    Args:
        grad_outputs (Tensor or tuple, optional): the vectors ``v``; random float64 tensors
            requiring grad when omitted.

    Raises:
        GradcheckError: as :func:`gradcheck`.
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with grad_mode.enable_grad():
        outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape).astype(o.dtype),
                                    requires_grad=True) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_order(*args):
        # gradcheck evaluates this under no_grad for the finite differences; the first-order
        # gradient itself must still be computed, so grad mode is switched on inside.
        xs, vs = args[:n_in], args[n_in:]
        with grad_mode.enable_grad():
            ys = [o for o in _outputs(func, xs) if o.requires_grad]
            gs = _grad(ys, [xs[i] for i in wrt], list(vs[:len(ys)]), create_graph=True,
                       allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_order, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)

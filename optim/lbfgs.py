"""L-BFGS (``torch.optim.LBFGS``): limited-memory BFGS with an optional strong-Wolfe line search.

The algorithm is PyTorch's, step for step (which is that of Mark Schmidt's minFunc and Lua
torch's ``optim.lbfgs``), so that a run follows PyTorch's trajectory:

One ``step(closure)`` evaluates ``f`` and its gradient ``g`` at the current parameters ``x``
(returning early if ``max|g| <= tolerance_grad``), then repeats up to ``max_iter`` times:

1. Direction. On the very first iteration ``d = -g``. Afterwards, with ``s = t * d`` (the last
   step) and ``y = g - g_prev``, the pair ``(s, y)`` joins the history if ``y.s > 1e-10`` (the
   oldest pair leaves beyond ``history_size``) and the initial inverse Hessian becomes
   ``H0 = (y.s) / (y.y)``; ``d = -H g`` by the two-loop recursion (Nocedal & Wright, Numerical
   Optimization, 2nd ed., Algorithm 7.4)::

       q = -g
       for i = newest .. oldest:  a_i = rho_i * s_i.q ;  q -= a_i * y_i      (rho_i = 1 / y_i.s_i)
       r = H0 * q
       for i = oldest .. newest:  b_i = rho_i * y_i.r ;  r += (a_i - b_i) * s_i
       d = r

2. Step length. ``t = min(1, 1 / sum|g|) * lr`` on the very first iteration, else ``t = lr``.
   If the directional derivative ``g.d > -tolerance_change``, stop. With
   ``line_search_fn=None`` take ``x += t * d`` and re-evaluate ``f, g`` (except on the last
   iteration); with ``"strong_wolfe"`` search ``t`` satisfying the strong Wolfe conditions
   ``f(x + t d) <= f(x) + c1 t g.d`` and ``|g(x + t d).d| <= c2 |g.d|`` (``c1 = 1e-4``,
   ``c2 = 0.9``; bracketing then zooming with safeguarded cubic interpolation, within what is
   left of the step's ``max_eval`` evaluations, as PyTorch 2.x: Nocedal & Wright, Algorithms
   3.5 and 3.6), then ``x += t * d``. A search that runs out of evaluations keeps the best
   end of its bracket, which may be ``t = 0`` (no move).

3. Stop when ``max_iter`` iterations or ``max_eval`` evaluations are done, when
   ``max|g| <= tolerance_grad``, when ``max|t d| <= tolerance_change``, or when
   ``|f - f_prev| < tolerance_change``.

Vectors are flat NumPy arrays in the parameters' dtype; the scalars follow PyTorch's types (the
dot products stay in the parameters' dtype, losses are Python floats), and the three
``x + a * y`` updates round as PyTorch's fused kernel does (:func:`_axpy`), so that given the
same losses and gradients a float32 run follows PyTorch's bit for bit.
"""

import numpy as np

from autograd import Tensor, no_grad

from .optimizer import Optimizer

__all__ = ["LBFGS"]


def _axpy(x, a, y):
    """``x + a * y`` as PyTorch's ``x.add(y, alpha=a)`` computes it: ``a`` cast to ``x``'s
    dtype and, for float32, rounded once (its CPU kernel is a fused multiply-add; a float32
    product is exact in float64, so computing there and rounding back gives the same bits).
    Two roundings instead make float32 trajectories drift apart from PyTorch's within a few
    steps on ill-conditioned problems such as Rosenbrock's. float64 is fused through NumPy's
    ``longdouble`` (x86's 80-bit format) for vectors of up to 2**18 elements, where that costs
    4x a plain update; longer ones round twice (differences of one unit in the last place)."""
    if x.dtype == np.float32:
        wide = x.astype(np.float64) + np.float64(np.float32(a)) * y.astype(np.float64)
        return wide.astype(np.float32)
    if x.dtype == np.float64 and _LONG and x.size <= 1 << 18:
        wide = x.astype(np.longdouble) + np.longdouble(a) * y.astype(np.longdouble)
        return wide.astype(np.float64)
    return x + a * y


_LONG = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through ``(x1, f1)`` and ``(x2, f2)`` with slopes ``g1``,
    ``g2``, clamped to ``bounds`` (default: between ``x1`` and ``x2``); the bounds' midpoint
    when the cubic has no minimum (Nocedal & Wright, eq. 3.59)."""
    if bounds is None:
        lo, hi = (x1, x2) if x1 <= x2 else (x2, x1)
    else:
        lo, hi = bounds
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 ** 2 - g1 * g2
    if disc >= 0:
        d2 = np.sqrt(disc)
        if x1 <= x2:
            x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(x, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search along ``d`` from the point with value ``f``, gradient ``g`` and slope
    ``gtd = g.d``, starting at step ``t``; ``evaluate(t)`` returns ``(f, g)`` at ``x + t d``.

    Returns ``(f_new, g_new, t, evaluations)`` at the accepted step.
    """
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = np.dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    it = 0
    # bracketing: grow t until [t_prev, t] brackets an acceptable step (or t is acceptable)
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            bracket, bf, bg, bgtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev,
                                                                                    gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bf, bg = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bf, bg, bgtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev,
                                                                                    gtd_new]
            break
        lo, hi = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                          bounds=(lo, hi))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = np.dot(g_new, d)
        it += 1
    if it == max_ls:
        bracket, bf, bg = [0, t], [f, f_new], [g, g_new]
    # zoom: shrink the bracket around a step satisfying the strong Wolfe conditions
    insufficient = False
    low, high = (0, 1) if bf[0] <= bf[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1])
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            # too close to an end: after a second time in a row (or at an end), move inwards
            if insufficient or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = np.dot(g_new, d)
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= bf[low]:
            bracket[high], bf[high], bg[high], bgtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bf[high], bg[high], bgtd[high] = (bracket[low], bf[low], bg[low],
                                                                 bgtd[low])
            bracket[low], bf[low], bg[low], bgtd[low] = t, f_new, g_new, gtd_new
    return bf[low], bg[low], bracket[low], evals


class LBFGS(Optimizer):
    """L-BFGS (``torch.optim.LBFGS``); the algorithm is in the module docstring.

    ``step`` needs a closure that clears the gradients, computes the loss, calls
    ``backward()`` and returns the loss; it is called several times per step (always with grad
    enabled)::

        opt = optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe")
        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss
        opt.step(closure)

    Args:
        params: the parameters (one group only: no per-parameter options).
        lr (float): step scale (default 1).
        max_iter (int): iterations per ``step`` (default 20).
        max_eval (int): closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad (float): stop when ``max|grad| <= tolerance_grad`` (default 1e-7).
        tolerance_change (float): stop when the loss or the parameters change by less
            (default 1e-9).
        history_size (int): number of ``(s, y)`` pairs kept (default 100).
        line_search_fn (str or None): ``"strong_wolfe"`` or ``None`` (fixed step ``lr``).

    State (PyTorch's keys, held for the first parameter): ``func_evals``, ``n_iter``, ``d``,
    ``t``, ``old_dirs`` (the ``y``), ``old_stps`` (the ``s``), ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``al``. Memory: ``(2 * history_size + 3)`` copies of the
    flattened parameters.

    Raises:
        ValueError: for parameter groups, ``lr <= 0``, ``max_iter``, ``max_eval`` or
            ``history_size`` below 1, or a ``line_search_fn`` other than ``"strong_wolfe"``
            (PyTorch raises that last one as a ``RuntimeError`` at the first step).
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if not lr > 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        for name, v in (("max_iter", max_iter), ("max_eval", max_eval),
                        ("history_size", history_size)):
            if v < 1:
                raise ValueError(f"LBFGS: {name} must be at least 1, got {v}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: only 'strong_wolfe' is supported as line_search_fn, got "
                             f"{line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # --- the flat view of all parameters ----------------------------------------------------------
    def _flat_grad(self):
        parts = [p.grad._data.reshape(-1) if p.grad is not None else
                 np.zeros(p._data.size, dtype=p._data.dtype) for p in self._params]
        return np.concatenate(parts)

    def _add(self, t, d):
        """``x += t * d`` over the flattened parameters."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data[...] = _axpy(p._data, t, d[offset:offset + n].reshape(p._data.shape))
            p._bump_version()
            offset += n

    def _evaluate_at(self, closure, t, d):
        """Loss and flat gradient at ``x + t * d``; the parameters are restored afterwards."""
        saved = [p._data.copy() for p in self._params]
        self._add(t, d)
        loss = float(self._evaluate(closure))
        g = self._flat_grad()
        for p, x in zip(self._params, saved):
            p._data[...] = x
            p._bump_version()
        return loss, g

    # --- state (Tensors, as PyTorch keeps them, so state_dict / autograd.save work) -------------
    @staticmethod
    def _put(v):
        if isinstance(v, np.ndarray):
            return Tensor(v)
        if isinstance(v, np.generic):
            return Tensor(np.asarray(v))
        if isinstance(v, list):
            return [LBFGS._put(x) for x in v]
        return v

    @staticmethod
    def _get(v):
        if isinstance(v, Tensor):
            a = v._data
            return a[()] if a.ndim == 0 else a
        if isinstance(v, list):
            return [LBFGS._get(x) for x in v]
        return v

    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; returns the loss of the first evaluation
        (before this step's updates), as PyTorch. The optimizer's step pre- and post-hooks (when
        the base class has them) run around it.

        Raises:
            TypeError: without a closure.
        """
        if closure is None:
            raise TypeError("LBFGS.step() requires a closure that re-evaluates the model and "
                            "returns the loss")
        for hook in tuple(getattr(self, "_step_pre_hooks", {}).values()):
            r = hook(self, (closure,), {})
            if r is not None:
                (closure,), _ = r
        with no_grad():
            loss = self._step(closure)
        for hook in tuple(getattr(self, "_step_post_hooks", {}).values()):
            hook(self, (closure,), {})
        return loss

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history, line_search = group["history_size"], group["line_search_fn"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= tol_grad:
            return orig_loss

        d, t = self._get(state.get("d")), self._get(state.get("t"))
        old_dirs, old_stps = self._get(state.get("old_dirs")), self._get(state.get("old_stps"))
        ro, h_diag = self._get(state.get("ro")), self._get(state.get("H_diag"))
        g_prev, prev_loss = self._get(state.get("prev_flat_grad")), state.get("prev_loss")
        al = self._get(state.get("al"))

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # 1. direction
            if state["n_iter"] == 1:
                d = -g
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                y = g - g_prev
                s = d * t
                ys = np.dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / np.dot(y, y)
                if al is None:
                    al = [None] * history
                q = -g
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = np.dot(old_stps[i], q) * ro[i]
                    q = _axpy(q, -al[i], old_dirs[i])
                d = q * h_diag
                for i in range(len(old_dirs)):
                    beta = np.dot(old_dirs[i], d) * ro[i]
                    d = _axpy(d, al[i] - beta, old_stps[i])
            g_prev = g.copy()
            prev_loss = loss
            # 2. step length
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = np.dot(g, d)
            if gtd > -tol_change:
                break
            ls_evals = 0
            if line_search is not None:
                loss, g, t, ls_evals = _strong_wolfe(
                    lambda step: self._evaluate_at(closure, step, d), t, d, loss, g, gtd,
                    max_ls=max_eval - evals)
                self._add(t, d)
                converged = np.abs(g).max() <= tol_grad
            else:
                self._add(t, d)
                converged = False
                if n_iter != max_iter:  # (not re-evaluated after the last iteration)
                    loss = float(self._evaluate(closure))
                    g = self._flat_grad()
                    converged = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            # 3. stopping
            if n_iter == max_iter or evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=self._put(d), t=self._put(t), old_dirs=self._put(old_dirs),
                     old_stps=self._put(old_stps), ro=self._put(ro), H_diag=self._put(h_diag),
                     prev_flat_grad=self._put(g_prev), prev_loss=prev_loss)
        if al is not None:
            state["al"] = self._put(al)
        return orig_loss


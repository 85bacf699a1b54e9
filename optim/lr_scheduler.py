"""``optim.lr_scheduler``: learning-rate schedules with ``torch.optim.lr_scheduler``'s names,
arguments, defaults and numbers.

Every scheduler computes its rates the way PyTorch 2.x does, recursive form included (most
schedulers multiply the group's current ``lr`` by a factor at each ``step()``; the closed form
is used only when ``step(epoch)`` is given an epoch, a deprecated call), so a sequence of rates
matches PyTorch's to the last bit.

Usage, as in PyTorch::

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)             # calls opt.step()
        sched.step()

Differences from PyTorch: learning rates are Python floats (no Tensor ``lr``); PyTorch's warning
when ``scheduler.step()`` is called before ``optimizer.step()`` is not emitted (tapegrad does not
wrap ``optimizer.step``).
"""

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter

from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "ChainedScheduler",
           "SequentialLR", "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts",
           "OneCycleLR"]

_EPOCH_DEPRECATION = (
    "The epoch parameter in `scheduler.step()` is deprecated (as in PyTorch): call "
    "`scheduler.step()` without it. When an epoch is given, the closed form is used where "
    "the scheduler has one.")


def _per_group(name, optimizer, value):
    """``value`` as a list with one entry per parameter group (a list/tuple must already have
    one entry per group)."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has "
                             f"{len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)


def _group_lrs(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


def _scaled_lrs(optimizer, factor):
    """Every group's current ``lr`` times ``factor`` (the recursive form's usual step)."""
    return [group["lr"] * factor for group in optimizer.param_groups]


def _cosine_lrs(base_lrs, eta_min, t, period):
    """``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / period)) / 2`` for each base rate
    (SGDR's closed form)."""
    return [eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / period)) / 2
            for base_lr in base_lrs]


def _lambdas_per_group(optimizer, lr_lambda):
    """``lr_lambda`` as a list with one function per group (LambdaLR, MultiplicativeLR)."""
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got "
                             f"{len(lr_lambda)}")
        return list(lr_lambda)
    return [lr_lambda] * len(optimizer.param_groups)


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _set_momentum(group, momentum, use_beta1):
    """Write a cycled momentum into a group: ``betas[0]`` (Adam family) or ``momentum``."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _setup_cycle_momentum(optimizer, base_momentum, max_momentum, last_epoch):
    """Validate ``cycle_momentum`` for ``optimizer``, store ``max_momentum``/``base_momentum``
    in the groups (fresh start) and set the momentum to its maximum; returns
    ``(use_beta1, base_momentums, max_momentums)``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                         "option enabled")
    use_beta1 = "betas" in optimizer.defaults
    base_momentums = _per_group("base_momentum", optimizer, base_momentum)
    max_momentums = _per_group("max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m_max, m_base, group in zip(max_momentums, base_momentums, optimizer.param_groups):
            _set_momentum(group, m_max, use_beta1)
            group["max_momentum"] = m_max
            group["base_momentum"] = m_base
    return use_beta1, base_momentums, max_momentums


def _lambdas_state(lr_lambdas):
    """The state of callable objects among ``lr_lambdas`` (plain functions and lambdas: None)."""
    return [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
            for fn in lr_lambdas]


class LRScheduler:
    """Base class of learning-rate schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    Subclasses implement :meth:`get_lr` (the rates of the next step, usually from the groups'
    current ``lr``) and may implement ``_get_closed_form_lr`` (the rates at ``last_epoch``
    from ``base_lrs``, used by the deprecated ``step(epoch)``).

    On a fresh start (``last_epoch=-1``) each group gets ``'initial_lr'`` (its ``lr``, unless
    already there), and the constructor takes the first step, so ``last_epoch`` becomes 0 and the
    groups hold the rate of epoch 0.

    Args:
        optimizer (Optimizer): the optimizer whose groups' ``lr`` is scheduled.
        last_epoch (int): index of the last epoch (default -1: a fresh start). Another value
            resumes a schedule and needs ``'initial_lr'`` in every group.

    Attributes:
        optimizer, base_lrs (list of float: the groups' ``initial_lr``), last_epoch (int).

    Raises:
        TypeError: if ``optimizer`` is not an :class:`optim.Optimizer`.
        KeyError: if resuming (``last_epoch != -1``) and a group has no ``'initial_lr'``.
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming scheduler with last_epoch >= 0 (load the "
                                   f"optimizer's state dict, which holds it, first)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Reset the step count and take the constructor's first step."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self):
        """The scheduler's state: every attribute except the optimizer (as PyTorch)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore the state from :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    def _state_dict_with(self, key, saved):
        """:meth:`state_dict` with the attribute ``key`` stored as ``saved`` instead: what can
        be saved of it (LambdaLR's lambdas, a container's child schedulers)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", key)}
        state[key] = saved
        return state

    def _load_state_dict_but(self, state_dict, key):
        """Restore every attribute in ``state_dict`` except ``key``, and return what
        :meth:`_state_dict_with` saved under ``key``, for the caller to restore."""
        state = dict(state_dict)
        saved = state.pop(key)
        self.__dict__.update(state)
        return saved

    def get_last_lr(self):
        """The learning rates (one per group) set by the last :meth:`step`."""
        return self._last_lr

    def get_lr(self):
        """The learning rates of the step being taken (called by :meth:`step`; to read the
        current rates use :meth:`get_last_lr`)."""
        raise NotImplementedError

    def _warn_if_outside_step(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    def step(self, epoch=None):
        """Advance the schedule by one epoch (call it after ``optimizer.step()``).

        Args:
            epoch (int, optional): deprecated, as in PyTorch: jump to this epoch, using the
                closed form where the scheduler has one (with a ``UserWarning``).
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            compute = self.get_lr
        else:
            self.last_epoch = epoch
            compute = getattr(self, "_get_closed_form_lr", self.get_lr)
        self._write_lrs(compute)

    def _write_lrs(self, compute):
        """Set the groups' ``lr`` to ``compute()``, called as from within :meth:`step` (no
        warning), and record them for :meth:`get_last_lr`."""
        self._get_lr_called_within_step = True
        try:
            values = compute()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = _group_lrs(self.optimizer)


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)`` (``torch.optim.lr_scheduler.LambdaLR``).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (callable or list): a function of the epoch (int) giving a factor, or a list
            of such functions, one per group.
        last_epoch (int): index of the last epoch (default -1).

    ``state_dict`` stores the ``__dict__`` of callable objects among the lambdas (``None`` for
    plain functions), as PyTorch.

    Raises:
        ValueError: if a list of lambdas does not have one per group.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """The state, with the lambdas' own state (callable objects) instead of the lambdas."""
        return self._state_dict_with("lr_lambdas", _lambdas_state(self.lr_lambdas))

    def load_state_dict(self, state_dict):
        """Restore the state; callable-object lambdas get their saved ``__dict__`` back."""
        saved = self._load_state_dict_but(state_dict, "lr_lambdas")
        for fn, fn_state in zip(self.lr_lambdas, saved):
            if fn_state is not None:
                fn.__dict__.update(fn_state)

    def get_lr(self):
        """``base_lr * lr_lambda(last_epoch)`` for each group."""
        self._warn_if_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas,
                                                                      self.base_lrs)]


class MultiplicativeLR(LRScheduler):
    """``lr = lr * lr_lambda(epoch)`` at every step after the first
    (``torch.optim.lr_scheduler.MultiplicativeLR``).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (callable or list): a function of the epoch giving the factor, or one per
            group.
        last_epoch (int): index of the last epoch (default -1).

    Raises:
        ValueError: if a list of lambdas does not have one per group.
        TypeError: if a lambda is not callable.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict

    def get_lr(self):
        """``lr * lr_lambda(last_epoch)`` for each group (the rates unchanged at the start)."""
        self._warn_if_outside_step()
        if self._is_initial:
            return _group_lrs(self.optimizer)
        return [group["lr"] * fn(self.last_epoch)
                for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs
    (``torch.optim.lr_scheduler.StepLR``): ``lr = initial_lr * gamma ** (epoch // step_size)``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        step_size (int): period of the decay, in epochs.
        gamma (float): multiplicative factor (default 0.1).
        last_epoch (int): index of the last epoch (default -1).
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """``lr * gamma`` at multiples of ``step_size``, ``lr`` otherwise."""
        self._warn_if_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_lrs(self.optimizer)
        return _scaled_lrs(self.optimizer, self.gamma)

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch
    (``torch.optim.lr_scheduler.MultiStepLR``); a milestone listed ``k`` times multiplies by
    ``gamma ** k``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        milestones (iterable of int): epochs at which to decay.
        gamma (float): multiplicative factor (default 0.1).
        last_epoch (int): index of the last epoch (default -1).

    Attributes:
        milestones (collections.Counter): epoch -> multiplicity.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """The state as PyTorch's, except ``milestones`` is a plain dict (not a ``Counter``),
        so that :func:`autograd.save` can store it."""
        state = super().state_dict()
        state["milestones"] = dict(self.milestones)
        return state

    def load_state_dict(self, state_dict):
        """Restore the state (``milestones`` back to a ``Counter``; keys that became strings,
        e.g. through JSON, are turned back into ints)."""
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): v for k, v in dict(self.milestones).items()})

    def get_lr(self):
        """``lr * gamma ** count`` at a milestone, ``lr`` otherwise."""
        self._warn_if_outside_step()
        if self.last_epoch not in self.milestones:
            return _group_lrs(self.optimizer)
        factor = self.gamma ** self.milestones[self.last_epoch]
        return _scaled_lrs(self.optimizer, factor)

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiply the rate by ``factor`` until epoch ``total_iters``, then restore it
    (``torch.optim.lr_scheduler.ConstantLR``).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        factor (float): the factor, in [0, 1] (default 1/3).
        total_iters (int): number of epochs with the reduced rate (default 5).
        last_epoch (int): index of the last epoch (default -1).

    Raises:
        ValueError: if ``factor`` is outside [0, 1].
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """``lr * factor`` at epoch 0, ``lr / factor`` at ``total_iters``, ``lr`` otherwise."""
        self._warn_if_outside_step()
        if self.last_epoch == 0:
            return _scaled_lrs(self.optimizer, self.factor)
        if self.last_epoch != self.total_iters:
            return _group_lrs(self.optimizer)
        return _scaled_lrs(self.optimizer, 1.0 / self.factor)

    def _get_closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Change the rate's factor linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs (``torch.optim.lr_scheduler.LinearLR``)::

        lr = initial_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)

    (computed recursively, as PyTorch: each step multiplies ``lr`` by the ratio of consecutive
    factors).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        start_factor (float): factor at epoch 0, in (0, 1] (default 1/3).
        end_factor (float): factor from ``total_iters`` on, in [0, 1] (default 1.0).
        total_iters (int): length of the ramp in epochs (default 5).
        last_epoch (int): index of the last epoch (default -1).

    Raises:
        ValueError: if ``start_factor`` is outside (0, 1] or ``end_factor`` outside [0, 1].
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The group's ``lr`` times the ratio of this epoch's factor to the previous one."""
        self._warn_if_outside_step()
        if self.last_epoch == 0:
            return _scaled_lrs(self.optimizer, self.start_factor)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_lrs(self.optimizer)
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span)
        return _scaled_lrs(self.optimizer, ratio)

    def _get_closed_form_lr(self):
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch (``torch.optim.lr_scheduler.ExponentialLR``):
    ``lr = initial_lr * gamma ** epoch``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        gamma (float): multiplicative factor.
        last_epoch (int): index of the last epoch (default -1).
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """``lr * gamma`` (the rates unchanged at the start)."""
        self._warn_if_outside_step()
        if self._is_initial:
            return _group_lrs(self.optimizer)
        return _scaled_lrs(self.optimizer, self.gamma)

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the rate by a polynomial to 0 over ``total_iters`` epochs
    (``torch.optim.lr_scheduler.PolynomialLR``)::

        lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power

    Args:
        optimizer (Optimizer): wrapped optimizer.
        total_iters (int): epochs of decay (default 5).
        power (float): the polynomial's power (default 1.0).
        last_epoch (int): index of the last epoch (default -1).
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The group's ``lr`` times the ratio of consecutive decay factors."""
        self._warn_if_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_lrs(self.optimizer)
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return _scaled_lrs(self.optimizer, decay)

    def _get_closed_form_lr(self):
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``initial_lr`` to ``eta_min`` over ``T_max`` epochs
    (``torch.optim.lr_scheduler.CosineAnnealingLR``; the annealing part of SGDR: Loshchilov &
    Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017)::

        lr_t = eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    computed recursively, as PyTorch (so a rate changed by hand between steps is honoured):
    ``lr_t = (1 + cos(pi t / T_max)) / (1 + cos(pi (t - 1) / T_max)) * (lr_{t-1} - eta_min) +
    eta_min``; past ``T_max`` the cosine continues (the rate rises back, period ``2 T_max``).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_max (int): half-period in epochs.
        eta_min (float): minimum rate (default 0.0).
        last_epoch (int): index of the last epoch (default -1).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The next rate by PyTorch's recursive form."""
        self._warn_if_outside_step()
        if self._is_initial:
            return _group_lrs(self.optimizer)
        if self._step_count == 1 and self.last_epoch > 0:
            return _cosine_lrs(self.base_lrs, self.eta_min, self.last_epoch, self.T_max)
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max))
                    / 2 for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups)]
        ratio = ((1 + math.cos(math.pi * self.last_epoch / self.T_max))
                 / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)))
        return [ratio * (group["lr"] - self.eta_min) + self.eta_min
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return _cosine_lrs(self.base_lrs, self.eta_min, self.last_epoch, self.T_max)


class _Container(LRScheduler):
    """Shared by the schedulers that drive other schedulers (state dict of the children)."""

    @staticmethod
    def _check_children(owner, optimizer, schedulers):
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{owner} at index {i} should have `optimizer` as its "
                                f"attribute.")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it "
                                 f"requires additional kwargs to be specified when calling "
                                 f"`step`, but got one at index {i} in the given schedulers "
                                 f"sequence.")
            if optimizer is not scheduler.optimizer:
                raise ValueError(f"{owner} expects all schedulers to belong to the same "
                                 f"optimizer, but got scheduler {type(scheduler).__name__} at "
                                 f"index {i} has {scheduler.optimizer}, which is different "
                                 f"from {type(optimizer).__name__}.")

    def state_dict(self):
        """The state, with each child scheduler's ``state_dict`` under ``_schedulers``."""
        return self._state_dict_with("_schedulers", [s.state_dict() for s in self._schedulers])

    def load_state_dict(self, state_dict):
        """Restore the state and each child scheduler's."""
        children = self._load_state_dict_but(state_dict, "_schedulers")
        for scheduler, child_state in zip(self._schedulers, children):
            scheduler.load_state_dict(child_state)


class ChainedScheduler(_Container):
    """Step several schedulers together, each applying its change in turn
    (``torch.optim.lr_scheduler.ChainedScheduler``).

    Args:
        schedulers (sequence of LRScheduler): the chained schedulers (same optimizer).
        optimizer (Optimizer, optional): their optimizer (default: the first one's).

    Raises:
        ValueError: for an empty sequence, a ``ReduceLROnPlateau``, or schedulers of
            different optimizers.
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, "
                             "but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        self._check_children("ChainedScheduler", optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = _group_lrs(optimizer)

    def step(self):
        """Step every chained scheduler."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_lrs(self.optimizer)


class SequentialLR(_Container):
    """Run schedulers one after the other, switching at the milestone epochs
    (``torch.optim.lr_scheduler.SequentialLR``).

    At a milestone the next scheduler starts from epoch 0 (its closed form where it has one,
    as PyTorch's ``_update_lr(0)``); in between, the active scheduler's ``step()`` is called.
    Building it resets the groups' ``lr`` to ``initial_lr`` and rewinds the children by one
    epoch before the first scheduler takes its initial step.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        schedulers (list of LRScheduler): the schedulers (same optimizer).
        milestones (list of int): ``len(schedulers) - 1`` epochs at which to switch.
        last_epoch (int): index of the last epoch (default -1).

    Raises:
        ValueError: for no scheduler, a ``ReduceLROnPlateau``, schedulers of another optimizer,
            or a wrong number of milestones.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no "
                             "scheduler.")
        self._check_children("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to "
                             f"be one more than the number of milestone points, but got number "
                             f"of schedulers {len(schedulers)} and the number of milestones to "
                             f"be equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._rewind(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    @staticmethod
    def _rewind(scheduler):
        """Move ``last_epoch`` of every leaf scheduler under ``scheduler`` one epoch back."""
        if hasattr(scheduler, "_schedulers"):
            for child in scheduler._schedulers:
                SequentialLR._rewind(child)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self):
        """Step the active scheduler, or start the next one at a milestone."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ReduceLROnPlateau(LRScheduler):
    """Reduce the rate by ``factor`` when a metric has stopped improving
    (``torch.optim.lr_scheduler.ReduceLROnPlateau``).

    ``step(metrics)`` counts the epochs without improvement ("bad epochs"); after more than
    ``patience`` of them each group's ``lr`` becomes ``max(lr * factor, min_lr)`` (skipped when
    the change would be at most ``eps``), then ``cooldown`` epochs pass without counting.
    Improvement of ``a`` over ``best``: ``mode='min'``: ``a < best * (1 - threshold)`` (``rel``)
    or ``a < best - threshold`` (``abs``); ``mode='max'``: ``a > best * (1 + threshold)`` or
    ``a > best + threshold``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        mode (str): ``'min'`` or ``'max'`` (default ``'min'``).
        factor (float): multiplicative reduction, < 1 (default 0.1).
        patience (int): bad epochs tolerated before reducing (default 10).
        threshold (float): the least change counted as an improvement (default 1e-4).
        threshold_mode (str): ``'rel'`` or ``'abs'`` (default ``'rel'``).
        cooldown (int): epochs to wait after a reduction (default 0).
        min_lr (float or list): lower bound of the rate, or one per group (default 0).
        eps (float): smallest change of rate applied (default 1e-8).

    Raises:
        ValueError: for ``factor >= 1``, an unknown ``mode`` or ``threshold_mode``, or a
            ``min_lr`` list without one entry per group.
        TypeError: if ``optimizer`` is not an :class:`optim.Optimizer`.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got "
                                 f"{len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_lrs(optimizer)
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record one epoch's metric (a number or a one-element tensor) and reduce the rates
        if it has plateaued."""
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_lrs(self.optimizer)

    def _reduce_lr(self):
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` "
                    f"({len(self.optimizer.param_groups)}) differs from when "
                    f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due to "
                    f"a new param group being added to the optimizer. Please modify the "
                    f"`min_lrs` field to match the length of the `optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self):
        """Whether the scheduler is waiting after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in {"min", "max"}:
            raise ValueError("mode " + str(mode) + " is unknown!")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + str(threshold_mode) + " is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        """Restore the state (and the comparison it implies)."""
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


class CyclicLR(LRScheduler):
    """Cyclical learning rate between ``base_lr`` and ``max_lr``, stepped once per batch
    (``torch.optim.lr_scheduler.CyclicLR``; L. N. Smith, "Cyclical Learning Rates for Training
    Neural Networks", WACV 2017)::

        cycle = floor(1 + t / (up + down));  x = 1 + t / (up + down) - cycle
        s = x / r if x <= r else (x - 1) / (r - 1),   r = up / (up + down)
        lr = base_lr + (max_lr - base_lr) * s * scale

    with ``scale`` 1 (``triangular``), ``1 / 2**(cycle - 1)`` (``triangular2``) or
    ``gamma**t`` (``exp_range``), or ``scale_fn(cycle)`` / ``scale_fn(t)`` (``scale_mode``).
    With ``cycle_momentum`` the momentum (``momentum`` or ``betas[0]``) moves inversely,
    between ``max_momentum`` and ``base_momentum``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        base_lr (float or list): lower rate of the cycle (per group).
        max_lr (float or list): upper rate of the cycle (per group).
        step_size_up (int): iterations in the increasing half (default 2000).
        step_size_down (int, optional): iterations in the decreasing half (default: up).
        mode (str): ``'triangular'``, ``'triangular2'`` or ``'exp_range'``.
        gamma (float): the ``exp_range`` base (default 1.0).
        scale_fn (callable, optional): custom scale policy (overrides ``mode``).
        scale_mode (str): ``'cycle'`` or ``'iterations'``: the argument of ``scale_fn``.
        cycle_momentum (bool): cycle the momentum too (default True).
        base_momentum (float or list): lower momentum (default 0.8).
        max_momentum (float or list): upper momentum (default 0.9).
        last_epoch (int): index of the last batch (default -1).

    Raises:
        ValueError: for an unknown mode without ``scale_fn``, per-group lists of the wrong
            length, or ``cycle_momentum`` with an optimizer that has neither ``momentum`` nor
            ``betas``.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _setup_cycle_momentum(
                optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        """The built-in modes fix ``scale_mode`` (as PyTorch): per cycle for the triangular
        ones, per iteration for ``exp_range``."""
        if self._scale_fn_custom is not None:
            return
        if self.mode in ("triangular", "triangular2"):
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self.scale_mode = "iterations"

    def scale_fn(self, x):
        """The scale policy at ``x`` (the cycle number or the iteration)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        """The rates at iteration ``last_epoch`` (and the cycled momentum, written into the
        groups)."""
        self._warn_if_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, m_base, m_max in zip(self.optimizer.param_groups, self.base_momentums,
                                            self.max_momentums):
                _set_momentum(group, m_max - (m_max - m_base) * scale_factor * scale,
                              self.use_beta1)
        return lrs

    def state_dict(self):
        """The state; a custom ``scale_fn`` is stored as its ``__dict__`` when it is a callable
        object, as ``None`` when it is a function (as PyTorch)."""
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = (None if fn is None or isinstance(fn, types.FunctionType)
                                     else dict(fn.__dict__))
        return state

    def load_state_dict(self, state_dict):
        """Restore the state (the custom ``scale_fn`` itself is kept)."""
        state = dict(state_dict)
        fn_state = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if fn_state is not None:
            self._scale_fn_custom.__dict__.update(fn_state)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts
    (``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``; Loshchilov & Hutter, "SGDR:
    Stochastic Gradient Descent with Warm Restarts", ICLR 2017)::

        lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    ``T_cur`` counts epochs since the last restart; after ``T_i`` epochs it restarts at 0 and
    ``T_i`` is multiplied by ``T_mult``. ``step(epoch)`` accepts fractional epochs (e.g.
    ``epoch + i / iters``), as PyTorch.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_0 (int): epochs until the first restart (> 0).
        T_mult (int): factor of ``T_i`` after each restart (>= 1, default 1).
        eta_min (float): minimum rate (default 0.0).
        last_epoch (int): index of the last epoch (default -1).

    Raises:
        ValueError: for a non-positive or non-integer ``T_0``, a ``T_mult`` that is not an
            integer >= 1, a non-number ``eta_min``, or a negative epoch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type "
                             f"{type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The cosine rate at ``T_cur`` within the current period ``T_i``."""
        self._warn_if_outside_step()
        return _cosine_lrs(self.base_lrs, self.eta_min, self.T_cur, self.T_i)

    def step(self, epoch=None):
        """Advance by one epoch, or jump to ``epoch`` (a float is allowed).

        Raises:
            ValueError: if ``epoch`` is negative.
        """
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._write_lrs(self.get_lr)


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped once per batch (``torch.optim.lr_scheduler.OneCycleLR``;
    L. N. Smith & N. Topin, "Super-Convergence: Very Fast Training of Neural Networks Using
    Large Learning Rates", 2018).

    The rate goes from ``initial_lr = max_lr / div_factor`` up to ``max_lr`` over the first
    ``pct_start * total_steps`` steps, then down to ``min_lr = initial_lr / final_div_factor``
    (``three_phase``: back to ``initial_lr`` symmetrically first, then to ``min_lr``), each
    phase annealed by ``cos`` (``end + (start - end) / 2 * (1 + cos(pi * pct))``) or
    ``linear``. With ``cycle_momentum`` the momentum (``momentum`` or ``betas[0]``) moves
    inversely between ``max_momentum`` and ``base_momentum``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        max_lr (float or list): peak rate (per group).
        total_steps (int, optional): number of steps; else ``epochs * steps_per_epoch``.
        epochs (int, optional), steps_per_epoch (int, optional): see ``total_steps``.
        pct_start (float): fraction of the steps spent increasing (default 0.3).
        anneal_strategy (str): ``'cos'`` or ``'linear'`` (default ``'cos'``).
        cycle_momentum (bool): cycle the momentum (default True).
        base_momentum (float or list): lower momentum (default 0.85).
        max_momentum (float or list): upper momentum (default 0.95).
        div_factor (float): ``initial_lr = max_lr / div_factor`` (default 25).
        final_div_factor (float): ``min_lr = initial_lr / final_div_factor`` (default 1e4).
        three_phase (bool): use three phases (default False).
        last_epoch (int): index of the last batch (default -1).

    Raises:
        ValueError: for bad ``total_steps``/``epochs``/``steps_per_epoch``, a ``pct_start``
            outside [0, 1], an unknown ``anneal_strategy``, ``cycle_momentum`` with an optimizer
            without momentum or betas, or stepping past ``total_steps``.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got "
                                 f"{steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND "
                             "steps_per_epoch)")
        up_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            phases = [(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                      (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                       "max_momentum")]
        else:
            phases = [(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                       "max_momentum")]
        # the group keys each phase anneals between, as PyTorch's (so state dicts match)
        keys = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")
        self._schedule_phases = [dict(zip(keys, phase)) for phase in phases]
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for peak, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _setup_cycle_momentum(optimizer, base_momentum, max_momentum,
                                                   last_epoch)[0]
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        """The rates at step ``last_epoch`` (and the momentum, written into the groups).

        Raises:
            ValueError: past ``total_steps``.
        """
        self._warn_if_outside_step()
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"Tried to step {step_num} times. The specified number of total "
                             f"steps is {self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == last:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]],
                                            pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]],
                                                group[phase["end_momentum"]], pct)
                        _set_momentum(group, momentum, self.use_beta1)
                    break
                start_step = end_step
        return lrs

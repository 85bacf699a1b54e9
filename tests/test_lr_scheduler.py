"""optim.lr_scheduler: every scheduler's learning-rate (and momentum) sequence against
PyTorch's, state dicts, the deprecated ``step(epoch)`` and bad arguments."""

import copy
import math
import warnings

import numpy as np
import pytest

import autograd
import optim
from optim import lr_scheduler


def _optimizer(mod, lib, kind="sgd"):
    """Two parameter groups with different rates: SGD with momentum, Adam or Adagrad."""
    a = lib.tensor([1.0], requires_grad=True)
    b = lib.tensor([2.0], requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "sgd":
        return mod.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return mod.Adam(groups, lr=0.1)
    return mod.Adagrad(groups, lr=0.1)


def _momentum(group):
    return group["betas"][0] if "betas" in group else group.get("momentum", 0.0)


def _run(mod, lib, ls, make, kind="sgd", steps=100, metrics=None):
    """Rates (from ``get_last_lr`` and the groups) and momenta after construction and after
    each of ``steps`` scheduler steps."""
    opt = _optimizer(mod, lib, kind)
    sched = make(ls, opt)
    lrs, group_lrs, momenta = [], [], []

    def record():
        lrs.append(list(sched.get_last_lr()))
        group_lrs.append([g["lr"] for g in opt.param_groups])
        momenta.append([_momentum(g) for g in opt.param_groups])

    record()
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        record()
    return np.array(lrs), np.array(group_lrs), np.array(momenta), sched


def _compare(torch, make, kind="sgd", steps=100, metrics=None):
    ours = _run(optim, autograd, lr_scheduler, make, kind, steps, metrics)
    theirs = _run(torch.optim, torch, torch.optim.lr_scheduler, make, kind, steps, metrics)
    for mine, expected in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(mine, expected, rtol=0, atol=1e-12)
    return ours, theirs


SCHEDULERS = {
    "StepLR": lambda ls, o: ls.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-default-gamma": lambda ls, o: ls.StepLR(o, 3),
    "MultiStepLR": lambda ls, o: ls.MultiStepLR(o, milestones=[10, 30, 30, 75], gamma=0.3),
    "ExponentialLR": lambda ls, o: ls.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR-past-T_max": lambda ls, o: ls.CosineAnnealingLR(o, T_max=30,
                                                                        eta_min=0.001),
    "CosineAnnealingLR": lambda ls, o: ls.CosineAnnealingLR(o, T_max=100),
    "CosineAnnealingWarmRestarts-T_mult": lambda ls, o: ls.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-4),
    "CosineAnnealingWarmRestarts": lambda ls, o: ls.CosineAnnealingWarmRestarts(o, T_0=7),
    "LambdaLR": lambda ls, o: ls.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda ls, o: ls.LambdaLR(o, [lambda e: 1 / (e + 1),
                                                        lambda e: 0.9 ** (e // 3)]),
    "MultiplicativeLR": lambda ls, o: ls.MultiplicativeLR(o, lambda e: 0.98),
    "LinearLR": lambda ls, o: ls.LinearLR(o),
    "LinearLR-custom": lambda ls, o: ls.LinearLR(o, start_factor=0.1, end_factor=0.5,
                                                 total_iters=40),
    "ConstantLR": lambda ls, o: ls.ConstantLR(o),
    "ConstantLR-custom": lambda ls, o: ls.ConstantLR(o, factor=0.5, total_iters=20),
    "PolynomialLR": lambda ls, o: ls.PolynomialLR(o, total_iters=50, power=2.0),
    "OneCycleLR": lambda ls, o: ls.OneCycleLR(o, max_lr=1.0, total_steps=100),
    "OneCycleLR-linear-three-phase": lambda ls, o: ls.OneCycleLR(
        o, max_lr=[1.0, 0.3], epochs=10, steps_per_epoch=10, anneal_strategy="linear",
        three_phase=True, pct_start=0.25, base_momentum=0.8, max_momentum=[0.9, 0.99]),
    "OneCycleLR-no-momentum": lambda ls, o: ls.OneCycleLR(
        o, max_lr=0.5, total_steps=120, cycle_momentum=False, div_factor=10.0,
        final_div_factor=100.0),
    "CyclicLR-triangular": lambda ls, o: ls.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                     step_size_up=10),
    "CyclicLR-triangular2": lambda ls, o: ls.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                                      step_size_up=7, step_size_down=4,
                                                      mode="triangular2"),
    "CyclicLR-exp_range": lambda ls, o: ls.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                    step_size_up=6, mode="exp_range",
                                                    gamma=0.97, base_momentum=0.7),
    "CyclicLR-scale_fn": lambda ls, o: ls.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5,
                                                   scale_fn=lambda x: 1 / (1 + 0.1 * x),
                                                   scale_mode="iterations",
                                                   cycle_momentum=False),
    "SequentialLR-warmup-cosine": lambda ls, o: ls.SequentialLR(
        o, [ls.LinearLR(o, start_factor=0.1, total_iters=10), ls.CosineAnnealingLR(o, T_max=90)],
        milestones=[10]),
    "SequentialLR-three": lambda ls, o: ls.SequentialLR(
        o, [ls.ConstantLR(o, factor=0.5, total_iters=5), ls.ExponentialLR(o, gamma=0.9),
            ls.StepLR(o, step_size=5)], milestones=[20, 50]),
    "SequentialLR-lambda": lambda ls, o: ls.SequentialLR(
        o, [ls.LinearLR(o, start_factor=0.5, total_iters=4),
            ls.LambdaLR(o, lambda e: 1 / (1 + e))], milestones=[15]),
    "ChainedScheduler": lambda ls, o: ls.ChainedScheduler(
        [ls.ConstantLR(o, factor=0.1, total_iters=2), ls.ExponentialLR(o, gamma=0.9)]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_matches_pytorch(torch, name):
    ours, _ = _compare(torch, SCHEDULERS[name])
    lrs, group_lrs = ours[0], ours[1]
    np.testing.assert_array_equal(lrs, group_lrs)
    assert len(np.unique(lrs[:, 0])) > 1  # the schedule really changes the rate


@pytest.mark.parametrize("name", ["OneCycleLR", "OneCycleLR-linear-three-phase",
                                  "CyclicLR-triangular", "CyclicLR-exp_range"])
def test_cycled_betas_match_pytorch(torch, name):
    ours, _ = _compare(torch, SCHEDULERS[name], kind="adam")
    assert len(np.unique(ours[2][:, 0])) > 1  # beta1 really cycles


def test_one_cycle_lr_past_total_steps_raises(torch):
    for mod, lib, ls in ((optim, autograd, lr_scheduler), (torch.optim, torch,
                                                            torch.optim.lr_scheduler)):
        opt = _optimizer(mod, lib)
        sched = ls.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            sched.step()


PLATEAU = {
    "default": dict(),
    "patience-cooldown": dict(patience=3, cooldown=2, factor=0.5),
    "abs-threshold": dict(patience=2, threshold=0.05, threshold_mode="abs", min_lr=0.002),
    "max-rel": dict(mode="max", patience=1, threshold=0.01, min_lr=[0.01, 0.001]),
    "max-abs-eps": dict(mode="max", threshold_mode="abs", patience=0, factor=0.9, eps=5e-3),
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_pytorch(torch, name):
    rng = np.random.default_rng(3)
    t = np.arange(100)
    metrics = list(1.0 / (1.0 + 0.2 * t) + 0.05 * rng.standard_normal(100))
    cfg = PLATEAU[name]
    ours, theirs = _compare(torch, lambda ls, o: ls.ReduceLROnPlateau(o, **cfg),
                            metrics=metrics)
    assert len(np.unique(ours[0][:, 0])) > 1
    for attr in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(ours[3], attr) == getattr(theirs[3], attr), attr


def _saved(state, tmp_path):
    """``state`` after a round trip through ``autograd.save`` and ``autograd.load``."""
    path = tmp_path / "state.safetensors"
    autograd.save(state, path)
    return autograd.load(path)


def test_reduce_lr_on_plateau_state_dict_resumes(tmp_path):
    metrics = [1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.98, 0.97, 1.0, 1.1, 1.2, 1.3]

    def run(sched, values):
        out = []
        for m in values:
            sched.step(m)
            out.append(sched.get_last_lr())
        return out

    opt = _optimizer(optim, autograd)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    run(sched, metrics[:5])
    saved_opt = _saved(opt.state_dict(), tmp_path)
    saved = _saved(sched.state_dict(), tmp_path)
    expected = run(sched, metrics[5:])
    opt2 = _optimizer(optim, autograd)
    sched2 = lr_scheduler.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert run(sched2, metrics[5:]) == expected
    assert len({lr[0] for lr in expected}) > 1


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = _optimizer(optim, autograd)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(autograd.tensor(1.0))
    sched.step(autograd.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.05 * 0.1]


CLOSED_FORM = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR-custom",
               "ConstantLR-custom", "PolynomialLR", "LambdaLR"]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_epoch_uses_closed_form_like_pytorch(torch, name):
    epochs = [1, 2, 5, 12, 13, 40, 3, 0, 60]

    def run(mod, lib, ls):
        sched = SCHEDULERS[name](ls, _optimizer(mod, lib))
        out = []
        for e in epochs:
            sched.step(e)
            out.append(sched.get_last_lr())
        return np.array(out)

    with pytest.warns(UserWarning, match="deprecated"):
        ours = run(optim, autograd, lr_scheduler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = run(torch.optim, torch, torch.optim.lr_scheduler)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_warm_restarts_fractional_epochs_match_pytorch(torch):
    def run(mod, lib, ls):
        sched = ls.CosineAnnealingWarmRestarts(_optimizer(mod, lib), T_0=3, T_mult=2,
                                               eta_min=0.01)
        out = []
        for epoch in range(20):
            for i in range(4):
                sched.step(epoch + i / 4)
                out.append(sched.get_last_lr())
        return np.array(out)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = run(optim, autograd, lr_scheduler)
        theirs = run(torch.optim, torch, torch.optim.lr_scheduler)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_constructor_sets_initial_lr_and_takes_first_step():
    opt = _optimizer(optim, autograd)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert sched.base_lrs == [0.1, 0.05]
    assert sched.last_epoch == 0 and sched._step_count == 1
    assert sched.get_last_lr() == [0.1, 0.05]
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizer(optim, autograd), step_size=2, last_epoch=5)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_resume_with_last_epoch_matches_pytorch(torch):
    def run(mod, lib, ls):
        opt = _optimizer(mod, lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"] * 2
        sched = ls.CosineAnnealingLR(opt, T_max=20, last_epoch=4)
        out = [sched.get_last_lr()]
        for _ in range(30):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return np.array(out)

    np.testing.assert_allclose(run(optim, autograd, lr_scheduler),
                               run(torch.optim, torch, torch.optim.lr_scheduler),
                               rtol=0, atol=1e-12)


STATEFUL = ["StepLR", "MultiStepLR", "CosineAnnealingLR-past-T_max",
            "CosineAnnealingWarmRestarts-T_mult", "LambdaLR", "LinearLR-custom", "OneCycleLR",
            "CyclicLR-triangular2", "SequentialLR-warmup-cosine", "ChainedScheduler",
            "PolynomialLR", "ConstantLR-custom"]


@pytest.mark.parametrize("name", STATEFUL)
def test_state_dict_resumes_schedule(torch, name):
    make = SCHEDULERS[name]
    opt = _optimizer(optim, autograd)
    sched = make(lr_scheduler, opt)
    for _ in range(30):
        opt.step()
        sched.step()
    saved_opt = copy.deepcopy(opt.state_dict())
    saved = copy.deepcopy(sched.state_dict())
    expected = []
    for _ in range(40):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr() + [_momentum(g) for g in opt.param_groups])

    opt2 = _optimizer(optim, autograd)
    sched2 = make(lr_scheduler, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    got = []
    for _ in range(40):
        opt2.step()
        sched2.step()
        got.append(sched2.get_last_lr() + [_momentum(g) for g in opt2.param_groups])
    assert got == expected

    # the same keys as PyTorch's state dict
    topt = _optimizer(torch.optim, torch)
    assert set(saved) == set(make(torch.optim.lr_scheduler, topt).state_dict())


@pytest.mark.parametrize("name", STATEFUL)
def test_state_dict_survives_autograd_save(name, tmp_path):
    """A scheduler's state dict holds only what ``autograd.save`` stores (no pickle)."""
    opt = _optimizer(optim, autograd)
    sched = SCHEDULERS[name](lr_scheduler, opt)
    for _ in range(5):
        opt.step()
        sched.step()
    path = tmp_path / "sched.safetensors"
    autograd.save(sched.state_dict(), path)
    assert autograd.load(path) == sched.state_dict()


def test_multistep_state_dict_survives_string_keys():
    opt = _optimizer(optim, autograd)
    sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 4])
    state = sched.state_dict()
    state["milestones"] = {str(k): v for k, v in state["milestones"].items()}  # as from JSON
    sched2 = lr_scheduler.MultiStepLR(_optimizer(optim, autograd), milestones=[9])
    sched2.load_state_dict(state)
    for _ in range(4):
        sched2.step()
    assert sched2.get_last_lr() == pytest.approx([0.1 * 0.01, 0.05 * 0.01], rel=1e-12)


def test_lambda_state_dict_keeps_callable_object_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = _optimizer(optim, autograd)
    sched = lr_scheduler.LambdaLR(opt, [Decay(0.5), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    sched2 = lr_scheduler.LambdaLR(_optimizer(optim, autograd), [Decay(0.9), lambda e: 1.0])
    sched2.load_state_dict(state)
    sched2.step()
    assert sched2.get_last_lr()[0] == pytest.approx(0.05)


BAD_ARGUMENTS = {
    "ConstantLR-factor": lambda ls, o: ls.ConstantLR(o, factor=2.0),
    "LinearLR-start": lambda ls, o: ls.LinearLR(o, start_factor=0.0),
    "LinearLR-end": lambda ls, o: ls.LinearLR(o, end_factor=1.5),
    "LambdaLR-count": lambda ls, o: ls.LambdaLR(o, [lambda e: 1.0]),
    "Plateau-factor": lambda ls, o: ls.ReduceLROnPlateau(o, factor=1.0),
    "Plateau-mode": lambda ls, o: ls.ReduceLROnPlateau(o, mode="lowest"),
    "Plateau-threshold-mode": lambda ls, o: ls.ReduceLROnPlateau(o, threshold_mode="pct"),
    "Plateau-min-lr": lambda ls, o: ls.ReduceLROnPlateau(o, min_lr=[0.1]),
    "CyclicLR-mode": lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, mode="square"),
    "CyclicLR-max-lr-count": lambda ls, o: ls.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]),
    "OneCycleLR-total-steps": lambda ls, o: ls.OneCycleLR(o, 0.1, total_steps=0),
    "OneCycleLR-no-length": lambda ls, o: ls.OneCycleLR(o, 0.1),
    "OneCycleLR-epochs": lambda ls, o: ls.OneCycleLR(o, 0.1, epochs=-1, steps_per_epoch=2),
    "OneCycleLR-pct": lambda ls, o: ls.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    "OneCycleLR-anneal": lambda ls, o: ls.OneCycleLR(o, 0.1, total_steps=10,
                                                     anneal_strategy="cosine"),
    "WarmRestarts-T_0": lambda ls, o: ls.CosineAnnealingWarmRestarts(o, T_0=0),
    "WarmRestarts-T_mult": lambda ls, o: ls.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    "SequentialLR-milestones": lambda ls, o: ls.SequentialLR(
        o, [ls.StepLR(o, 2), ls.StepLR(o, 3)], milestones=[2, 4]),
    "SequentialLR-empty": lambda ls, o: ls.SequentialLR(o, [], milestones=[]),
    "SequentialLR-plateau": lambda ls, o: ls.SequentialLR(
        o, [ls.StepLR(o, 2), ls.ReduceLROnPlateau(o)], milestones=[2]),
    "ChainedScheduler-empty": lambda ls, o: ls.ChainedScheduler([]),
}


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_arguments_raise_like_pytorch(torch, name):
    with pytest.raises(ValueError) as ours:
        BAD_ARGUMENTS[name](lr_scheduler, _optimizer(optim, autograd))
    with pytest.raises(ValueError) as theirs:
        BAD_ARGUMENTS[name](torch.optim.lr_scheduler, _optimizer(torch.optim, torch))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("make", [
    lambda ls, o: ls.OneCycleLR(o, 0.1, total_steps=10),
    lambda ls, o: ls.CyclicLR(o, 0.01, 0.1)])
def test_cycle_momentum_needs_momentum_or_betas(torch, make):
    with pytest.raises(ValueError, match="momentum or beta1") as ours:
        make(lr_scheduler, _optimizer(optim, autograd, "adagrad"))
    with pytest.raises(ValueError) as theirs:
        make(torch.optim.lr_scheduler, _optimizer(torch.optim, torch, "adagrad"))
    assert str(ours.value) == str(theirs.value)


def test_cycle_momentum_off_works_without_momentum():
    opt = _optimizer(optim, autograd, "adagrad")
    sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10, cycle_momentum=False)
    sched.step()
    assert "momentum" not in opt.param_groups[0] and "betas" not in opt.param_groups[0]


def test_schedulers_drive_training():
    """A scheduler changes the rate the optimizer really uses."""
    w = autograd.tensor([1.0], dtype=autograd.float64, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    steps = []
    for _ in range(3):
        opt.zero_grad()
        w.sum().backward()  # gradient 1
        before = float(w._data[0])
        opt.step()
        steps.append(before - float(w._data[0]))
        sched.step()
    assert steps == [1.0, 0.5, 0.25]
    assert math.isclose(sched.get_last_lr()[0], 0.125)

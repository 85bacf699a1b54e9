"""The fused optimizer kernels (kernels/optim.py) against their NumPy formulation, bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels.optim import PARALLEL_MIN, adam_step, adam_step_applicable
from optim.adam import adam_update_numpy


def _state(rng, n, dtype, special=False):
    p = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    m = (rng.standard_normal(n) * 0.1).astype(dtype)
    v = (rng.random(n) * 0.01).astype(dtype)
    vmax = v * dtype(1.5)
    if special and n >= 4:
        g[0], v[1], vmax[2], p[3] = np.nan, np.inf, np.nan, -np.inf
    return p, g, m, v, vmax


@settings(max_examples=60, deadline=None)
@given(n=st.sampled_from([0, 1, 7, 1000, PARALLEL_MIN + 3]),
       dtype=st.sampled_from([np.float32, np.float64]),
       weight_decay=st.sampled_from([0.0, 1e-2]), decoupled=st.booleans(),
       amsgrad=st.booleans(), maximize=st.booleans(), step=st.integers(1, 50),
       special=st.booleans(), parallel=st.sampled_from([None, True, False]))
def test_adam_step_equals_numpy_formulation_bitwise(n, dtype, weight_decay, decoupled, amsgrad,
                                                    maximize, step, special, parallel):
    rng = np.random.default_rng(n + step)
    ref = _state(rng, n, dtype, special)
    got = [a.copy() for a in ref]
    kw = dict(lr=3e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay,
              amsgrad=amsgrad, maximize=maximize, decoupled=decoupled)
    with np.errstate(invalid="ignore"):      # the NaN/inf cases
        adam_update_numpy(*ref, step, **kw)
    adam_step(*got, step, parallel=parallel, **kw)
    for name, a, b in zip(("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), got, ref):
        np.testing.assert_array_equal(a, b, err_msg=name)
        assert a.dtype == dtype


def test_adam_step_takes_a_strided_grad_and_2d_parameters():
    rng = np.random.default_rng(0)
    p, g, m, v, vmax = (a.reshape(30, 40) for a in _state(rng, 1200, np.float32))
    g_t = np.ascontiguousarray(g.T).T          # same values, Fortran order
    assert adam_step_applicable(p, g_t, m, v)
    ref = [a.copy() for a in (p, g, m, v, vmax)]
    kw = dict(lr=1e-3, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.0, amsgrad=False,
              maximize=False)
    adam_update_numpy(*ref, 3, **kw)
    adam_step(p, g_t, m, v, vmax, 3, **kw)
    np.testing.assert_array_equal(p, ref[0])
    np.testing.assert_array_equal(v, ref[3])


@pytest.mark.parametrize("case", ["dtype_mix", "f16", "strided_state", "shape", "readonly"])
def test_adam_step_applicable_refuses_what_it_cannot_update_in_place(case):
    p, g, m, v = (np.ones((4, 6), np.float32) for _ in range(4))
    if case == "dtype_mix":
        g = g.astype(np.float64)
    elif case == "f16":
        p, g, m, v = (a.astype(np.float16) for a in (p, g, m, v))
    elif case == "strided_state":
        m = np.ones((6, 4), np.float32).T
    elif case == "shape":
        g = np.ones((24,), np.float32)
    else:
        m.flags.writeable = False
    assert not adam_step_applicable(p, g, m, v)


def test_optim_adam_runs_the_fused_kernel_and_falls_back(monkeypatch):
    import autograd
    import optim
    import optim.adam as adam_mod

    calls = []
    monkeypatch.setattr(adam_mod, "adam_step", lambda *a, **k: calls.append("fused"))
    monkeypatch.setattr(adam_mod, "adam_update_numpy", lambda *a, **k: calls.append("numpy"))
    w = autograd.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    h = autograd.tensor(np.ones(5, np.float16), requires_grad=True)
    opt = optim.Adam([w, h])
    (w.sum() + h.float().sum()).backward()
    opt.step()
    assert sorted(calls) == ["fused", "numpy"]

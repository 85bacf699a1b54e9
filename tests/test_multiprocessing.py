"""autograd.multiprocessing and shared-memory tensors: processes started with the 'spawn'
method update one tensor / one model's parameters in shared memory and the parent sees every
update (hogwild). Every child runs under a hard timeout."""

import pickle

import numpy as np
import pytest

import autograd
import autograd.multiprocessing as mp
import nn
import optim

TIMEOUT = 180


def _add_rank(rank, t, n):
    half = t[2 * rank:2 * rank + 2]      # a view: each child its own elements, so the two
    for _ in range(n):                   # read-modify-writes never race (they may overlap)
        half.add_(float(rank + 1))       # in place: lands in the shared memory


def _train_steps(rank, model, steps):
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        model(autograd.ones(1, 2)).sum().backward()   # d/dw = 1, d/db = 1
        opt.step()


def _from_queue(q, done):
    t = q.get(timeout=TIMEOUT)
    t.mul_(3.0)
    done.put(bool(t.is_shared()))


def _fails(rank):
    raise ValueError(f"child {rank} fails on purpose")


def _run(ctx, target, args_list):
    ps = [ctx.Process(target=target, args=args) for args in args_list]
    for p in ps:
        p.start()
    try:
        for p in ps:
            p.join(TIMEOUT)
        assert all(not p.is_alive() for p in ps), "a child did not finish within the timeout"
        assert [p.exitcode for p in ps] == [0] * len(ps)
    finally:
        for p in ps:
            if p.is_alive():
                p.terminate()
                p.join()


def test_share_memory_flags_and_plain_pickle_copies():
    t = autograd.arange(6.0).reshape(2, 3)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3))
    t.share_memory_()                                 # idempotent
    c = pickle.loads(pickle.dumps(t))                 # ordinary pickle: a copy
    c.add_(1)
    assert not c.is_shared() and t[0, 0].item() == 0.0
    m = nn.Linear(2, 1)
    assert m.share_memory() is m
    assert all(p.is_shared() for p in m.parameters())
    assert type(m.weight) is nn.Parameter and m.weight.requires_grad


def test_two_processes_add_to_one_shared_tensor():
    ctx = mp.get_context("spawn")
    t = autograd.zeros(4).share_memory_()
    _run(ctx, _add_rank, [(0, t, 5), (1, t, 5)])
    np.testing.assert_array_equal(t.numpy(), [5.0, 5.0, 10.0, 10.0])   # 5 * 1 | 5 * 2


def test_hogwild_model_parameters_are_trained_by_both_children():
    ctx = mp.get_context("spawn")
    mp.set_start_method("spawn", force=True)
    model = nn.Linear(2, 1)
    with autograd.no_grad():
        model.weight.fill_(0.0)
        model.bias.fill_(0.0)
    model.share_memory()
    _run(ctx, _train_steps, [(0, model, 3), (1, model, 4)])
    # 7 SGD steps of lr 0.1 on gradients of 1 in total
    np.testing.assert_allclose(model.weight.detach().numpy(), np.full((1, 2), -0.7), rtol=1e-6)
    np.testing.assert_allclose(model.bias.detach().numpy(), [-0.7], rtol=1e-6)


def test_queue_sends_shared_tensor_by_reference():
    ctx = mp.get_context("spawn")
    q, done = ctx.Queue(), ctx.Queue()
    t = autograd.ones(3).share_memory_()
    p = ctx.Process(target=_from_queue, args=(q, done))
    p.start()
    try:
        q.put(t)
        assert done.get(timeout=TIMEOUT) is True
        p.join(TIMEOUT)
        assert p.exitcode == 0
    finally:
        if p.is_alive():
            p.terminate()
            p.join()
    np.testing.assert_array_equal(t.numpy(), [3.0, 3.0, 3.0])


def test_spawn_reports_child_exception():
    with pytest.raises(mp.ProcessRaisedException, match="fails on purpose"):
        mp.spawn(_fails, nprocs=1)
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()

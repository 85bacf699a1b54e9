"""The engine semantics that real PyTorch programs lean on (issue: real programs run by renaming).

``Tensor.data`` as a detached Tensor, PyTorch's custom ``autograd.Function`` (ctx API, several
outputs, ``setup_context``, ``once_differentiable``), the graph as PyTorch shows it
(``next_functions``, ``AccumulateGrad``, node hooks), post-accumulate-grad hooks and queued
callbacks, thread-local grad mode and ``inference_mode``, NumPy's copy protocol and DLPack, and
short workflows in the style of public programs run on both libraries.
"""

import threading

import numpy as np
import pytest

import autograd
import nn
import optim
from autograd import Tensor


def f64(*shape, seed=0, requires_grad=True):
    rng = np.random.default_rng(seed)
    return Tensor(rng.standard_normal(shape), requires_grad=requires_grad)


# ---- Tensor.data ------------------------------------------------------------------------------
def test_data_is_a_detached_tensor_over_the_same_memory():
    p = nn.Parameter(autograd.zeros(3))
    d = p.data
    assert isinstance(d, Tensor) and not isinstance(d, nn.Parameter)
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[1] = 5.0
    assert p.detach().numpy()[1] == 5.0
    assert np.shares_memory(np.asarray(d), p.detach().numpy())


def test_inplace_through_data_is_not_seen_by_the_version_check():
    x = f64(3)
    y = x.exp()          # saves its output
    v = x._version
    x.data.mul_(2.0)     # PyTorch: allowed, invisible to autograd
    assert x._version == v
    y.sum().backward()   # uses the saved output: no error
    z = x.sigmoid()
    z.data.add_(1.0)     # changing a saved output through .data: also invisible
    z.sum().backward()


def test_detach_shares_the_version_counter_but_data_does_not():
    x = f64(3)
    y = x * 1.0
    s = y * y            # saves its inputs
    y.detach().add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def test_data_setter_swaps_the_memory_and_accepts_a_new_shape():
    p = nn.Parameter(autograd.zeros(2, 3))
    p.data = autograd.ones(4)
    assert p.shape == (4,) and p.requires_grad and float(p.sum()) == 4.0
    with pytest.raises(TypeError, match="must be a Tensor"):
        p.data = np.ones(4)


def test_data_idioms_of_public_programs_match_torch(torch):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    ours = nn.Linear(3, 4)
    theirs = torch.nn.Linear(3, 4)
    ours.weight.data.copy_(Tensor(w0))
    theirs.weight.data.copy_(torch.from_numpy(w0))
    ours.bias.data.fill_(0.5)
    theirs.bias.data.fill_(0.5)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    for _ in range(3):  # word_language_model's manual SGD
        lo = ours(Tensor(x)).pow(2).mean()
        lt = theirs(torch.from_numpy(x)).pow(2).mean()
        ours.zero_grad()
        theirs.zero_grad()
        lo.backward()
        lt.backward()
        for p in ours.parameters():
            p.data.add_(p.grad, alpha=-0.1)
        for p in theirs.parameters():
            p.data.add_(p.grad, alpha=-0.1)
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-5)
    np.testing.assert_allclose(ours.weight.data.norm().item(),
                               theirs.weight.data.norm().item(), rtol=1e-5)


# ---- custom autograd.Function -----------------------------------------------------------------
class Exp(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        assert isinstance(x, Tensor) and not autograd.is_grad_enabled()
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class ScaleShift(autograd.Function):
    """A non-tensor positional argument and an input that needs no gradient."""

    @staticmethod
    def forward(ctx, x, scale, shift):
        ctx.scale = scale
        ctx.seen = ctx.needs_input_grad
        return x * scale + shift

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None, grad if ctx.needs_input_grad[2] else None


class SortValues(autograd.Function):
    """Two outputs, one of them non-differentiable (indices)."""

    @staticmethod
    def forward(ctx, x):
        a = x.detach().numpy()  # x requires grad: .numpy() raises, as in PyTorch
        idx = np.argsort(a, axis=-1)
        idx_t = Tensor(idx)
        vals = Tensor(np.take_along_axis(a, idx, -1).copy())
        ctx.mark_non_differentiable(idx_t)
        ctx.save_for_backward(idx_t)
        return vals, idx_t

    @staticmethod
    def backward(ctx, g_vals, g_idx):
        idx, = ctx.saved_tensors
        out = np.zeros(g_vals.shape, dtype=g_vals.dtype)
        np.put_along_axis(out, idx.numpy(), g_vals.numpy(), -1)
        return Tensor(out)


class MulSetup(autograd.Function):
    """The PyTorch >= 2.0 form: forward without ctx, setup_context saves."""

    @staticmethod
    def forward(x, y):
        return x * y

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, y = inputs
        ctx.save_for_backward(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x


def test_custom_function_gradients_and_double_backward():
    x = f64(2, 3)
    assert autograd.gradcheck(Exp.apply, (x,))
    assert autograd.gradgradcheck(Exp.apply, (x,))  # saved output reconnects to the graph
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward" and y.requires_grad
    (acc, nr), = y.grad_fn.next_functions
    assert acc.variable is x and nr == 0
    a, b = f64(3, seed=1), f64(3, seed=2)
    assert autograd.gradcheck(MulSetup.apply, (a, b))
    assert autograd.gradgradcheck(MulSetup.apply, (a, b))


def test_custom_function_with_setup_context_works_in_autograd_functional():
    a, b = f64(3, seed=1, requires_grad=False), f64(3, seed=2, requires_grad=False)
    ja, jb = autograd.functional.jacobian(MulSetup.apply, (a, b))
    np.testing.assert_allclose(ja.numpy(), np.diag(b.numpy()))
    np.testing.assert_allclose(jb.numpy(), np.diag(a.numpy()))


def test_custom_function_non_tensor_args_and_needs_input_grad():
    x = f64(4)
    shift = f64(4, seed=3, requires_grad=False)
    y = ScaleShift.apply(x, 3.0, shift)
    assert y.grad_fn.seen == (True, False, False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3.0)
    s2 = f64(4, seed=4)
    ScaleShift.apply(x, 2.0, s2).sum().backward()
    np.testing.assert_allclose(s2.grad.numpy(), 1.0)


def test_custom_function_several_outputs_and_non_differentiable():
    x = f64(2, 5)
    vals, idx = SortValues.apply(x)
    assert vals.requires_grad and not idx.requires_grad and idx.dtype == np.int64
    w = Tensor(np.arange(5.0))
    (vals * w).sum().backward()
    ref = np.zeros((2, 5))
    np.put_along_axis(ref, idx.numpy(), np.broadcast_to(np.arange(5.0), (2, 5)), -1)
    np.testing.assert_allclose(x.grad.numpy(), ref)


def test_custom_function_materialize_grads():
    seen = []

    class Two(autograd.Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append(gb)
            total = ga * 2
            return (total if gb is None else total + gb * 3), None

    x = f64(3)
    a, _ = Two.apply(x, True)
    a.sum().backward()
    assert isinstance(seen[-1], Tensor) and not seen[-1].numpy().any()
    x.grad = None
    a, _ = Two.apply(x, False)
    a.sum().backward()
    assert seen[-1] is None
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


def test_custom_function_mark_dirty_rebases_the_input():
    class AddOne_(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = f64(3)
    b = a * 2
    v = b._version
    c = AddOne_.apply(b)
    assert c is b and b._version > v and b.grad_fn.name() == "AddOne_Backward"
    (c * c).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * 2 * (2 * a.detach().numpy() + 1))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        AddOne_.apply(f64(2))


def test_custom_function_returning_an_input_unchanged_keeps_its_history():
    class Ident(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = f64(3)
    y = Ident.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn.name() == "IdentBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


def test_once_differentiable_runs_and_refuses_double_backward():
    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @autograd.function.once_differentiable
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            assert not autograd.is_grad_enabled()
            return grad * 3 * x ** 2

    x = f64(3)
    g, = autograd.grad(Cube.apply(x).sum(), x)
    np.testing.assert_allclose(g.numpy(), 3 * x.detach().numpy() ** 2)
    # As in PyTorch, the result requires grad (and so can be misused) only when the incoming
    # gradient does.
    v = Tensor(np.ones(3), requires_grad=True)
    g, = autograd.grad(Cube.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_custom_function_errors():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(f64(2), f64(2, seed=1)).sum().backward()
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        Exp()(f64(2))
    with pytest.raises(TypeError, match="save_for_backward can only save"):
        class SaveNumber(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x * 1

        SaveNumber.apply(f64(2))


def _legendre_p3(Function):
    """The tutorials' P3 activation, ``0.5 (5 x^3 - 3 x)``, as a custom ``Function`` of the
    library whose ``Function`` base class is given."""

    class LegendreP3(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 1.5 * (5 * x ** 2 - 1)

    return LegendreP3


def _fit_legendre_p3(lib, steps=50):
    """``steps`` SGD steps of ``a + b P3(c + d x)`` on ``sin`` in ``lib`` (tapegrad's
    ``autograd`` or ``torch``); the loss of every step."""
    P3 = _legendre_p3(lib.autograd.Function)
    xs = lib.from_numpy(np.linspace(-np.pi, np.pi, 200))
    ys = lib.from_numpy(np.sin(np.linspace(-np.pi, np.pi, 200)))
    params = [lib.tensor(v, dtype=lib.float64, requires_grad=True)
              for v in [0.0, -1.0, 0.0, 0.3]]
    losses = []
    for _ in range(steps):
        a, b, c, d = params
        loss = ((a + b * P3.apply(c + d * xs)) - ys).pow(2).sum()
        loss.backward()
        losses.append(loss.item())
        with lib.no_grad():
            for p in params:
                p -= 5e-6 * p.grad
                p.grad = None
    return losses


def test_custom_function_matches_torch_in_a_two_layer_net(torch):
    """The tutorials' "polynomial_custom_function" style: a custom activation in a net."""
    ours, theirs = _fit_legendre_p3(autograd), _fit_legendre_p3(torch)
    assert len(ours) == len(theirs) == 50
    for lo, lt in zip(ours, theirs):
        np.testing.assert_allclose(lo, lt, rtol=1e-6)


# ---- the graph as PyTorch shows it -------------------------------------------------------------
def test_next_functions_and_accumulate_grad(torch):
    x = f64(3)
    c = f64(3, requires_grad=False)
    y = (x * c).sum()
    mul, nr = y.grad_fn.next_functions[0]
    assert y.grad_fn.name() == "SumBackward0" and mul.name() == "MulBackward0" and nr == 0
    (acc, _), none = mul.next_functions
    assert isinstance(acc, autograd.graph.AccumulateGrad) and acc.variable is x
    assert none == (None, 0)
    assert mul.next_functions[0][0] is acc  # one node per leaf
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.next_functions == ()
    assert isinstance(mul, autograd.graph.Node)
    tx = torch.ones(3, requires_grad=True)
    ty = (tx * torch.ones(3)).sum()
    assert ty.grad_fn.next_functions[0][0].next_functions[1] == (None, 0)
    assert type(ty.grad_fn.next_functions[0][0].next_functions[0][0]).__name__ == "AccumulateGrad"


def test_node_hooks_prehooks_and_metadata():
    x = f64(3)
    y = x * 2
    z = y.sum()
    calls = []
    h1 = y.grad_fn.register_prehook(lambda go: calls.append("pre") or (go[0] * 10,))
    h2 = y.grad_fn.register_hook(lambda gi, go: calls.append("post") or None)
    y.grad_fn.metadata["name"] = "double"
    z.backward(retain_graph=True)
    assert calls == ["pre", "post"] and y.grad_fn.metadata == {"name": "double"}
    np.testing.assert_allclose(x.grad.numpy(), 20.0)
    h1.remove()
    h2.remove()
    x.grad = None
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0)
    assert calls == ["pre", "post"]


def test_accumulate_grad_node_hooks_horovod_style():
    p = nn.Parameter(autograd.ones(3))
    acc = p.expand_as(p).grad_fn.next_functions[0][0]
    assert acc.variable is p
    seen = []
    handle = acc.register_hook(lambda *args: seen.append(p.grad.numpy().copy()))
    (p * 3).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 3.0)
    handle.remove()
    (p * 3).sum().backward()
    assert len(seen) == 1


def test_post_accumulate_grad_hook_fires_when_the_leaf_is_complete():
    """A leaf used early in the forward is complete before the nodes near the inputs run: the
    hook must fire then, not after the whole walk (DDP starts its all-reduce there)."""
    events = []
    w_late = nn.Parameter(autograd.ones(3))
    w_early = nn.Parameter(autograd.ones(3))

    class Probe(autograd.Function):  # marks when the walk reaches the graph's start
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            events.append("input-side node")
            return grad

    x = Probe.apply(f64(3))
    h = x * w_early
    out = (h.tanh() * w_late).sum()
    w_late.register_post_accumulate_grad_hook(lambda t: events.append(("late", t is w_late)))
    w_early.register_post_accumulate_grad_hook(lambda t: events.append("early"))
    out.backward()
    assert events == [("late", True), "early", "input-side node"]
    assert w_late.grad is not None and w_early.grad is not None
    with pytest.raises(RuntimeError, match="non-leaf"):
        h.register_post_accumulate_grad_hook(lambda t: None)


def test_leaf_roots_and_unhooked_leaves_while_some_leaf_has_hooks():
    hooked = nn.Parameter(autograd.ones(2))
    fired = []
    hooked.register_post_accumulate_grad_hook(lambda t: fired.append(t.grad.numpy().copy()))
    plain = f64(3)
    plain.backward(Tensor(np.ones(3)))  # a leaf root that is not hooked
    np.testing.assert_allclose(plain.grad.numpy(), 1.0)
    hooked.backward(Tensor(np.full(2, 2.0, dtype=np.float32)))  # a hooked leaf as the root
    (hooked * plain[:2].float()).sum().backward()
    assert len(fired) == 2
    np.testing.assert_allclose(fired[1], 2.0 + plain.detach().numpy()[:2], rtol=1e-6)


def test_removed_leaf_hooks_stop_the_edge_count():
    p = nn.Parameter(autograd.ones(2))
    handle = p.register_post_accumulate_grad_hook(lambda t: None)
    assert autograd.graph.any_hooked()
    handle.remove()
    (p * 2).sum().backward()
    assert id(p) not in autograd.graph._hooked


def test_post_accumulate_grad_hook_optimizer_in_backward():
    """PyTorch's "optimizer step in backward" recipe."""
    model = nn.Linear(3, 2)
    opts = {p: optim.SGD([p], lr=0.1) for p in model.parameters()}

    def step(p):
        opts[p].step()
        opts[p].zero_grad()

    for p in model.parameters():
        p.register_post_accumulate_grad_hook(step)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    x = f64(4, 3, requires_grad=False).float()
    model(x).sum().backward()
    after = [p.detach().numpy() for p in model.parameters()]
    assert all(not np.allclose(a, b) for a, b in zip(before, after))
    assert all(p.grad is None for p in model.parameters())


def test_queue_callback_runs_at_the_end_of_backward():
    events = []
    x = f64(3)

    def hook(g):
        autograd.Variable._execution_engine.queue_callback(lambda: events.append("callback"))
        events.append("hook")

    y = x * 2
    y.register_hook(hook)
    x.register_hook(lambda g: events.append("leaf"))
    y.sum().backward()
    assert events == ["hook", "leaf", "callback"]
    with pytest.raises(RuntimeError, match="during backward"):
        autograd.Variable._execution_engine.queue_callback(lambda: None)


def test_variable_alias():
    t = autograd.ones(2)
    v = autograd.Variable(t, requires_grad=True)
    assert v is t and t.requires_grad and isinstance(t, autograd.autograd.Variable)


# ---- grad mode: thread-local, inference_mode ----------------------------------------------------
_init_lock = threading.Lock()  # the default generator is process-wide (as PyTorch's)


def _train(seed, steps, out, key, barrier=None):
    with _init_lock:
        autograd.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    rng = np.random.default_rng(seed)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = Tensor(rng.standard_normal((32, 4)).astype(np.float32))
    y = Tensor(rng.standard_normal((32, 1)).astype(np.float32))
    losses = []
    for _ in range(steps):
        if barrier is not None:
            barrier.wait()
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out[key] = (losses, [p.detach().numpy().copy() for p in model.parameters()])


def test_two_threads_training_concurrently_equal_sequential():
    seq = {}
    _train(1, 60, seq, "a")
    _train(2, 60, seq, "b")
    conc = {}
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_train, args=(s, 60, conc, k, barrier))
               for s, k in ((1, "a"), (2, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for k in "ab":
        assert conc[k][0] == seq[k][0]
        for p, q in zip(conc[k][1], seq[k][1]):
            np.testing.assert_array_equal(p, q)


def test_no_grad_in_one_thread_leaves_another_recording():
    entered, release = threading.Event(), threading.Event()
    result = {}

    def evaluator():
        with autograd.no_grad():
            entered.set()
            release.wait(30)
            result["eval"] = (f64(2) * 2).requires_grad

    t = threading.Thread(target=evaluator)
    t.start()
    entered.wait(30)
    try:
        assert autograd.is_grad_enabled()
        y = f64(2) * 2
        assert y.requires_grad
        y.sum().backward()
    finally:
        release.set()
        t.join(30)
    assert result["eval"] is False


def test_new_threads_start_with_grad_enabled():
    result = {}
    with autograd.no_grad():
        t = threading.Thread(target=lambda: result.setdefault("on", autograd.is_grad_enabled()))
        t.start()
        t.join(30)
    assert result["on"] is True


def test_grad_mode_holds_across_a_thread_pool_and_asyncio_tasks():
    # A pool's worker threads start with grad mode on whatever the submitting thread set, and
    # a no_grad block inside one asyncio task leaves the task running beside it recording.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with autograd.no_grad():
        with ThreadPoolExecutor(2) as pool:
            assert all(pool.map(lambda _: (f64(2) * 2).requires_grad, range(4)))
    seen = {}

    async def quiet():
        with autograd.no_grad():
            await asyncio.sleep(0.01)
            seen["quiet"] = (f64(2) * 2).requires_grad

    async def loud():
        await asyncio.sleep(0.005)   # runs while `quiet` sits inside its no_grad block
        seen["loud"] = (f64(2) * 2).requires_grad

    async def both():
        await asyncio.gather(quiet(), loud())

    asyncio.run(both())
    assert seen == {"quiet": False, "loud": True}
    assert autograd.is_grad_enabled()


def test_inference_mode():
    x = f64(3)
    with autograd.inference_mode():
        assert autograd.is_inference_mode_enabled() and not autograd.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not autograd.is_inference_mode_enabled() and autograd.is_grad_enabled()
    with autograd.inference_mode(False):
        assert (x * 2).requires_grad

    @autograd.inference_mode()
    def f(t):
        return t * 2

    @autograd.inference_mode
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad


# ---- NumPy interop ------------------------------------------------------------------------------
def test_numpy_copy_protocol():
    t = autograd.zeros(3)
    snap = np.array(t)
    snap2 = np.copy(t)
    shared = np.asarray(t)
    t.add_(1.0)
    assert not snap.any() and not snap2.any() and (shared == 1).all()
    assert np.array(t, copy=False) is not None
    with pytest.raises(ValueError, match="copy"):
        np.array(t, dtype=np.float64, copy=False)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(f64(2))
    with pytest.raises(RuntimeError, match="requires grad"):
        f64(2).numpy()


def test_dlpack_shares_memory(torch):
    t = autograd.arange(6).float()
    a = np.from_dlpack(t)
    a[0] = 42
    assert t[0].item() == 42
    tt = torch.from_dlpack(t)
    tt[1] = 7
    assert t[1].item() == 7
    with pytest.raises(RuntimeError, match="require gradient"):
        np.from_dlpack(f64(2))


# ---- torch.nn.modules' layout ---------------------------------------------------------------------
def test_nn_modules_layout_names_the_same_classes():
    import nn.modules.rnn  # noqa: F401 - importable as a module path, too
    from nn.modules.loss import CrossEntropyLoss

    assert CrossEntropyLoss is nn.CrossEntropyLoss
    assert nn.modules.rnn.LSTM is nn.LSTM
    assert nn.modules.activation.MultiheadAttention is nn.MultiheadAttention
    assert nn.modules.sparse.Embedding is nn.Embedding
    assert nn.modules.Linear is nn.Linear
    mha = nn.MultiheadAttention(8, 2)
    assert type(mha.out_proj) is nn.modules.linear.NonDynamicallyQuantizableLinear
    assert isinstance(mha.out_proj, nn.Linear)


def test_nn_modules_submodules_match_pytorch(torch):
    for name in nn.modules._LAYOUT:
        theirs = getattr(torch.nn.modules, name)
        for cls in getattr(nn.modules, name).__all__:
            if cls[0].isupper():
                assert hasattr(theirs, cls), f"torch.nn.modules.{name} has no {cls}"


def test_whole_model_loads_with_pytorch_module_paths_in_safe_globals(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 8)
            self.attn = nn.MultiheadAttention(8, 2)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            h = self.emb(x)
            return self.drop(self.attn(h, h, h)[0])

    globals()["_SafeNet"] = Net
    Net.__qualname__ = "_SafeNet"
    model = Net()
    path = tmp_path / "model.pt"
    autograd.save(model, path)
    allowed = [Net, nn.modules.sparse.Embedding, nn.modules.activation.MultiheadAttention,
               nn.modules.linear.NonDynamicallyQuantizableLinear, nn.modules.dropout.Dropout]
    with autograd.serialization.safe_globals(allowed):
        loaded = autograd.load(path)
    x = autograd.tensor([[1, 2], [3, 4]])
    loaded.eval(), model.eval()
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
def test_elu_family_gradient_is_nan_at_nan_and_pytorchs_elsewhere(torch, name):
    """PyTorch's ELU backward at NaN depends on the element's position (NaN inside its
    vectorised blocks of 16, ``scale`` in the scalar tail); tapegrad's is NaN everywhere, and
    equal to PyTorch's at every other input, 0 included."""
    import nn.functional as F
    values = [float("nan"), -1.0, 0.0, 2.0] * 5
    x = autograd.tensor(values, dtype=autograd.float64, requires_grad=True)
    getattr(F, name)(x).sum().backward()
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    getattr(torch.nn.functional, name)(t).sum().backward()
    ours, theirs = x.grad.numpy(), t.grad.numpy()
    nan = np.isnan(np.array(values))
    assert np.isnan(ours[nan]).all()
    np.testing.assert_allclose(ours[~nan], theirs[~nan], rtol=1e-12)

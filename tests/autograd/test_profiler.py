"""tg.autograd.profile: call counts, times, kernel paths, the table and the chrome trace."""

import json
import time

import numpy as np
import pytest

import tinygen as tg
from tinygen import kernels
from tinygen.autograd import function


def small_net(x, w, b):
    """MatMul, Add, Tanh, Mul, Sum: five ops, each called once."""
    return ((x @ w + b).tanh() * 2.0).sum()


def inputs(device, rng):
    x = tg.tensor(rng.standard_normal((4, 5)), device=device)
    w = tg.tensor(rng.standard_normal((5, 3)), device=device, requires_grad=True)
    b = tg.tensor(rng.standard_normal(3), device=device, requires_grad=True)
    return x, w, b


def test_counts_equal_the_ops_run(device, rng):
    x, w, b = inputs(device, rng)
    with tg.autograd.profile() as prof:
        small_net(x, w, b).backward()
    stats = {row.name: row for row in prof.key_averages()}
    assert sorted(stats) == ["Add", "MatMul", "Mul", "Sum", "Tanh"]
    assert all(row.calls == 1 and row.backward_calls == 1 for row in stats.values())
    # The ops inside backward (e.g. TanhBackward's) are part of their node, not calls.
    assert len(prof.events) == 10
    assert [e.phase for e in prof.events] == ["forward"] * 5 + ["backward"] * 5


def test_repeated_calls_are_counted(rng):
    x, w, b = inputs("cpu", rng)
    with tg.autograd.profile() as prof:
        for _ in range(3):
            small_net(x, w, b).backward()
        with tg.no_grad():
            small_net(x, w, b)                     # forward calls count without a graph too
    assert {row.name: (row.calls, row.backward_calls) for row in prof.key_averages()} == {
        name: (4, 3) for name in ["MatMul", "Add", "Tanh", "Mul", "Sum"]}


def test_times_are_positive_and_within_wall_time(rng):
    x, w, b = inputs("cpu", rng)
    start = time.perf_counter_ns()
    with tg.autograd.profile() as prof:
        for _ in range(5):
            small_net(x, w, b).backward()
    wall = time.perf_counter_ns() - start
    rows = prof.key_averages()
    assert all(row.forward_ns > 0 and row.backward_ns > 0 for row in rows)
    assert sum(row.total_ns for row in rows) <= prof.wall_ns <= wall
    spans = sorted((e.start_ns, e.start_ns + e.duration_ns) for e in prof.events)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


def test_bytes_are_those_of_the_outputs(rng):
    x = tg.tensor(rng.standard_normal((8, 16)), dtype=tg.float32)
    with tg.autograd.profile() as prof:
        x.exp()
        x.sum(dim=1)
        x.split(4, dim=1)                          # four outputs of one op call, or views
    stats = {row.name: row.nbytes for row in prof.key_averages()}
    assert stats["Exp"] == 8 * 16 * 4
    assert stats["Sum"] == 8 * 4
    assert sum(stats.values()) == 8 * 16 * 4 + 8 * 4 + 8 * 16 * 4


def test_off_by_default_and_after_the_block(rng):
    x, w, b = inputs("cpu", rng)
    assert function._profiler is None
    prof = tg.autograd.profile()
    small_net(x, w, b).backward()                  # not inside the block: nothing recorded
    with prof:
        pass
    small_net(x, w, b).backward()
    assert prof.events == [] and prof.key_averages() == []
    assert function._profiler is None and kernels.on_dispatch is None


def test_disabled_profile_records_nothing(rng):
    x, w, b = inputs("cpu", rng)
    with tg.autograd.profile(enabled=False) as prof:
        small_net(x, w, b).backward()
    assert prof.events == [] and function._profiler is None
    assert "0 timed calls" in prof.table()


def test_hooks_restored_after_an_error():
    with pytest.raises(ZeroDivisionError):
        with tg.autograd.profile():
            1 / 0
    assert function._profiler is None and kernels.on_dispatch is None


def test_failing_op_leaves_the_profiler_running():
    class Fails(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            raise ValueError("no")

    a = tg.ones(2, 3)
    with tg.autograd.profile() as prof:
        with pytest.raises(ValueError, match="no"):
            Fails.apply(a)
        a.exp()
    assert [e.name for e in prof.events] == ["Exp"]


def test_blocks_do_not_nest():
    with tg.autograd.profile():
        with pytest.raises(RuntimeError, match="do not nest"):
            with tg.autograd.profile():
                pass


def test_kernel_paths_are_recorded(rng):
    x = rng.standard_normal((3, 4))
    with tg.autograd.profile() as prof:
        with kernels.use("reference"):
            kernels.softmax(x)
    assert prof.kernel_calls == {("softmax", "reference-cpu"): 1}
    assert prof.table().splitlines()[-1] == "Kernel calls: softmax reference-cpu x1"


def test_kernel_path_of_an_op(rng):
    class KernelSoftmax(tg.autograd.ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            y = kernels.softmax(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_y):
            (y,) = ctx.saved_tensors
            return tg.Tensor(kernels.softmax_backward(y.array, grad_y.array))

    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with tg.autograd.profile() as prof, kernels.use("reference"):
        (KernelSoftmax.apply(x) * tg.tensor(rng.standard_normal((3, 4)))).sum().backward()
    (row,) = [r for r in prof.key_averages() if r.name == "KernelSoftmax"]
    assert row.kernel_paths == {"reference-cpu"}
    events = [e for e in prof.events if e.name == "KernelSoftmax"]
    assert [e.kernel_paths for e in events] == [("reference-cpu",)] * 2


def test_create_graph_backward_is_profiled(rng):
    x = tg.tensor(rng.standard_normal(5), requires_grad=True)
    with tg.autograd.profile() as prof:
        y = x.tanh().sum()
        (g,) = tg.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
    names = [(e.name, e.phase) for e in prof.events]
    assert names[:2] == [("Tanh", "forward"), ("Sum", "forward")]
    # The gradient's own graph (TanhBackward) is differentiated in the second backward.
    assert ("TanhBackward", "backward") in names
    assert np.isfinite(x.grad.cpu().numpy()).all()


def test_table_lists_ops_sorted(rng):
    x, w, b = inputs("cpu", rng)
    with tg.autograd.profile() as prof:
        small_net(x, w, b).backward()
    text = prof.table(sort_by="name", top=3)
    lines = text.splitlines()
    assert lines[1].split()[:3] == ["Name", "Calls", "Forward"]
    assert [line.split()[0] for line in lines[3:6]] == ["Add", "MatMul", "Mul"]
    assert "2 more ops not shown" in text
    rows = prof.table(sort_by="total", top=None).splitlines()[3:8]
    totals = [row.name for row in sorted(prof.key_averages(), key=lambda r: -r.total_ns)]
    assert [line.split()[0] for line in rows] == totals
    with pytest.raises(ValueError, match="sort_by"):
        prof.table(sort_by="cpu_time")


def test_chrome_trace(tmp_path, rng):
    x, w, b = inputs("cpu", rng)
    with tg.autograd.profile() as prof:
        small_net(x, w, b).backward()
        small_net(x, w, b).backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert len(events) == 20 == len(prof.events)
    assert all(e["ph"] == "X" and e["dur"] > 0 and e["ts"] >= 0 for e in events)
    names = [e["name"] for e in events]
    assert names[:5] == ["MatMul", "Add", "Tanh", "Mul", "Sum"]
    assert names[5:10] == ["SumBackward", "MulBackward", "TanhBackward", "AddBackward",
                           "MatMulBackward"]
    assert events[0]["args"]["shapes"] == [[4, 5], [5, 3]]
    assert [e["cat"] for e in events[:10]] == ["forward"] * 5 + ["backward"] * 5

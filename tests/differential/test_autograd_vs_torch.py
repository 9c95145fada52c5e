"""Autograd semantics against PyTorch: in-place ops, views and version counters.

Each scenario is written once as a function of the library module (``lib`` is ``torch`` or
``tinygen``), runs on both, and the two runs must agree: values, gradients, the
``requires_grad`` / ``is_leaf`` / ``grad_fn is None`` flags of every tensor returned, and, when
PyTorch raises, the error type. The other test_autograd_*.py files reuse ``check``.
"""

import numpy as np
import pytest

import tinygen as tg

torch = pytest.importorskip("torch")


def summary(value):
    """What is compared: a tensor as (values, requires_grad, is_leaf, grad_fn is None)."""
    if isinstance(value, (torch.Tensor, tg.Tensor)):
        return ("tensor", np.array(value.detach().numpy()), value.requires_grad, value.is_leaf,
                value.grad_fn is None)
    if isinstance(value, (tuple, list)):
        return tuple(summary(v) for v in value)
    return value


def outcome(scenario, lib):
    """The scenario's summarised result, or the type of the error it raised."""
    try:
        return summary(scenario(lib))
    except Exception as error:      # noqa: BLE001  (the error type is what is compared)
        return type(error)


def assert_same(got, want, where="result"):
    if isinstance(want, type):
        assert isinstance(got, type) and issubclass(got, want), f"{where}: {got} != {want}"
    elif isinstance(want, tuple) and want and want[0] == "tensor":
        assert isinstance(got, tuple) and got[0] == "tensor", f"{where}: {got!r} != tensor"
        assert got[1].shape == want[1].shape, f"{where}: shape {got[1].shape} != {want[1].shape}"
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-9, err_msg=where)
        flags = ("requires_grad", "is_leaf", "grad_fn is None")
        for name, g, w in zip(flags, got[2:], want[2:]):
            assert g == w, f"{where}: {name} {g} != {w}"
    elif isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{where}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def check(scenario):
    """Run ``scenario`` on PyTorch and on tinygen and assert the outcomes agree."""
    assert_same(outcome(scenario, tg), outcome(scenario, torch))


def leaf(lib, values, requires_grad=True):
    return lib.tensor(values, dtype=lib.float64, requires_grad=requires_grad)


M = [[1.0, -2.0, 3.0], [0.5, 1.5, -1.0]]


# In-place ops on leaves and intermediates

def inplace_on_leaf(lib):
    x = leaf(lib, M)
    x.add_(1)


def inplace_on_leaf_under_no_grad(lib):
    x = leaf(lib, M)
    with lib.no_grad():
        x.mul_(2)
        x[0, 1] = 7.0
    (x * x).sum().backward()
    return x, x.grad, x._version


def inplace_setitem_on_leaf(lib):
    x = leaf(lib, M)
    x[0] = 1.0


def inplace_on_intermediate(lib):
    x = leaf(lib, M)
    h = x * 3
    h.add_(x).mul_(x)
    h.sub_(1, alpha=2)
    h.sum().backward()
    return h, x.grad, h._version


def inplace_with_tensor_that_requires_grad(lib):
    x, y = leaf(lib, M), leaf(lib, [1.0, 2.0, 3.0])
    h = x + 0
    h.mul_(y)
    h += y
    h.pow_(2)
    h.sum().backward()
    return h, x.grad, y.grad


def inplace_on_non_grad_tensor_with_grad_arg(lib):
    y = leaf(lib, M)
    z = lib.zeros(2, 3, dtype=lib.float64)
    z.add_(y * y)
    z.sum().backward()
    return z, y.grad


def row_of_intermediate_scaled(lib):
    x = leaf(lib, M)
    h = x * 1
    h[0] *= 2
    (h * h).sum().backward()
    return h, x.grad


def column_of_intermediate_add(lib):
    x, y = leaf(lib, M), leaf(lib, [10.0, 20.0])
    h = x.exp()
    h = h * 1
    h[:, 1].add_(y)
    (h * x).sum().backward()
    return h, x.grad, y.grad


def transpose_in_place(lib):
    x = leaf(lib, M)
    h = x * 2
    h.t_()
    (h * lib.arange(6.0, dtype=lib.float64).reshape(3, 2)).sum().backward()
    return h, x.grad


def view_then_inplace(lib):
    x = leaf(lib, M)
    h = x + 1
    v = h.view(3, 2)
    v.mul_(3)
    v[1].zero_()
    w = h[1:]
    (h * h).sum().backward()
    return h, v, w, x.grad, h._version, v._version


def setitem_with_grad_value(lib):
    x, y = leaf(lib, M), leaf(lib, [4.0, 5.0, 6.0])
    h = x * 2
    h[1] = y * y
    h[0, 0] = 0.0
    (h * x).sum().backward()
    return h, x.grad, y.grad


def fill_and_copy(lib):
    x, y = leaf(lib, M), leaf(lib, [[2.0], [3.0]])
    h = x * x
    h[0].fill_(5.0)
    h[:, 2:].copy_(y)
    h.sum().backward()
    return h, x.grad, y.grad


def masked_fill_and_clamp(lib):
    x = leaf(lib, M)
    h = x * 2
    h.masked_fill_(x > 1, 0.0)
    h.clamp_(-1.0, 2.5)
    (h * x).sum().backward()
    return h, x.grad


def inplace_after_output_saved(lib):
    x = leaf(lib, M)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def inplace_after_input_saved(lib):
    x = leaf(lib, M)
    h = x * 1
    z = h * h
    h.mul_(2)
    z.sum().backward()


def inplace_on_view_after_saved(lib):
    x = leaf(lib, M)
    h = x + 0
    z = h.sin()
    h[0, 0] = 3.0
    z.sum().backward()


def inplace_after_saved_by_unused_op(lib):
    x = leaf(lib, M)
    h = x * 1
    z = h + h          # add saves nothing, so the change is harmless
    h.mul_(2)
    z.sum().backward()
    return x.grad, h


def output_saving_inplace_then_changed(lib):
    x = leaf(lib, M)
    h = x * 1
    h.tanh_()
    h.add_(1)          # tanh_'s backward needs the value it wrote: refused (was not, a bug)
    h.sum().backward()


def output_saving_inplace_on_view_then_changed(lib):
    x = leaf(lib, M)
    h = x * 1
    h[0].sigmoid_()
    h[0, 1] = 0.0
    (h * h).sum().backward()


def output_saving_inplace_then_used(lib):
    x = leaf(lib, M)
    h = x * 1
    h[1].exp_()
    h.tanh_()
    (h * h).sum().backward()
    return h, x.grad


def inplace_on_view_of_leaf(lib):
    x = leaf(lib, M)
    x[0].mul_(2)


def inplace_on_reshaped_leaf(lib):
    x = leaf(lib, M)
    x.view(-1).zero_()


def inplace_on_detached_view_of_leaf(lib):
    x = leaf(lib, M)
    d = x.detach()
    d[0].mul_(2)
    return x, d, x._version, d._version


def version_counters(lib):
    x = lib.zeros(2, 3)
    v = x[1]
    counts = [x._version]
    x.add_(1)
    counts.append(v._version)
    v.mul_(2)
    counts += [x._version, v._version]
    x[0, 0] = 5.0
    counts.append(v._version)
    y = x + 1
    counts.append(y._version)
    return tuple(counts), x


def integer_tensor_float_inplace(lib):
    x = lib.tensor([1, 2, 3])
    x.mul_(1.5)


def integer_tensor_add_float_tensor(lib):
    x = lib.tensor([1, 2, 3])
    x += lib.tensor([0.5, 0.5, 0.5])


def bool_tensor_inplace_add(lib):
    x = lib.tensor([True, False])
    x.add_(lib.tensor([2, 3]))


def float32_inplace_with_float64(lib):
    x = lib.ones(3)
    x.add_(lib.tensor([0.25, 0.5, 0.75], dtype=lib.float64))
    return x, x.dtype == lib.float32


def inplace_changes_shape(lib):
    x = lib.ones(3)
    x.add_(lib.ones(2, 3))


SCENARIOS = [
    inplace_on_leaf, inplace_on_leaf_under_no_grad, inplace_setitem_on_leaf,
    inplace_on_intermediate, inplace_with_tensor_that_requires_grad,
    inplace_on_non_grad_tensor_with_grad_arg, row_of_intermediate_scaled,
    column_of_intermediate_add, transpose_in_place, view_then_inplace, setitem_with_grad_value,
    fill_and_copy, masked_fill_and_clamp, inplace_after_output_saved, inplace_after_input_saved,
    inplace_on_view_after_saved, inplace_after_saved_by_unused_op,
    output_saving_inplace_then_changed, output_saving_inplace_on_view_then_changed,
    output_saving_inplace_then_used, inplace_on_view_of_leaf,
    inplace_on_reshaped_leaf, inplace_on_detached_view_of_leaf, version_counters,
    integer_tensor_float_inplace, integer_tensor_add_float_tensor, bool_tensor_inplace_add,
    float32_inplace_with_float64, inplace_changes_shape,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_inplace_matches_torch(scenario):
    check(scenario)


def test_scenarios_that_raise_do_raise():
    """The error cases are compared by type; make sure PyTorch does raise in them."""
    for scenario in [inplace_on_leaf, inplace_after_output_saved, inplace_on_view_of_leaf,
                     integer_tensor_float_inplace, inplace_after_input_saved,
                     output_saving_inplace_then_changed,
                     output_saving_inplace_on_view_then_changed]:
        assert outcome(scenario, torch) is RuntimeError, scenario.__name__

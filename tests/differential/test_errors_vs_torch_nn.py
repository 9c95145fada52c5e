"""Bad calls raise the same exception class in tinygen as in PyTorch: nn, optim and autograd rows.

The table format and the comparison are those of test_errors_vs_torch.py."""

import pytest

import tinygen as tg

from tests.differential.test_errors_vs_torch import (
    SETATTR, assign, assert_same_error, rows)

torch = pytest.importorskip("torch")


def F(L):
    return L.nn.functional


def _x(L):
    return L.ones(2, requires_grad=True)


def _backward_twice(L):
    x = _x(L)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _grad_unused(L):
    x, z = _x(L), _x(L)
    L.autograd.grad((x * 2).sum(), [z])


def _modified_saved(L):
    y = _x(L).exp()
    y.add_(1)
    y.sum().backward()


def _set_non_leaf_requires_grad(L, value):
    y = _x(L) * 2
    y.requires_grad = value


def _set_grad(L, grad):
    x = _x(L)
    x.grad = grad


def _sgd(L, *groups, **kw):
    return L.optim.SGD(list(groups) or [L.nn.Parameter(L.ones(2))], **{"lr": 0.1, **kw})


def _module_setattr(L, name, value):
    setattr(L.nn.Linear(2, 3), name, value)


def _no_init(L):
    type("M", (L.nn.Module,), {"__init__": lambda self: setattr(self, "l", L.nn.Identity())})()


CONV = rows(
    ("conv2d channels", lambda L: F(L).conv2d(L.ones(1, 3, 5, 5), L.ones(4, 2, 3, 3)),
     "to have 2 channels, but got 3 channels"),
    ("conv2d rank", lambda L: F(L).conv2d(L.ones(3, 5), L.ones(4, 3, 3, 3)), None),
    ("conv2d stride 0", lambda L: F(L).conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), stride=0),
     None),
    ("conv2d padding -1",
     lambda L: F(L).conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), padding=-1), None),
    ("conv2d kernel big", lambda L: F(L).conv2d(L.ones(1, 3, 2, 2), L.ones(4, 3, 3, 3)), None),
    ("conv2d dilation 0",
     lambda L: F(L).conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), dilation=0), None),
    ("conv2d groups", lambda L: F(L).conv2d(L.ones(1, 4, 5, 5), L.ones(4, 2, 3, 3), groups=3),
     None),
    ("conv2d bias", lambda L: F(L).conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), L.ones(5)),
     None),
    ("conv2d padding str",
     lambda L: F(L).conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), padding="full"), None),
    ("conv2d dtypes", lambda L: F(L).conv2d(L.ones(1, 3, 5, 5, dtype=L.float64),
                                            L.ones(4, 3, 3, 3)), None),
    ("conv2d stride length",
     lambda L: F(L).conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), stride=(1, 1, 1)), None),
    ("conv1d channels", lambda L: F(L).conv1d(L.ones(1, 3, 5), L.ones(4, 2, 3)), None),
    ("conv1d rank", lambda L: F(L).conv1d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3)), None),
    ("conv1d stride 0", lambda L: F(L).conv1d(L.ones(1, 3, 5), L.ones(4, 3, 3), stride=0), None),
    ("conv1d padding -1",
     lambda L: F(L).conv1d(L.ones(1, 3, 5), L.ones(4, 3, 3), padding=-1), None),
    ("conv3d channels", lambda L: F(L).conv3d(L.ones(1, 3, 4, 4, 4), L.ones(2, 2, 3, 3, 3)),
     None),
    ("conv3d rank", lambda L: F(L).conv3d(L.ones(3, 4, 4), L.ones(2, 3, 3, 3, 3)), None),
    ("conv3d stride 0",
     lambda L: F(L).conv3d(L.ones(1, 3, 4, 4, 4), L.ones(2, 3, 3, 3, 3), stride=0), None),
    ("conv3d padding -1",
     lambda L: F(L).conv3d(L.ones(1, 3, 4, 4, 4), L.ones(2, 3, 3, 3, 3), padding=-1), None),
    ("conv_t2d channels",
     lambda L: F(L).conv_transpose2d(L.ones(1, 3, 5, 5), L.ones(2, 4, 3, 3)), None),
    ("conv_t2d rank", lambda L: F(L).conv_transpose2d(L.ones(5, 5), L.ones(5, 4, 3, 3)), None),
    ("conv_t2d stride 0",
     lambda L: F(L).conv_transpose2d(L.ones(1, 2, 5, 5), L.ones(2, 4, 3, 3), stride=0), None),
    ("conv_t2d padding -1",
     lambda L: F(L).conv_transpose2d(L.ones(1, 2, 5, 5), L.ones(2, 4, 3, 3), padding=-1), None),
    ("conv_t2d output_padding",
     lambda L: F(L).conv_transpose2d(L.ones(1, 2, 5, 5), L.ones(2, 4, 3, 3), output_padding=1),
     None),
    ("conv_t1d channels", lambda L: F(L).conv_transpose1d(L.ones(1, 3, 5), L.ones(2, 4, 3)),
     None),
    ("conv_t3d channels",
     lambda L: F(L).conv_transpose3d(L.ones(1, 3, 4, 4, 4), L.ones(2, 4, 3, 3, 3)), None),
    ("Conv2d channels", lambda L: L.nn.Conv2d(3, 4, 3)(L.ones(1, 2, 5, 5)), None),
    ("Conv2d groups", lambda L: L.nn.Conv2d(3, 4, 3, groups=2), None),
    ("Conv2d same strided", lambda L: L.nn.Conv2d(3, 4, 3, padding="same", stride=2), None),
)

POOL_RESIZE = rows(
    ("max_pool2d big", lambda L: F(L).max_pool2d(L.ones(1, 1, 2, 2), 3), None),
    ("avg_pool2d big", lambda L: F(L).avg_pool2d(L.ones(1, 1, 2, 2), 3), None),
    ("max_pool1d big", lambda L: F(L).max_pool1d(L.ones(1, 1, 2), 3), None),
    ("avg_pool1d big", lambda L: F(L).avg_pool1d(L.ones(1, 1, 2), 3), None),
    ("max_pool3d big", lambda L: F(L).max_pool3d(L.ones(1, 1, 2, 2, 2), 3), None),
    ("avg_pool3d big", lambda L: F(L).avg_pool3d(L.ones(1, 1, 2, 2, 2), 3), None),
    ("max_pool2d pad", lambda L: F(L).max_pool2d(L.ones(1, 1, 4, 4), 2, padding=2), None),
    ("max_pool2d stride 0", lambda L: F(L).max_pool2d(L.ones(1, 1, 4, 4), 2, stride=0), None),
    ("max_pool2d rank", lambda L: F(L).max_pool2d(L.ones(4), 2), None),
    ("adaptive_avg_pool2d rank", lambda L: F(L).adaptive_avg_pool2d(L.ones(4), 2), None),
    ("MaxPool2d big", lambda L: L.nn.MaxPool2d(3)(L.ones(1, 1, 2, 2)), None),
    ("interpolate both", lambda L: F(L).interpolate(L.ones(1, 1, 4), size=2, scale_factor=2),
     "only one of size or scale_factor should be defined"),
    ("interpolate neither", lambda L: F(L).interpolate(L.ones(1, 1, 4)),
     "either size or scale_factor should be defined"),
    ("interpolate mode",
     lambda L: F(L).interpolate(L.ones(1, 1, 4), scale_factor=2, mode="bogus"), None),
    ("interpolate mode rank",
     lambda L: F(L).interpolate(L.ones(1, 1, 4), scale_factor=2, mode="bilinear"), None),
    ("interpolate 1-d", lambda L: F(L).interpolate(L.ones(4), scale_factor=2), None),
    ("interpolate size rank", lambda L: F(L).interpolate(L.ones(1, 1, 4), size=(2, 2)), None),
    ("interpolate size 0", lambda L: F(L).interpolate(L.ones(1, 1, 4), size=0), None),
    ("interpolate align nearest",
     lambda L: F(L).interpolate(L.ones(1, 1, 4), scale_factor=2, align_corners=True), None),
    ("interpolate scale rank",
     lambda L: F(L).interpolate(L.ones(1, 1, 4, 4), scale_factor=(2, 2, 2)), None),
    ("interpolate scale negative",
     lambda L: F(L).interpolate(L.ones(1, 1, 4), scale_factor=-1.0), None),
)

LAYERS = rows(
    ("embedding range", lambda L: F(L).embedding(L.tensor([5]), L.ones(4, 2)),
     "index out of range"),
    ("Embedding range", lambda L: L.nn.Embedding(4, 2)(L.tensor([4])), "index out of range"),
    ("Embedding negative", lambda L: L.nn.Embedding(4, 2)(L.tensor([-1])), None),
    ("Embedding float", lambda L: L.nn.Embedding(4, 2)(L.tensor([1.0])), None),
    ("Embedding padding_idx", lambda L: L.nn.Embedding(4, 2, padding_idx=5), None),
    ("layer_norm shape", lambda L: F(L).layer_norm(L.ones(2, 3), (4,)), None),
    ("LayerNorm shape", lambda L: L.nn.LayerNorm(4)(L.ones(2, 3)), None),
    ("layer_norm weight", lambda L: F(L).layer_norm(L.ones(2, 3), (3,), weight=L.ones(4)), None),
    ("rms_norm shape", lambda L: F(L).rms_norm(L.ones(2, 3), (4,)), None),
    ("group_norm groups", lambda L: F(L).group_norm(L.ones(2, 6, 4), 4), None),
    ("GroupNorm groups", lambda L: L.nn.GroupNorm(4, 6), None),
    ("batch_norm stats", lambda L: F(L).batch_norm(L.ones(2, 3), L.zeros(4), L.ones(4)), None),
    ("BatchNorm1d features", lambda L: L.nn.BatchNorm1d(4)(L.ones(2, 3)), None),
    ("BatchNorm2d rank", lambda L: L.nn.BatchNorm2d(3)(L.ones(2, 3)), None),
    ("BatchNorm1d one value", lambda L: L.nn.BatchNorm1d(3)(L.ones(1, 3)), None),
)

LOSSES = rows(
    ("cross_entropy range", lambda L: F(L).cross_entropy(L.ones(2, 3), L.tensor([0, 3])), None),
    ("cross_entropy negative",
     lambda L: F(L).cross_entropy(L.ones(2, 3), L.tensor([-2, 0])), None),
    ("cross_entropy batch", lambda L: F(L).cross_entropy(L.ones(2, 3), L.tensor([0, 1, 2])),
     None),
    ("cross_entropy float target",
     lambda L: F(L).cross_entropy(L.ones(2, 3), L.tensor([0.0, 1.0])), None),
    ("cross_entropy prob shape", lambda L: F(L).cross_entropy(L.ones(2, 3), L.ones(2, 4)), None),
    ("cross_entropy weight",
     lambda L: F(L).cross_entropy(L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(2)), None),
    ("cross_entropy smoothing",
     lambda L: F(L).cross_entropy(L.ones(2, 3), L.tensor([0, 1]), label_smoothing=1.5), None),
    ("nll_loss range", lambda L: F(L).nll_loss(L.ones(2, 3), L.tensor([0, 3])), None),
    ("nll_loss batch", lambda L: F(L).nll_loss(L.ones(2, 3), L.tensor([0, 1, 1])), None),
    ("bce shape", lambda L: F(L).binary_cross_entropy(L.ones(2), L.ones(3)), None),
    ("bce range", lambda L: F(L).binary_cross_entropy(L.full((2,), 2.0), L.ones(2)), None),
    ("bce logits shape",
     lambda L: F(L).binary_cross_entropy_with_logits(L.ones(2), L.ones(3)), None),
    ("mse shape", lambda L: F(L).mse_loss(L.ones(2, 3), L.ones(4, 3)), None),
    ("l1 shape", lambda L: F(L).l1_loss(L.ones(2, 3), L.ones(4, 3)), None),
    ("smooth_l1 shape", lambda L: F(L).smooth_l1_loss(L.ones(2, 3), L.ones(4, 3)), None),
    ("huber shape", lambda L: F(L).huber_loss(L.ones(2, 3), L.ones(4, 3)), None),
    ("kl_div shape", lambda L: F(L).kl_div(L.ones(2, 3), L.ones(4, 3)), None),
    ("mse reduction", lambda L: F(L).mse_loss(L.ones(2), L.ones(2), reduction="bogus"), None),
)

AUTOGRAD = rows(
    ("backward twice", _backward_twice, "backward through the graph a second time"),
    ("backward non-scalar", lambda L: (_x(L) * 2).backward(), None),
    ("backward no grad", lambda L: L.ones(2).sum().backward(), "does not require grad"),
    ("backward gradient shape", lambda L: (_x(L) * 2).backward(L.ones(3)), None),
    ("grad unused input", _grad_unused, None),
    ("grad input without grad", lambda L: L.autograd.grad((_x(L) * 2).sum(), [L.ones(2)]), None),
    ("grad output without grad", lambda L: L.autograd.grad(L.ones(2).sum(), [_x(L)]), None),
    ("saved tensor modified", _modified_saved, "needed for gradient computation"),
    ("leaf add_", lambda L: _x(L).add_(1), "a leaf Variable that requires grad"),
    ("leaf mul_", lambda L: _x(L).mul_(2), "a leaf Variable that requires grad"),
    ("leaf zero_", lambda L: _x(L).zero_(), None),
    ("leaf setitem", lambda L: assign(_x(L), 0, 1.0), None),
    ("leaf view add_", lambda L: _x(L).view(2).add_(1), None),
    ("non-leaf requires_grad", lambda L: _set_non_leaf_requires_grad(L, False),
     "you can only change requires_grad flags of leaf variables", SETATTR),
    ("non-leaf requires_grad_", lambda L: (_x(L) * 2).requires_grad_(False),
     "you can only change requires_grad flags of leaf variables"),
    ("grad shape", lambda L: _set_grad(L, L.ones(3)), None),
    ("grad dtype", lambda L: _set_grad(L, L.ones(2, dtype=L.float64)), None),
    ("numpy requires grad", lambda L: _x(L).numpy(), None),
)

OPTIM = rows(
    ("SGD empty", lambda L: L.optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    ("Adam empty", lambda L: L.optim.Adam([]), "optimizer got an empty parameter list"),
    ("SGD non-leaf", lambda L: _sgd(L, _x(L) * 2), "can't optimize a non-leaf Tensor"),
    ("SGD lr", lambda L: _sgd(L, lr=-1.0), "Invalid learning rate"),
    ("SGD momentum", lambda L: _sgd(L, momentum=-1.0), "Invalid momentum value"),
    ("SGD nesterov", lambda L: _sgd(L, nesterov=True), None),
    ("SGD tensor", lambda L: L.optim.SGD(_x(L), lr=0.1), None),
    ("SGD duplicate groups",
     lambda L: (lambda p: L.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1))(_x(L)),
     None),
    ("Adam betas", lambda L: L.optim.Adam([_x(L)], betas=(1.5, 0.9)), None),
    ("Adam eps", lambda L: L.optim.Adam([_x(L)], eps=-1.0), None),
    ("load groups", lambda L: _sgd(L).load_state_dict(
        {"state": {}, "param_groups": []}), None),
    ("load group size", lambda L: _sgd(L).load_state_dict(
        _sgd(L, _x(L), _x(L)).state_dict()), None),
)

MODULES = rows(
    ("load size", lambda L: L.nn.Linear(2, 3).load_state_dict(L.nn.Linear(2, 4).state_dict()),
     "size mismatch for weight"),
    ("load missing", lambda L: L.nn.Linear(2, 3).load_state_dict({"weight": L.ones(3, 2)}),
     "Missing key(s) in state_dict"),
    ("load unexpected", lambda L: L.nn.Identity().load_state_dict({"w": L.ones(1)}),
     "Unexpected key(s) in state_dict"),
    ("load size non-strict", lambda L: L.nn.Linear(2, 3).load_state_dict(
        L.nn.Linear(2, 4).state_dict(), strict=False), None),
    ("load list", lambda L: L.nn.Linear(2, 3).load_state_dict([]), None),
    ("getattr", lambda L: L.nn.Linear(2, 3).nope, "'Linear' object has no attribute 'nope'"),
    ("delattr", lambda L: delattr(L.nn.Linear(2, 3), "nope"), None),
    ("assign tensor to parameter", lambda L: _module_setattr(L, "weight", L.ones(3, 2)), None),
    ("register_parameter dot", lambda L: L.nn.Linear(2, 3).register_parameter("a.b", None),
     None),
    ("register_parameter tensor",
     lambda L: L.nn.Linear(2, 3).register_parameter("x", L.ones(2)), None),
    ("register_buffer exists", lambda L: L.nn.Linear(2, 3).register_buffer("weight", L.ones(1)),
     None),
    ("add_module dot", lambda L: L.nn.Linear(2, 3).add_module("a.b", L.nn.ReLU()), None),
    ("add_module int", lambda L: L.nn.Linear(2, 3).add_module("x", 3), None),
    ("Sequential index", lambda L: L.nn.Sequential(L.nn.ReLU())[3], None),
    ("ModuleList index", lambda L: L.nn.ModuleList()[0], None),
    ("ModuleDict key", lambda L: L.nn.ModuleDict()["a"], None),
    ("get_parameter", lambda L: L.nn.Linear(2, 3).get_parameter("nope"), None),
    ("get_submodule", lambda L: L.nn.Linear(2, 3).get_submodule("nope"), None),
    ("no forward", lambda L: L.nn.Module()(L.ones(1)), None),
    ("no __init__", _no_init, "before Module.__init__() call"),
)


@pytest.mark.parametrize("fn, phrase", CONV + POOL_RESIZE + LAYERS + LOSSES + AUTOGRAD + OPTIM
                         + MODULES)
def test_same_error_as_torch(fn, phrase):
    assert_same_error(fn, phrase)


@pytest.mark.parametrize("call", [
    lambda F: F.conv2d(tg.ones(1, 3, 5, 5), tg.ones(4, 3, 3, 3), stride=0),
    lambda F: F.max_pool2d(tg.ones(1, 1, 4, 4), 2, padding=2),
    lambda F: F.interpolate(tg.ones(1, 1, 4), size=0),
    lambda F: F.mse_loss(tg.ones(2), tg.ones(3)),
])
def test_argument_errors_are_both_runtime_and_value_errors(call):
    """tinygen's own tests (and Python habit) catch ValueError; PyTorch users RuntimeError."""
    for kind in (RuntimeError, ValueError):
        with pytest.raises(kind):
            call(tg.nn.functional)

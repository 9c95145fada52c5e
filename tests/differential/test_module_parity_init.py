"""Every tinygen.nn module against its torch.nn twin, part 3: default initialisation against
the bounds and standard deviations torch uses, the lazy modules (before and after their first
call), the containers and the transformer stacks (names, state-dict keys, reprs)."""

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tinygen as tg
from tests.differential.test_module_parity import check_forward, check_structure, rand
from tests.helpers import host

torch = pytest.importorskip("torch")

LAZY = ["LazyLinear"] + [f"Lazy{kind}{d}d" for d in (1, 2, 3) for kind in
                         ("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm")]
CONTAINERS = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
              "DataParallel", "Container",
              "TransformerEncoder", "TransformerDecoder"]
COVERED_ELSEWHERE = LAZY + CONTAINERS

U, N, ONE, ZERO = "uniform", "normal", "ones", "zeros"
INIT = [  # (class, args, kwargs, {param: (law, bound or std)}) with torch's documented laws
    ("Linear", (64, 32), {}, {"weight": (U, 1 / 8), "bias": (U, 1 / 8)}),
    ("Conv2d", (8, 16, 3), {}, {"weight": (U, 1 / math.sqrt(72)), "bias": (U, 1 / math.sqrt(72))}),
    ("ConvTranspose2d", (8, 4, 3), dict(groups=2), {"weight": (U, 1 / math.sqrt(18)),
                                                    "bias": (U, 1 / math.sqrt(18))}),
    ("Bilinear", (16, 8, 4), {}, {"weight": (U, 1 / 4), "bias": (U, 1 / 4)}),
    ("Embedding", (50, 8), {}, {"weight": (N, 1.0)}),
    ("LSTM", (16, 16), {}, {name: (U, 1 / 4) for name in
                            ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}),
    ("GRUCell", (16, 16), {}, {"weight_ih": (U, 1 / 4), "weight_hh": (U, 1 / 4)}),
    ("MultiheadAttention", (16, 2), {}, {"in_proj_weight": (U, math.sqrt(6 / 64)),
                                         "in_proj_bias": (ZERO, 0), "out_proj.weight": (U, 1 / 4),
                                         "out_proj.bias": (ZERO, 0)}),
    ("PReLU", (), {}, {"weight": ("fill", 0.25)}),
    ("BatchNorm2d", (4,), {}, {"weight": (ONE, 1), "bias": (ZERO, 0)}),
    ("GroupNorm", (2, 4), {}, {"weight": (ONE, 1), "bias": (ZERO, 0)}),
    ("LayerNorm", (4,), {}, {"weight": (ONE, 1), "bias": (ZERO, 0)}),
]


@pytest.mark.parametrize("name,args,kwargs,laws", INIT, ids=[row[0] for row in INIT])
def test_default_init_laws(name, args, kwargs, laws):
    for seed in range(3):
        tg.manual_seed(seed)
        params = dict(getattr(tg.nn, name)(*args, **kwargs).named_parameters())
        for pname, (law, value) in laws.items():
            x = host(params[pname]).ravel()
            if law in (ONE, ZERO, "fill"):
                np.testing.assert_array_equal(x, value, err_msg=pname)
            elif law == U:
                assert np.abs(x).max() <= value, pname
                if x.size < 64:                                    # too few for statistics
                    continue
                assert np.abs(x).max() > 0.8 * value, pname           # the bound is reached
                assert abs(x.std() - value / math.sqrt(3)) < 0.25 * value / math.sqrt(3), pname
                assert abs(x.mean()) < 4 * value / math.sqrt(3 * x.size), pname
            else:
                assert abs(x.std() - value) < 0.2 * value and abs(x.mean()) < 0.2, pname


SHAPES = {1: (2, 4, 6), 2: (2, 4, 6, 6), 3: (1, 4, 4, 4, 4)}


def _lazy_args(name):
    if name == "LazyLinear":
        return (3,), {}, (2, 4)
    d = int(name[-2])
    if "Conv" in name:
        return (2, 3), dict(stride=2) if "Transpose" in name else dict(padding=1), SHAPES[d]
    return (), dict(affine=True, track_running_stats=True) if "Instance" in name else {}, \
        SHAPES[d]


@pytest.mark.parametrize("name", LAZY)
def test_lazy_parity(name):
    """Same repr before the first call; after it, same class, repr, state and outputs."""
    args, kwargs, shape = _lazy_args(name)
    ours, theirs = getattr(tg.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours(tg.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__
    check_structure(ours, theirs)
    check_forward(ours, theirs, rand(shape))


def _containers(lib):
    nn = lib.nn
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2),
                                                                  nn.Dropout(0.0)))
    named = nn.Sequential(OrderedDict(fc=nn.Linear(4, 2), act=nn.Tanh()))
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
    return dict(
        Sequential=(seq, rand((2, 4))), named=(named, rand((2, 4))),
        ModuleList=(nn.ModuleList([nn.Linear(4, 3), nn.Tanh()]), None),
        ModuleDict=(nn.ModuleDict({"b": nn.Linear(4, 3), "a": nn.ReLU()}), None),
        TransformerEncoder=(nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4),
                                                  enable_nested_tensor=False), rand((3, 2, 4))),
        TransformerDecoder=(nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8,
                                                                             dropout=0.0), 2),
                            rand((3, 2, 4), (2, 2, 4))),
        DataParallel=(nn.DataParallel(nn.Linear(4, 3)), rand((2, 4))),
        Container=(nn.Container(fc=nn.Linear(4, 3)), None),
        empty=(nn.Sequential(), None), plain=(nn.Module(), None))


@pytest.mark.parametrize("key", list(_containers(tg)))
def test_container_parity(key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                    # Container is deprecated in both
        (ours, inputs), (theirs, _) = _containers(tg)[key], _containers(torch)[key]
    check_structure(ours, theirs)
    if inputs is not None:
        check_forward(ours, theirs, inputs)


@pytest.mark.parametrize("name", ["ParameterList", "ParameterDict"])
def test_parameter_container_parity(name):
    """Names, order, shapes and state-dict keys; a plain dict is added in sorted key order."""
    def build(lib):
        values = [lib.ones(2, 3), lib.zeros(3)]
        if name == "ParameterList":
            return lib.nn.ParameterList(values)
        return lib.nn.ParameterDict({"w": values[0], "v": values[1]})
    ours, theirs = build(tg), build(torch)
    check_structure(ours, theirs, check_repr=False)
    assert repr(ours).replace("tinygen.", "").splitlines()[0] == repr(theirs).splitlines()[0]
    ordered = OrderedDict(w=tg.ones(1), v=tg.zeros(1))
    assert list(tg.nn.ParameterDict(ordered)) == ["w", "v"]

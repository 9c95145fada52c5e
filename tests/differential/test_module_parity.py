"""Every tinygen.nn module against its torch.nn twin, part 1: the harness and the layers with
parameters (linear, conv, norms, embeddings, recurrent, attention, transformer). One test per
class builds both modules from a table of typical constructor arguments and checks that the
parameter and buffer names, order, shapes, dtypes and requires_grad agree, that the state-dict
keys agree, that torch's state loads with strict=True and then the float64 outputs agree in
train and eval mode (running statistics too), that the reprs are equal, that torch's
``__constants__`` exist with equal values, that train()/eval() reach every submodule, and that
default initialisation draws from the same distribution. Parts 2 and 3 (``_misc``, ``_init``)
cover the parameter-free modules, losses, lazy modules, containers and init bounds."""

import builtins
import inspect
import warnings

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host

torch = pytest.importorskip("torch")


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _flat(o)]
    return [] if out is None else [out]


def _np(t):
    return host(t) if isinstance(t, tg.Tensor) else t.detach().numpy()


def _sig(tensors):
    return [(n, tuple(t.shape), str(t.dtype).rsplit(".", 1)[-1], t.requires_grad)
            for n, t in tensors]


def _builtin_error(exc):
    return next(c for c in type(exc).__mro__ if getattr(builtins, c.__name__, None) is c)


def _run(module, lib, xs):
    return _flat(module(*[lib.tensor(x) if isinstance(x, np.ndarray) else x for x in xs]))


def check_structure(ours, theirs, check_repr=True):
    """Names, shapes, dtypes, state-dict keys, repr, constants and mode propagation."""
    for what in ("named_parameters", "named_buffers"):
        assert _sig(getattr(ours, what)()) == _sig(getattr(theirs, what)()), what
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if check_repr:
        assert repr(ours) == repr(theirs)
    for name in getattr(type(theirs), "__constants__", []):
        want = getattr(theirs, name)
        if not (isinstance(want, torch.Tensor) or callable(want)):
            got = getattr(ours, name)
            assert type(got) is type(want) and got == want, (name, got, want)
    for mode in (False, True):
        ours.train(mode)
        assert all(m.training is mode for m in ours.modules())


def check_forward(ours, theirs, inputs, train=True, steps=2, seed=0):
    """Load torch's float64 state into ours (strict), then compare outputs in train and eval
    mode and the buffers (running statistics) after each."""
    theirs.double()
    ours.double()
    ours.load_state_dict({k: tg.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    for mode in (("train",) if train else ()) + ("eval",):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        for _ in range(steps if mode == "train" else 1):
            xs = inputs(rng)
            try:
                want = _run(theirs, torch, xs)
            except Exception as exc:  # then ours must refuse it the same way
                with pytest.raises(_builtin_error(exc)):
                    _run(ours, tg, xs)
                return
            got = _run(ours, tg, xs)
            assert len(got) == len(want)
            for a, b in zip(got, want):
                assert tuple(a.shape) == tuple(b.shape)
                np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12,
                                           equal_nan=True, err_msg=mode)
        for (name, a), (_, b) in zip(ours.named_buffers(), theirs.named_buffers()):
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12, err_msg=name)


def check_init(name, args, kwargs, seeds=(0, 1)):
    """Default init draws like torch's: constants equal, random ones with similar spread."""
    for seed in seeds:
        tg.manual_seed(seed)
        torch.manual_seed(seed)
        ours = getattr(tg.nn, name)(*args, **kwargs)
        theirs = getattr(torch.nn, name)(*args, **kwargs)
        for (pname, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            x, y = _np(p).ravel(), _np(q).ravel()
            if y.size and y.min() == y.max():
                np.testing.assert_array_equal(x, y, err_msg=pname)
            elif y.size >= 8:
                assert 0.5 * y.std() < x.std() < 2 * y.std(), pname
                assert abs(x.mean() - y.mean()) < 3 * y.std(), pname
                assert np.abs(x).max() <= 1.5 * np.abs(y).max(), pname


def check_spec(name, configs, check_repr=True, init=True):
    """Run every check on each (args, kwargs, inputs or None, train) configuration of `name`."""
    for args, kwargs, inputs, *train in configs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = getattr(tg.nn, name)(*args, **kwargs)
            theirs = getattr(torch.nn, name)(*args, **kwargs)
            check_structure(ours, theirs, check_repr)
            if init:
                check_init(name, args, kwargs)
            if inputs is not None:
                check_forward(ours, theirs, inputs, train=train[0] if train else True)


def rand(*shapes):
    """Inputs: standard-normal float64 arrays of the given shapes."""
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def parity_classes():
    """Module classes of tinygen.nn that torch.nn also has (Module itself aside)."""
    return sorted(n for n in dir(tg.nn) if n != "Module" and hasattr(torch.nn, n)
                  and inspect.isclass(getattr(tg.nn, n)) and issubclass(getattr(tg.nn, n),
                                                                        tg.nn.Module))


X1, X2, X3, I4, SEQ = rand((2, 4, 6)), rand((2, 4, 6, 6)), rand((1, 4, 4, 4, 4)), rand((2, 4)), \
    rand((3, 2, 4))


def _idx(rng):
    return [rng.integers(0, 10, (2, 3))]


def _kv(rng):
    return [rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 2, 3)),
            rng.standard_normal((5, 2, 2))]


T0 = dict(dropout=0.0)
LAYERS = {
    "Linear": [((4, 3), {}, I4), ((4, 3), dict(bias=False), I4)],
    "Bilinear": [((4, 3, 2), {}, rand((2, 4), (2, 3))),
                 ((4, 3, 2), dict(bias=False), rand((2, 4), (2, 3)))],
    "Conv1d": [((4, 6, 3), {}, X1),
               ((4, 6, 3), dict(stride=2, padding=1, groups=2, bias=False,
                                padding_mode="reflect"), X1),
               ((4, 2, 3), dict(padding="same", dilation=2, padding_mode="circular"), X1)],
    "Conv2d": [((4, 6, 3), {}, X2),
               ((4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), groups=2, bias=False,
                                     padding_mode="replicate"), X2),
               ((4, 2, 3), dict(padding="valid"), X2)],
    "Conv3d": [((4, 2, 3), {}, X3), ((4, 4, 2), dict(groups=4, padding=1,
                                                     padding_mode="circular"), X3)],
    "ConvTranspose1d": [((4, 6, 3), {}, X1),
                        ((4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2,
                                         bias=False, dilation=2), X1)],
    "ConvTranspose2d": [((4, 6, 3), {}, X2),
                        ((4, 2, (3, 2)), dict(stride=2, padding=(1, 0), output_padding=1,
                                              groups=2), X2)],
    "ConvTranspose3d": [((4, 2, 3), {}, X3), ((4, 4, 2), dict(stride=2, groups=2, bias=False),
                                              X3)],
    "BatchNorm1d": [((4,), {}, rand((3, 4))), ((4,), dict(affine=False), rand((3, 4, 5))),
                    ((4,), dict(track_running_stats=False), rand((3, 4))),
                    ((4,), dict(momentum=None), rand((3, 4)))],
    "BatchNorm2d": [((4,), {}, X2), ((4,), dict(eps=1e-3, momentum=0.3, affine=False), X2)],
    "BatchNorm3d": [((4,), {}, X3)],
    "SyncBatchNorm": [((4,), {}, X2), ((4,), dict(affine=False, momentum=0.3), X3)],
    "InstanceNorm1d": [((4,), {}, X1), ((4,), dict(affine=True, track_running_stats=True), X1)],
    "InstanceNorm2d": [((4,), {}, X2), ((4,), dict(affine=True), X2),
                       ((4,), dict(track_running_stats=True), X2)],
    "InstanceNorm3d": [((4,), {}, X3), ((4,), dict(affine=True, track_running_stats=True), X3)],
    "GroupNorm": [((2, 4), {}, X1), ((2, 4), dict(affine=False, eps=1e-3), X2)],
    "LayerNorm": [((6,), {}, X1), ((6,), dict(elementwise_affine=False), X1),
                  ((6,), dict(bias=False), X1), (((4, 6),), {}, X1)],
    "RMSNorm": [((6,), {}, X1), ((6,), dict(eps=1e-3, elementwise_affine=False), X1),
                (([4, 6],), {}, X1)],
    "LocalResponseNorm": [((2,), {}, X2), ((3, 1e-3, 0.5, 2.0), {}, X1)],
    "PReLU": [((), {}, X1), ((4,), dict(init=0.1), X1)],
    "Embedding": [((10, 3), {}, _idx), ((10, 3), dict(padding_idx=1), _idx),
                  ((10, 3), dict(max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True), _idx),
                  ((10, 3), dict(padding_idx=-2), _idx)],
    "EmbeddingBag": [((10, 3), {}, _idx), ((10, 3), dict(mode="sum", padding_idx=0), _idx),
                     ((10, 3), dict(mode="max", max_norm=1.0), _idx)],
    "RNN": [((4, 3), {}, SEQ),
            ((4, 3, 2), dict(nonlinearity="relu", bias=False, bidirectional=True), SEQ),
            ((4, 3), dict(batch_first=True, num_layers=2), SEQ)],
    "LSTM": [((4, 3), {}, SEQ), ((4, 3, 2), dict(bidirectional=True, proj_size=2), SEQ),
             ((4, 3), dict(batch_first=True, bias=False), SEQ)],
    "GRU": [((4, 3), {}, SEQ), ((4, 3, 2), dict(bidirectional=True, batch_first=True), SEQ)],
    "RNNBase": [(("LSTM", 4, 3), dict(num_layers=2, bidirectional=True), None)],
    "RNNCellBase": [((4, 3, True, 3), {}, None)],
    "RNNCell": [((4, 3), {}, I4), ((4, 3), dict(bias=False, nonlinearity="relu"), I4)],
    "LSTMCell": [((4, 3), {}, I4), ((4, 3), dict(bias=False), I4)],
    "GRUCell": [((4, 3), {}, I4), ((4, 3), dict(bias=False), I4)],
    "MultiheadAttention": [((4, 2), {}, rand(*[(3, 2, 4)] * 3)),
                           ((4, 2), dict(kdim=3, vdim=2), _kv),
                           ((4, 2), dict(add_bias_kv=True, add_zero_attn=True),
                            rand(*[(3, 2, 4)] * 3)),
                           ((4, 1), dict(bias=False, batch_first=True), rand(*[(2, 3, 4)] * 3))],
    "TransformerEncoderLayer": [((4, 2, 8), T0, SEQ),
                                ((4, 2, 8), dict(T0, norm_first=True, activation="gelu",
                                                 bias=False), SEQ)],
    "TransformerDecoderLayer": [((4, 2, 8), T0, rand((3, 2, 4), (2, 2, 4))),
                                ((4, 2, 8), dict(T0, batch_first=True, norm_first=True),
                                 rand((2, 3, 4), (2, 2, 4)))],
    "Transformer": [((), dict(T0, d_model=4, nhead=2, num_encoder_layers=1,
                              num_decoder_layers=1, dim_feedforward=8),
                     rand((3, 2, 4), (2, 2, 4)))],
    "AdaptiveLogSoftmaxWithLoss": [
        ((4, 10, [3, 6]), {}, lambda r: [r.standard_normal((3, 4)), r.integers(0, 10, 3)]),
        ((4, 10, [3]), dict(div_value=2.0, head_bias=True),
         lambda r: [r.standard_normal((3, 4)), r.integers(0, 10, 3)])],
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_parity(name):
    check_spec(name, LAYERS[name])


def test_every_shared_class_has_a_parity_table():
    """A class added to both libraries must get a row in one of the tables."""
    from tests.differential.test_module_parity_init import COVERED_ELSEWHERE
    from tests.differential.test_module_parity_misc import MISC
    covered = set(LAYERS) | set(MISC) | set(COVERED_ELSEWHERE)
    assert [n for n in parity_classes() if n not in covered] == []

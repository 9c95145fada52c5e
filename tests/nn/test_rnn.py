"""RNN, LSTM, GRU and their cells: gradients (first and second order) against finite
differences, cells against the equations in NumPy, layers against their cells, shapes, names,
initialisation and errors, PyTorch parity (state dicts load as they are), and a tiny
character-level language model that learns."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import nn, optim
from tests.helpers import host

L, N, IN, H = 3, 2, 2, 3                       # sequence length, batch, input and hidden sizes
STATE_PARTS = {"RNN": 1, "GRU": 1, "LSTM": 2}
CELL_OF = {"RNN": "RNNCell", "LSTM": "LSTMCell", "GRU": "GRUCell"}


def _model(cls, device="cpu", **kwargs):
    return getattr(nn, cls)(IN, H, **kwargs, device=device, dtype=tg.float64)


def _hx(parts):
    """The public form of a state: h, or (h, c) for the LSTM."""
    return tuple(parts) if len(parts) == 2 else parts[0]


def _flat(output, hidden):
    """(output, h_n) or (output, (h_n, c_n)) as one flat tuple."""
    return (output, *hidden) if isinstance(hidden, tuple) else (output, hidden)


def _sequence_shapes(model, batched):
    """The shapes of the input and of each state part for a model."""
    layers = model.num_layers * (2 if model.bidirectional else 1)
    if not batched:
        return (L, IN), (layers, H)
    return ((N, L, IN) if model.batch_first else (L, N, IN)), (layers, N, H)


GRADCHECK_CASES = [
    ("RNN", {}, True),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}, True),
    ("LSTM", {}, True),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, True),
    ("LSTM", {"bias": False, "batch_first": True}, True),
    ("GRU", {"num_layers": 2}, True),
    ("GRU", {"bidirectional": True, "batch_first": True}, True),
    ("GRU", {}, False),
]


@pytest.mark.parametrize("cls, kwargs, batched", GRADCHECK_CASES)
def test_gradients_wrt_input_state_and_every_parameter(device, rng, leaf, cls, kwargs, batched):
    model = _model(cls, device, **kwargs)
    x_shape, h_shape = _sequence_shapes(model, batched)
    x = leaf(rng, *x_shape, device=device)
    state = [leaf(rng, *h_shape, device=device) for _ in range(STATE_PARTS[cls])]
    params = list(model.parameters())

    def f(x, *rest):       # the parameters are read from the model; gradcheck perturbs them
        return _flat(*model(x, _hx(rest[:len(state)])))

    assert tg.autograd.gradcheck(f, (x, *state, *params))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_second_derivatives(device, rng, leaf, cls):
    model = getattr(nn, cls)(2, 2, device=device, dtype=tg.float64)
    x = leaf(rng, 2, 1, 2, device=device)
    state = [leaf(rng, 1, 1, 2, device=device) for _ in range(STATE_PARTS[cls])]
    weight = model.weight_hh_l0
    f = lambda x, w, *state: _flat(*model(x, _hx(state)))   # noqa: E731
    assert tg.autograd.gradgradcheck(f, (x, weight, *state))


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _numpy_cell(cls, x, state, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """The cell equations as PyTorch documents them, in NumPy."""
    gi, gh = x @ w_ih.T + b_ih, state[0] @ w_hh.T + b_hh
    if cls == "RNN":
        a = gi + gh
        return (np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0),)
    if cls == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = _sigmoid(f) * state[1] + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    (i_r, i_z, i_n), (h_r, h_z, h_n) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
    r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return ((1 - z) * n + z * state[0],)


@pytest.mark.parametrize("cls, kwargs", [("RNN", {}), ("RNN", {"nonlinearity": "relu"}),
                                         ("LSTM", {}), ("GRU", {}), ("GRU", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_equals_numpy_equations(device, rng, cls, kwargs, batched):
    cell = getattr(nn, CELL_OF[cls])(4, 5, **kwargs, device=device, dtype=tg.float64)
    lead = (N,) if batched else ()
    x = rng.standard_normal(lead + (4,))
    state = [rng.standard_normal(lead + (5,)) for _ in range(STATE_PARTS[cls])]
    ours = cell(tg.tensor(x, device=device), _hx([tg.tensor(s, device=device) for s in state]))
    weights = [host(cell.weight_ih), host(cell.weight_hh)] + (
        [host(cell.bias_ih), host(cell.bias_hh)] if cell.bias else [0.0, 0.0])
    nonlinearity = kwargs.get("nonlinearity", "tanh")
    expected = _numpy_cell(cls, x, state, *weights, nonlinearity)
    ours = ours if isinstance(ours, tuple) else (ours,)
    for got, want in zip(ours, expected, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(host(got), want, rtol=1e-12, atol=1e-12)
    zero_state = cell(tg.tensor(x, device=device))        # hx=None means zeros
    zero_expected = _numpy_cell(cls, x, [np.zeros(lead + (5,))] * len(state), *weights,
                                nonlinearity)
    zero_state = zero_state if isinstance(zero_state, tuple) else (zero_state,)
    for got, want in zip(zero_state, zero_expected, strict=True):
        np.testing.assert_allclose(host(got), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_bidirectional_layer_equals_its_cells_run_both_ways(rng, cls):
    """Direction 0 runs the cell forward in time, direction 1 backward; output holds both at
    each step (forward half first) and h_n the final state of each."""
    model = _model(cls, bidirectional=True)
    cell = getattr(nn, CELL_OF[cls])(IN, H, dtype=tg.float64)
    x = tg.tensor(rng.standard_normal((L, N, IN)))
    output, hidden = model(x)
    hidden = hidden if isinstance(hidden, tuple) else (hidden,)
    for direction, suffix, steps in ((0, "_l0", range(L)), (1, "_l0_reverse", range(L)[::-1])):
        cell.load_state_dict({name: getattr(model, name + suffix)
                              for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
        state = None
        for t in steps:
            state = cell(x[t], state)
            h = state[0] if isinstance(state, tuple) else state
            np.testing.assert_allclose(host(output[t, :, direction * H:(direction + 1) * H]),
                                       host(h), rtol=1e-12, atol=1e-12)
        state = state if isinstance(state, tuple) else (state,)
        for final, part in zip(hidden, state, strict=True):
            np.testing.assert_allclose(host(final[direction]), host(part), rtol=1e-12)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", [{}, {"batch_first": True}, {"num_layers": 3},
                                    {"bidirectional": True, "num_layers": 2}])
@pytest.mark.parametrize("batched", [True, False])
def test_output_and_state_shapes(device, cls, kwargs, batched):
    model = getattr(nn, cls)(IN, H, **kwargs, device=device)
    x_shape, h_shape = _sequence_shapes(model, batched)
    output, hidden = model(tg.randn(*x_shape, device=device))
    directions = 2 if model.bidirectional else 1
    assert output.shape == x_shape[:-1] + (directions * H,)
    assert output.dtype == tg.float32 and output.device == tg.device(device)
    parts = hidden if cls == "LSTM" else (hidden,)
    assert len(parts) == STATE_PARTS[cls] and all(p.shape == h_shape for p in parts)


def test_parameter_names_shapes_and_initialisation():
    model = nn.LSTM(5, 16, num_layers=2, bidirectional=True)
    expected = {}
    for layer, width in ((0, 5), (1, 32)):
        for suffix in ("", "_reverse"):
            expected.update({f"weight_ih_l{layer}{suffix}": (64, width),
                             f"weight_hh_l{layer}{suffix}": (64, 16),
                             f"bias_ih_l{layer}{suffix}": (64,),
                             f"bias_hh_l{layer}{suffix}": (64,)})
    named = dict(model.named_parameters())
    assert list(named) == list(expected)
    assert {k: tuple(p.shape) for k, p in named.items()} == expected
    assert [len(ws) for ws in model.all_weights] == [4] * 4
    bound = 1 / math.sqrt(16)
    values = np.concatenate([host(p).ravel() for p in model.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.01 and values.std() == pytest.approx(bound / math.sqrt(3),
                                                                      rel=0.05)
    assert list(dict(nn.GRU(3, 4, bias=False).named_parameters())) == ["weight_ih_l0",
                                                                      "weight_hh_l0"]
    cell = nn.GRUCell(3, 4, bias=False)
    assert [(k, tuple(p.shape)) for k, p in cell.named_parameters()] == [
        ("weight_ih", (12, 3)), ("weight_hh", (12, 4))]
    assert cell.bias_ih is None


@pytest.mark.parametrize("model, text", [
    (lambda: nn.LSTM(10, 20, num_layers=2, batch_first=True),
     "LSTM(10, 20, num_layers=2, batch_first=True)"),
    (lambda: nn.RNN(10, 20, 2, "relu"), "RNN(10, 20, num_layers=2)"),
    (lambda: nn.GRU(3, 4, 2, False, True, 0.5, True),
     "GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="relu"), "RNNCell(3, 4, nonlinearity=relu)"),
    (lambda: nn.LSTMCell(3, 4, bias=False), "LSTMCell(3, 4, bias=False)"),
    (lambda: nn.GRUCell(3, 4), "GRUCell(3, 4)"),
])
def test_repr(model, text):
    assert repr(model()) == text


def test_dropout_between_layers_only_in_training(rng):
    """With p = 1 the last layer sees zeros in training, so its output no longer depends on the
    input; in eval mode dropout is off and the model equals one built without it."""
    model = nn.GRU(IN, H, num_layers=2, dropout=1.0, dtype=tg.float64)
    x1, x2 = (tg.tensor(rng.standard_normal((L, N, IN))) for _ in range(2))
    np.testing.assert_array_equal(host(model(x1)[0]), host(model(x2)[0]))
    plain = nn.GRU(IN, H, num_layers=2, dtype=tg.float64)
    plain.load_state_dict(model.state_dict())
    model.eval()
    np.testing.assert_array_equal(host(model(x1)[0]), host(plain(x1)[0]))
    assert not np.allclose(host(model(x1)[0]), host(model(x2)[0]))


@pytest.mark.parametrize("make, args, error, match", [
    (lambda: nn.LSTM(2, 3), ([1.0],), TypeError, "must be a Tensor"),
    (lambda: nn.LSTM(2, 3), (tg.zeros(1, 3, 2, 2),), ValueError, "2D or 3D, got 4D"),
    (lambda: nn.GRU(2, 3), (tg.zeros(4, 1, 5),), RuntimeError, "Expected 2, got 5"),
    (lambda: nn.GRU(2, 3), (tg.zeros(0, 1, 2),), RuntimeError, "sequence length"),
    (lambda: nn.RNN(2, 3), (tg.zeros(4, 1, 2, dtype=tg.float64),), ValueError,
     "does not match weight dtype"),
    (lambda: nn.RNN(2, 3), (tg.zeros(4, 5, 2), tg.zeros(1, 4, 3)), RuntimeError,
     r"Expected hidden size \(1, 5, 3\), got \[1, 4, 3\]"),
    (lambda: nn.RNN(2, 3), (tg.zeros(4, 5, 2), tg.zeros(5, 3)), RuntimeError,
     "should also be 3-D"),
    (lambda: nn.RNN(2, 3), (tg.zeros(4, 2), tg.zeros(1, 1, 3)), RuntimeError,
     "should also be 2-D"),
    (lambda: nn.LSTM(2, 3), (tg.zeros(4, 5, 2), tg.zeros(1, 5, 3)), TypeError,
     r"pair of Tensors \(h_0, c_0\)"),
    (lambda: nn.LSTM(2, 3), (tg.zeros(4, 5, 2), (tg.zeros(1, 5, 3), tg.zeros(1, 5, 4))),
     RuntimeError, r"Expected hidden\[1\] size \(1, 5, 3\), got \[1, 5, 4\]"),
    (lambda: nn.LSTMCell(2, 3), (tg.zeros(4, 5),), RuntimeError, "got 5 expected 2"),
    (lambda: nn.LSTMCell(2, 3), (tg.zeros(4, 2), (tg.zeros(5, 3), tg.zeros(5, 3))),
     RuntimeError, "Input batch size 4 doesn't match hidden0 batch size 5"),
    (lambda: nn.GRUCell(2, 3), (tg.zeros(4, 2), tg.zeros(4, 2)), RuntimeError,
     "hidden0 has inconsistent hidden_size: got 2, expected 3"),
    (lambda: nn.GRUCell(2, 3), (tg.zeros(2), tg.zeros(1, 3)), ValueError, "to be 1D"),
    (lambda: nn.RNNCell(2, 3), (tg.zeros(1, 1, 2),), ValueError, "1D or 2D, got 3D"),
])
def test_forward_errors(make, args, error, match):
    with pytest.raises(error, match=match):
        make()(*args)


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.RNN(2, 3, nonlinearity="gelu"), ValueError, "Unknown nonlinearity 'gelu'"),
    (lambda: nn.RNNCell(2, 3, nonlinearity="gelu"), ValueError, "Unknown nonlinearity"),
    (lambda: nn.LSTM(2, 3, proj_size=-1), ValueError, "proj_size should be a positive"),
    (lambda: nn.LSTM(2, 3, proj_size=3), ValueError, "smaller than hidden_size"),
    (lambda: nn.GRU(2, 3, dropout=1.5), ValueError, r"range \[0, 1\]"),
    (lambda: nn.GRU(2, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.GRU(2, 3.0), TypeError, "hidden_size should be of type int"),
    (lambda: nn.GRU(2, 3, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.GRU(2, 3, bias=1), TypeError, "bias should be of type bool"),
])
def test_constructor_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(2, 3, dropout=0.2)


TORCH_CASES = [
    ("LSTM", {"batch_first": True}, True, True),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, True, False),
    ("LSTM", {}, False, True),
    ("GRU", {"bidirectional": True}, True, True),
    ("GRU", {"num_layers": 2, "bias": False}, False, False),
    ("RNN", {"num_layers": 2}, True, True),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True, "batch_first": True}, True, False),
]


def _torch_pair(torch, cls, kwargs, size=H):
    """The same model in PyTorch and tinygen, float64, tinygen loading PyTorch's state dict."""
    theirs = getattr(torch.nn, cls)(IN, size, **kwargs).double()
    ours = getattr(nn, cls)(IN, size, **kwargs, dtype=tg.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return theirs, ours


def _backward_both(rng, torch, ours_out, theirs_out):
    """Backpropagate the same random upstream gradients through both outputs."""
    upstream = [rng.standard_normal(tuple(o.shape)) for o in ours_out]
    sum(((o * tg.tensor(u)).sum() for o, u in zip(ours_out, upstream)), tg.tensor(0.0)).backward()
    sum((o * torch.tensor(u)).sum() for o, u in zip(theirs_out, upstream)).backward()


def _assert_close(ours, theirs):
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls, kwargs, batched, with_state", TORCH_CASES)
def test_matches_torch(rng, cls, kwargs, batched, with_state):
    torch = pytest.importorskip("torch")
    theirs, ours = _torch_pair(torch, cls, kwargs)
    x_shape, h_shape = _sequence_shapes(ours, batched)
    x = rng.standard_normal(x_shape)
    states = [rng.standard_normal(h_shape) for _ in range(STATE_PARTS[cls])]
    our_in = [tg.tensor(a, requires_grad=True) for a in (x, *states)]
    their_in = [torch.tensor(a, requires_grad=True) for a in (x, *states)]
    ours_out = _flat(*ours(our_in[0], _hx(our_in[1:]) if with_state else None))
    theirs_out = _flat(*theirs(their_in[0], _hx(their_in[1:]) if with_state else None))
    for o, t in zip(ours_out, theirs_out, strict=True):
        assert o.shape == tuple(t.shape)
        _assert_close(o, t)
    _backward_both(rng, torch, ours_out, theirs_out)
    for o, t in zip(our_in, their_in) if with_state else [(our_in[0], their_in[0])]:
        _assert_close(o.grad, t.grad)
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        _assert_close(param.grad, their_params[name].grad)


@pytest.mark.parametrize("cls, kwargs", [("RNNCell", {"nonlinearity": "relu"}),
                                         ("LSTMCell", {}), ("GRUCell", {})])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(rng, cls, kwargs, batched):
    torch = pytest.importorskip("torch")
    theirs, ours = _torch_pair(torch, cls, kwargs)
    lead = (N,) if batched else ()
    arrays = [rng.standard_normal(lead + (IN,))] + [
        rng.standard_normal(lead + (H,)) for _ in range(2 if cls == "LSTMCell" else 1)]
    our_in = [tg.tensor(a, requires_grad=True) for a in arrays]
    their_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_out, theirs_out = ours(our_in[0], _hx(our_in[1:])), theirs(their_in[0],
                                                                  _hx(their_in[1:]))
    ours_out = ours_out if isinstance(ours_out, tuple) else (ours_out,)
    theirs_out = theirs_out if isinstance(theirs_out, tuple) else (theirs_out,)
    for o, t in zip(ours_out, theirs_out, strict=True):
        _assert_close(o, t)
    _backward_both(rng, torch, ours_out, theirs_out)
    for o, t in zip(our_in, their_in):
        _assert_close(o.grad, t.grad)
    for (name, param), (their_name, their_param) in zip(ours.named_parameters(),
                                                        theirs.named_parameters(), strict=True):
        assert name == their_name
        _assert_close(param.grad, their_param.grad)


class CharModel(nn.Module):
    """Embedding -> LSTM -> Linear: the next character's logits at every position."""

    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids):
        output, _ = self.lstm(self.embed(ids))
        return self.head(output)


def test_char_language_model_learns():
    tg.manual_seed(0)
    text = "hello world, hello rnn. " * 4
    vocab = sorted(set(text))
    ids = np.array([vocab.index(ch) for ch in text])
    windows = np.stack([ids[i:i + 13] for i in range(0, len(ids) - 13, 6)])   # (B, T + 1)
    inputs, targets = tg.tensor(windows[:, :-1]), tg.tensor(windows[:, 1:])
    model = CharModel(len(vocab), 24)
    opt = optim.Adam(model.parameters(), lr=0.03)
    losses = []
    for _ in range(30):
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(math.log(len(vocab)), rel=0.15)    # a uniform guess
    assert losses[-1] < 0.25 * losses[0], losses

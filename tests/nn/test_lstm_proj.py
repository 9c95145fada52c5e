"""LSTM with projections (proj_size > 0): parameter names and shapes, the forward against the
equations in NumPy, gradients against finite differences, state shapes and errors, and PyTorch
parity (state dicts load both ways; outputs, states and gradients agree) where it is importable."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn.utils.rnn import pack_padded_sequence
from tests.helpers import host, leaf64

L, N, IN, H, P = 3, 2, 2, 4, 3


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _reference(model, x, h, c):
    """One-layer projected LSTM over x (L, N, IN) in NumPy: outputs (L, N, P), h_n, c_n."""
    w_ih, w_hh, b_ih, b_hh, w_hr = (host(getattr(model, name + "_l0")) for name in (
        "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))
    outputs = []
    for x_t in x:
        i, f, g, o = np.split(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = (_sigmoid(o) * np.tanh(c)) @ w_hr.T
        outputs.append(h)
    return np.stack(outputs), h, c


def test_parameters_names_and_shapes():
    model = nn.LSTM(IN, H, num_layers=2, bidirectional=True, proj_size=P)
    names = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    expected = []
    for layer, size in ((0, IN), (1, 2 * P)):
        for suffix in ("", "_reverse"):
            s = f"_l{layer}{suffix}"
            expected += [("weight_ih" + s, (4 * H, size)), ("weight_hh" + s, (4 * H, P)),
                         ("bias_ih" + s, (4 * H,)), ("bias_hh" + s, (4 * H,)),
                         ("weight_hr" + s, (P, H))]
    assert names == expected
    assert len(model.all_weights[0]) == 5
    assert "proj_size=3" in repr(model)
    no_bias = nn.LSTM(IN, H, bias=False, proj_size=P)
    assert [n for n, _ in no_bias.named_parameters()] == ["weight_ih_l0", "weight_hh_l0",
                                                          "weight_hr_l0"]


def test_forward_matches_numpy(rng):
    model = nn.LSTM(IN, H, proj_size=P, dtype=tg.float64)
    x, h0, c0 = (rng.standard_normal(s) for s in ((L, N, IN), (N, P), (N, H)))
    output, (h_n, c_n) = model(tg.tensor(x), (tg.tensor(h0[None]), tg.tensor(c0[None])))
    out_ref, h_ref, c_ref = _reference(model, x, h0, c0)
    assert output.shape == (L, N, P) and h_n.shape == (1, N, P) and c_n.shape == (1, N, H)
    np.testing.assert_allclose(host(output), out_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(h_n[0]), h_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(c_n[0]), c_ref, rtol=1e-12, atol=1e-12)
    unbatched, (h_u, c_u) = model(tg.tensor(x[:, 0]))          # zero state, unbatched
    out_ref, h_ref, c_ref = _reference(model, x[:, :1], np.zeros((1, P)), np.zeros((1, H)))
    np.testing.assert_allclose(host(unbatched), out_ref[:, 0], rtol=1e-12, atol=1e-12)
    assert h_u.shape == (1, P) and c_u.shape == (1, H)


def test_gradcheck(rng):
    model = nn.LSTM(IN, H, bidirectional=True, proj_size=P, batch_first=True,
                    dtype=tg.float64)
    x, h0, c0 = leaf64(rng, N, L, IN), leaf64(rng, 2, N, P), leaf64(rng, 2, N, H)

    del model.weight_hr_l0_reverse                # a plain tensor in its place: an input

    def run(x, h0, c0, w_hr):
        model.weight_hr_l0_reverse = w_hr
        output, (h, c) = model(x, (h0, c0))
        return output, h, c
    w_hr = leaf64(rng, P, H)
    assert tg.autograd.gradcheck(run, (x, h0, c0, w_hr))


def test_state_shape_errors():
    model = nn.LSTM(IN, H, proj_size=P, dtype=tg.float64)
    x = tg.zeros(L, N, IN, dtype=tg.float64)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 3\)"):
        model(x, (tg.zeros(1, N, H, dtype=tg.float64), tg.zeros(1, N, H, dtype=tg.float64)))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 2, 4\)"):
        model(x, (tg.zeros(1, N, P, dtype=tg.float64), tg.zeros(1, N, P, dtype=tg.float64)))
    with pytest.raises(ValueError, match="smaller than hidden_size"):
        nn.LSTM(IN, H, proj_size=H)


CASES = [({}, False, False), ({"num_layers": 2, "bidirectional": True}, True, False),
         ({"bidirectional": True, "batch_first": True}, False, True),
         ({"num_layers": 2, "bias": False}, True, True)]


@pytest.mark.parametrize("kwargs, with_state, packed", CASES)
def test_matches_torch(rng, kwargs, with_state, packed):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LSTM(IN, H, proj_size=P, **kwargs).double()
    ours = nn.LSTM(IN, H, proj_size=P, **kwargs, dtype=tg.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    back = torch.nn.LSTM(IN, H, proj_size=P, **kwargs).double()      # and the other way
    back.load_state_dict({k: torch.tensor(host(v)) for k, v in ours.state_dict().items()})
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    shape = (N, L, IN) if kwargs.get("batch_first") else (L, N, IN)
    arrays = [rng.standard_normal(shape)]
    if with_state:
        arrays += [rng.standard_normal((layers, N, P)), rng.standard_normal((layers, N, H))]
    our_in = [tg.tensor(a, requires_grad=True) for a in arrays]
    their_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    our_x, their_x = our_in[0], their_in[0]
    if packed:
        lengths, first = [2, 3], kwargs.get("batch_first", False)
        our_x = pack_padded_sequence(our_x, lengths, first, enforce_sorted=False)
        their_x = torch.nn.utils.rnn.pack_padded_sequence(their_x, torch.tensor(lengths), first,
                                                          enforce_sorted=False)
    our_out, our_h = ours(our_x, tuple(our_in[1:]) or None)
    their_out, their_h = theirs(their_x, tuple(their_in[1:]) or None)
    if packed:
        our_out, their_out = our_out.data, their_out.data
    their_back = back(their_x, tuple(t.detach() for t in their_in[1:]) or None)[0]
    np.testing.assert_allclose(host(our_out), (their_back.data if packed else their_back)
                               .detach().numpy(), rtol=1e-10, atol=1e-12)
    ours_all, theirs_all = [our_out, *our_h], [their_out, *their_h]
    upstream = [rng.standard_normal(tuple(o.shape)) for o in ours_all]
    sum(((o * tg.tensor(u)).sum() for o, u in zip(ours_all, upstream)), tg.tensor(0.0)).backward()
    sum((o * torch.tensor(u)).sum() for o, u in zip(theirs_all, upstream)).backward()
    pairs = list(zip(ours_all, theirs_all)) + [(a.grad, b.grad) for a, b in zip(our_in, their_in)]
    pairs += [(p.grad, q.grad) for p, q in zip(ours.parameters(), theirs.parameters())]
    for a, b in pairs:
        np.testing.assert_allclose(host(a), b.detach().numpy(), rtol=1e-10, atol=1e-12)

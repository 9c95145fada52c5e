"""nn.utils.rnn (pad, pack, unpack) and the recurrent layers on packed input: round trips against
NumPy, gradients against finite differences, PyTorch's errors, a packed run against running each
sequence alone, and PyTorch parity (values, h_n and gradients) where torch is importable."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn.utils import rnn as rnn_utils
from tinygen.nn.utils.rnn import (
    PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence,
    unpack_sequence, unpad_sequence)
from tests.helpers import host, leaf64

T, B, IN, H = 4, 3, 2, 3
LENGTHS = [4, 2, 3]                              # not sorted: enforce_sorted=False sorts them


def _padded_reference(arrays, batch_first=False, value=0.0, left=False):
    """pad_sequence in plain NumPy."""
    longest = max(len(a) for a in arrays)
    out = np.full((len(arrays), longest) + arrays[0].shape[1:], value)
    for i, a in enumerate(arrays):
        if left:
            out[i, longest - len(a):] = a
        else:
            out[i, :len(a)] = a
    return out if batch_first else out.swapaxes(0, 1)


@pytest.mark.parametrize("batch_first, side", [(False, "right"), (True, "left")])
def test_pad_sequence_matches_numpy_and_gradcheck(rng, batch_first, side):
    seqs = [leaf64(rng, n, 2) for n in (3, 1, 2)]
    out = pad_sequence(seqs, batch_first, padding_value=-1.5, padding_side=side)
    expected = _padded_reference([host(s) for s in seqs], batch_first, -1.5, side == "left")
    np.testing.assert_array_equal(host(out), expected)
    assert tg.autograd.gradcheck(lambda *s: pad_sequence(s, batch_first, 0.5, side), seqs)
    assert tg.autograd.gradgradcheck(lambda *s: pad_sequence(s, batch_first, 0.5, side), seqs)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([4, 3, 2], True), (LENGTHS, False)])
def test_pack_pad_round_trip(rng, batch_first, lengths, enforce_sorted):
    x = rng.standard_normal((B, T, IN) if batch_first else (T, B, IN))
    packed = pack_padded_sequence(tg.tensor(x), lengths, batch_first, enforce_sorted)
    assert isinstance(packed, PackedSequence) and packed.batch_sizes.dtype == tg.int64
    order = sorted(range(B), key=lambda i: -lengths[i])
    assert host(packed.batch_sizes).tolist() == [sum(n > t for n in lengths) for t in range(T)]
    assert packed.data.shape == (sum(lengths), IN)
    if enforce_sorted:
        assert packed.sorted_indices is None and packed.unsorted_indices is None
    else:
        assert host(packed.sorted_indices).tolist() == order
        assert host(packed.unsorted_indices)[order].tolist() == list(range(B))
    padded, out_lengths = pad_packed_sequence(packed, batch_first, padding_value=7.0,
                                              total_length=T + 1)
    assert host(out_lengths).tolist() == lengths
    time_major = x if not batch_first else x.swapaxes(0, 1)
    expected = np.full((T + 1, B, IN), 7.0)
    for b, n in enumerate(lengths):
        expected[:n, b] = time_major[:n, b]
    np.testing.assert_array_equal(host(padded), expected.swapaxes(0, 1) if batch_first
                                  else expected)


def test_pack_and_pad_gradcheck(rng):
    x = leaf64(rng, T, B, IN)
    assert tg.autograd.gradcheck(
        lambda x: pack_padded_sequence(x, LENGTHS, enforce_sorted=False).data, (x,))
    data = leaf64(rng, sum(LENGTHS), IN)
    packed = pack_padded_sequence(tg.zeros(T, B, IN), LENGTHS, enforce_sorted=False)

    def unpack(d):
        return pad_packed_sequence(PackedSequence(d, *packed[1:]), True, 0.0, T + 1)[0]
    assert tg.autograd.gradcheck(unpack, (data,))
    assert tg.autograd.gradgradcheck(unpack, (data,))


def test_sequence_lists_round_trip(rng):
    arrays = [rng.standard_normal((n, IN)) for n in LENGTHS]
    packed = pack_sequence([tg.tensor(a) for a in arrays], enforce_sorted=False)
    for got, a in zip(unpack_sequence(packed), arrays):
        np.testing.assert_array_equal(host(got), a)
    padded = tg.tensor(_padded_reference(arrays))
    for got, a in zip(unpad_sequence(padded, tg.tensor(LENGTHS)), arrays):
        np.testing.assert_array_equal(host(got), a)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_sequence([tg.tensor(a) for a in arrays])


def test_packed_sequence_conversions():
    packed = pack_padded_sequence(tg.zeros(T, B, IN), LENGTHS, enforce_sorted=False)
    assert packed.to("cpu") is packed and packed.float() is packed and not packed.is_cuda
    double = packed.double()
    assert double.data.dtype == tg.float64 and double.batch_sizes is packed.batch_sizes
    assert host(double.unsorted_indices).tolist() == host(packed.unsorted_indices).tolist()
    data, batch_sizes, sorted_indices, unsorted_indices = packed          # a 4-tuple
    again = PackedSequence(data, batch_sizes, sorted_indices)             # inverse recomputed
    assert host(again.unsorted_indices).tolist() == host(unsorted_indices).tolist()
    assert tg.nn.utils.rnn is rnn_utils


@pytest.mark.parametrize("call, error, match", [
    (lambda x: pack_padded_sequence(x, [2, 4, 3]), RuntimeError, "sorted in decreasing order"),
    (lambda x: pack_padded_sequence(x, [4, 0, 3], enforce_sorted=False), RuntimeError,
     "greater than 0"),
    (lambda x: pack_padded_sequence(x, [4, 3]), RuntimeError, r"got 2 \(batch_size=3\)"),
    (lambda x: pack_padded_sequence(x, tg.tensor([[4, 3, 2]])), RuntimeError, "1D CPU int64"),
    (lambda x: pad_packed_sequence(pack_padded_sequence(x, [4, 3, 2]), total_length=3),
     ValueError, "total_length=3 and max sequence length being 4"),
    (lambda x: pad_sequence([x[0]], padding_side="middle"), RuntimeError, "left or right"),
    (lambda x: pad_sequence([]), RuntimeError, "empty list"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(tg.zeros(T, B, IN))


def _model(cls, **kwargs):
    return getattr(nn, cls)(IN, H, dtype=tg.float64, **kwargs)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers, bidirectional", [(1, True), (2, False)])
def test_packed_equals_each_sequence_alone(rng, cls, layers, bidirectional):
    """A packed batch gives, for each sequence, what running that sequence alone gives."""
    model = _model(cls, num_layers=layers, bidirectional=bidirectional)
    arrays = [rng.standard_normal((n, IN)) for n in LENGTHS]
    output, hidden = model(pack_sequence([tg.tensor(a) for a in arrays], enforce_sorted=False))
    outputs = unpack_sequence(output)
    parts = hidden if isinstance(hidden, tuple) else (hidden,)
    for b, a in enumerate(arrays):
        alone, alone_hidden = model(tg.tensor(a))
        alone_parts = alone_hidden if isinstance(alone_hidden, tuple) else (alone_hidden,)
        np.testing.assert_allclose(host(outputs[b]), host(alone), rtol=1e-12, atol=1e-12)
        for part, alone_part in zip(parts, alone_parts):
            np.testing.assert_allclose(host(part[:, b]), host(alone_part), atol=1e-12)


def test_packed_lstm_gradcheck(rng):
    model = nn.LSTM(IN, 2, bidirectional=True, dtype=tg.float64)
    packed = pack_sequence([tg.zeros(n, IN) for n in (3, 1, 2)], enforce_sorted=False)
    data = leaf64(rng, *packed.data.shape)

    def run(d):
        output, (h, c) = model(PackedSequence(d, *packed[1:]))
        return output.data, h, c
    assert tg.autograd.gradcheck(run, (data,))


def test_packed_input_errors():
    model = _model("GRU")
    packed = pack_sequence([tg.zeros(3, IN, dtype=tg.float64), tg.zeros(1, IN,
                                                                         dtype=tg.float64)])
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 3\)"):
        model(packed, tg.zeros(1, 3, H, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="input_size"):
        nn.RNN(5, H, dtype=tg.float64)(packed)


TORCH_CASES = [(cls, layers, bidirectional, with_state)
               for cls in ("RNN", "LSTM", "GRU")
               for layers, bidirectional in ((1, False), (1, True), (2, True))
               for with_state in (False, True)]


@pytest.mark.parametrize("cls, layers, bidirectional, with_state", TORCH_CASES)
def test_packed_matches_torch(rng, cls, layers, bidirectional, with_state):
    torch = pytest.importorskip("torch")
    kwargs = {"num_layers": layers, "bidirectional": bidirectional}
    theirs = getattr(torch.nn, cls)(IN, H, **kwargs).double()
    ours = _model(cls, **kwargs)
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((T, B, IN))
    states = [rng.standard_normal((layers * (1 + bidirectional), B, H))
              for _ in range(2 if cls == "LSTM" else 1)] if with_state else []
    our_in = [tg.tensor(a, requires_grad=True) for a in (x, *states)]
    their_in = [torch.tensor(a, requires_grad=True) for a in (x, *states)]
    hx = (tuple(our_in[1:]) if cls == "LSTM" else our_in[1]) if states else None
    their_hx = (tuple(their_in[1:]) if cls == "LSTM" else their_in[1]) if states else None
    our_out, our_h = ours(pack_padded_sequence(our_in[0], LENGTHS, enforce_sorted=False), hx)
    their_out, their_h = theirs(torch.nn.utils.rnn.pack_padded_sequence(
        their_in[0], torch.tensor(LENGTHS), enforce_sorted=False), their_hx)
    assert host(our_out.batch_sizes).tolist() == their_out.batch_sizes.tolist()
    our_all = [our_out.data, *(our_h if cls == "LSTM" else (our_h,))]
    their_all = [their_out.data, *(their_h if cls == "LSTM" else (their_h,))]
    upstream = [rng.standard_normal(tuple(o.shape)) for o in our_all]
    sum(((o * tg.tensor(u)).sum() for o, u in zip(our_all, upstream)), tg.tensor(0.0)).backward()
    sum((o * torch.tensor(u)).sum() for o, u in zip(their_all, upstream)).backward()
    pairs = list(zip(our_all, their_all)) + [(a.grad, b.grad) for a, b in zip(our_in, their_in)]
    pairs += [(p.grad, q.grad) for p, q in zip(ours.parameters(), theirs.parameters())]
    for a, b in pairs:
        np.testing.assert_allclose(host(a), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_pack_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((B, T, IN))
    ours = pack_padded_sequence(tg.tensor(x), LENGTHS, batch_first=True, enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(LENGTHS),
                                                     batch_first=True, enforce_sorted=False)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(host(a), b.numpy())

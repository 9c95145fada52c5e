"""EmbeddingBag and F.embedding_bag: a NumPy loop reference for sum / mean / max with offsets,
2-D input, padding_idx, include_last_offset and per_sample_weights; PyTorch values and gradients;
float64 gradchecks w.r.t. the weight and the per-sample weights; errors."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck

IDS = np.array([1, 2, 4, 5, 4, 3, 2, 0, 0])
OFFSETS = np.array([0, 2, 2, 5])                   # bags [0:2], [] (empty), [2:5], [5:9]


def bags_np(weight, ids, offsets, mode, padding_idx=None, psw=None):
    ends = list(offsets[1:]) + [len(ids)]
    out = []
    for start, end in zip(offsets, ends):
        keep = [i for i in range(start, end) if ids[i] != padding_idx]
        rows = weight[ids[keep]] * (psw[keep, None] if psw is not None else 1)
        if not keep:
            out.append(np.zeros(weight.shape[1]))
        else:
            out.append({"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode])
    return np.array(out)


@pytest.mark.parametrize("mode, padding_idx", list(itertools.product(
    ["sum", "mean", "max"], [None, 4])))
def test_against_loops(mode, padding_idx, rng):
    weight = rng.standard_normal((6, 3))
    out = F.embedding_bag(tg.tensor(IDS), tg.tensor(weight), tg.tensor(OFFSETS), mode=mode,
                          padding_idx=padding_idx)
    np.testing.assert_allclose(host(out), bags_np(weight, IDS, OFFSETS, mode, padding_idx),
                               atol=1e-12)
    last = F.embedding_bag(tg.tensor(IDS), tg.tensor(weight), tg.tensor(np.append(OFFSETS, 9)),
                           mode=mode, padding_idx=padding_idx, include_last_offset=True)
    np.testing.assert_allclose(host(last), host(out), atol=1e-12)
    square = F.embedding_bag(tg.tensor(IDS.reshape(3, 3)), tg.tensor(weight), mode=mode,
                             padding_idx=padding_idx)
    np.testing.assert_allclose(host(square), bags_np(weight, IDS, np.array([0, 3, 6]), mode,
                                                     padding_idx), atol=1e-12)


def test_per_sample_weights_and_module(rng):
    bag = nn.EmbeddingBag(6, 3, mode="sum")
    psw = rng.uniform(size=9)
    out = bag(tg.tensor(IDS), tg.tensor(OFFSETS),
              per_sample_weights=tg.tensor(psw, dtype=tg.float32))
    np.testing.assert_allclose(host(out), bags_np(host(bag.weight), IDS, OFFSETS, "sum", None,
                                                  psw), atol=1e-6)
    padded = nn.EmbeddingBag(6, 3, padding_idx=2)
    assert not host(padded.weight)[2].any() and host(padded.weight).std() > 0.3
    frozen = nn.EmbeddingBag.from_pretrained(tg.tensor(rng.standard_normal((4, 2))))
    assert not frozen.weight.requires_grad


def test_gradchecks(rng):
    weight = tg.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    psw = tg.tensor(rng.uniform(size=9), requires_grad=True)
    ids, offsets = tg.tensor(IDS), tg.tensor(OFFSETS)
    assert gradcheck(lambda w, s: F.embedding_bag(ids, w, offsets, mode="sum",
                                                  per_sample_weights=s), (weight, psw))
    assert gradgradcheck(lambda w, s: F.embedding_bag(ids, w, offsets, mode="sum",
                                                      per_sample_weights=s) ** 2, (weight, psw))
    for mode in ("mean", "max"):
        assert gradcheck(lambda w: F.embedding_bag(ids, w, offsets, mode=mode, padding_idx=0),
                         (weight,))


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    weight = rng.standard_normal((6, 3))
    for mode, padding_idx in itertools.product(["sum", "mean", "max"], [None, 2]):
        ours = tg.tensor(weight, requires_grad=True)
        theirs = torch.tensor(weight, requires_grad=True)
        out = F.embedding_bag(tg.tensor(IDS), ours, tg.tensor(OFFSETS), mode=mode,
                              padding_idx=padding_idx)
        expected = torch.nn.functional.embedding_bag(torch.tensor(IDS), theirs,
                                                     torch.tensor(OFFSETS), mode=mode,
                                                     padding_idx=padding_idx)
        np.testing.assert_allclose(host(out), expected.detach().numpy(), atol=1e-12)
        g = rng.standard_normal(out.shape)
        out.backward(tg.tensor(g))
        expected.backward(torch.tensor(g))
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), atol=1e-12)
    assert repr(nn.EmbeddingBag(5, 3, mode="sum", padding_idx=1)) == repr(
        torch.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=1))


def test_errors():
    ids, weight = tg.tensor(np.array([0, 1])), tg.zeros(3, 2)
    with pytest.raises(ValueError, match="mode has to be one of"):
        F.embedding_bag(ids, weight, tg.tensor(np.array([0])), mode="median")
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(ids, weight, tg.tensor(np.array([0])), mode="max",
                        per_sample_weights=tg.ones(2))
    with pytest.raises(ValueError, match="same shape"):
        F.embedding_bag(ids, weight, tg.tensor(np.array([0])), mode="sum",
                        per_sample_weights=tg.ones(3))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ids.reshape(1, 2), weight, tg.tensor(np.array([0])))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor"):
        F.embedding_bag(ids, weight)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(ids, weight, tg.tensor(np.array([1])))
    with pytest.raises(ValueError, match="1D or 2D"):
        F.embedding_bag(ids.reshape(1, 1, 2), weight)


def test_include_last_offset_last_bag_runs_to_the_end():
    """PyTorch reads offsets[-1] as len(input): the last bag ends at the end of input even when
    offsets[-1] is smaller; an offset past the end is an error."""
    W = tg.tensor(np.arange(18.0).reshape(6, 3))
    ids = tg.tensor([1, 2, 4, 5, 4, 3])
    out = F.embedding_bag(ids, W, tg.tensor([0, 2, 2, 4]), mode="sum", include_last_offset=True)
    rows = np.arange(18.0).reshape(6, 3)
    np.testing.assert_allclose(host(out), [rows[[1, 2]].sum(0), np.zeros(3),
                                           rows[[4, 5, 4, 3]].sum(0)])
    with pytest.raises(RuntimeError, match="offsets\\[-1\\] can not be greater"):
        F.embedding_bag(ids, W, tg.tensor([0, 7]))


def test_include_last_offset_matches_torch():
    torch = pytest.importorskip("torch")
    W = np.random.default_rng(0).standard_normal((6, 3))
    ids, offsets = [1, 2, 4, 5, 4, 3, 2, 0], [0, 2, 2, 5]
    for mode in ("sum", "mean", "max"):
        ref = torch.nn.functional.embedding_bag(torch.tensor(ids), torch.tensor(W),
                                                torch.tensor(offsets), mode=mode,
                                                include_last_offset=True)
        out = F.embedding_bag(tg.tensor(ids), tg.tensor(W), tg.tensor(offsets), mode=mode,
                              include_last_offset=True)
        np.testing.assert_allclose(host(out), ref.numpy(), rtol=1e-12)


def test_per_sample_weights_dtype_must_match_weight():
    W = tg.randn(4, 2, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="per_sample_weights .*float32.* weight .*float64"):
        F.embedding_bag(tg.tensor([0, 1]), W, tg.tensor([0]), mode="sum",
                        per_sample_weights=tg.ones(2))

"""Loss modules: each equals its functional form with the constructor's options, keeps its
weights as buffers (state_dict, .to), and matches PyTorch's module of the same name."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import nn


def cases(rng):
    """(module name, constructor kwargs, input, target) with NumPy data."""
    logits = rng.standard_normal((5, 3))
    labels = np.array([0, 2, 1, 2, 0])
    probs = rng.uniform(0.05, 0.95, (5, 3))
    binary = (rng.uniform(size=(5, 3)) > 0.5).astype(np.float64)
    weight = rng.uniform(0.5, 2, 3)
    return [
        ("MSELoss", {}, logits, probs),
        ("L1Loss", {"reduction": "sum"}, logits, probs),
        ("BCELoss", {"weight": weight}, probs, binary),
        ("BCEWithLogitsLoss", {"pos_weight": weight, "reduction": "none"}, logits, binary),
        ("CrossEntropyLoss", {"weight": weight, "ignore_index": 1, "label_smoothing": 0.1},
         logits, labels),
        ("CrossEntropyLoss", {}, logits, labels),
        ("NLLLoss", {"weight": weight}, np.log(probs), labels),
        ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, np.log(probs),
         np.log(probs[::-1].copy())),
    ]


def tg_tensor(value):
    return tg.tensor(value) if value.dtype.kind == "i" else tg.tensor(value, dtype=tg.float64)


def test_modules_equal_functional_forms(rng):
    functional = {"MSELoss": F.mse_loss, "L1Loss": F.l1_loss, "BCELoss": F.binary_cross_entropy,
                  "BCEWithLogitsLoss": F.binary_cross_entropy_with_logits,
                  "CrossEntropyLoss": F.cross_entropy, "NLLLoss": F.nll_loss,
                  "KLDivLoss": F.kl_div}
    for name, kwargs, x, t in cases(rng):
        tensors = {k: tg_tensor(v) if isinstance(v, np.ndarray) else v
                   for k, v in kwargs.items()}
        module = getattr(nn, name)(**tensors)
        expected = functional[name](tg_tensor(x), tg_tensor(t), **tensors)
        np.testing.assert_array_equal(host(module(tg_tensor(x), tg_tensor(t))), host(expected))


def test_weights_are_buffers():
    w = tg.tensor([1.0, 2.0, 3.0])
    criterion = nn.CrossEntropyLoss(weight=w)
    assert list(criterion.state_dict()) == ["weight"]
    assert criterion.to(tg.float64).weight.dtype == tg.float64
    logits = nn.BCEWithLogitsLoss(pos_weight=w)
    assert list(logits.state_dict()) == ["pos_weight"] and logits.weight is None
    assert list(nn.MSELoss().state_dict()) == []


def test_reduction_options_and_errors():
    assert nn.MSELoss(reduction="sum").reduction == "sum"
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert nn.L1Loss(reduce=False).reduction == "none"
    with pytest.raises(ValueError, match="'batchmean' is not a valid value"):
        nn.MSELoss(reduction="batchmean")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.L1Loss(reduction="sum")) == "L1Loss()"             # as PyTorch prints it


def test_class_index_loss_errors_match_pytorch_types():
    """Batch-size mismatches are ValueErrors, other target-shape mismatches, long targets of
    the input's shape and class weights of another dtype RuntimeErrors, as in PyTorch."""
    x, labels = tg.zeros(2, 3, dtype=tg.float64), tg.tensor([0, 1])
    with pytest.raises(ValueError, match=r"input batch_size \(2\) to match target batch_size"):
        nn.CrossEntropyLoss()(x, tg.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="needs a target of shape"):
        nn.NLLLoss()(tg.zeros(2, 3, 5), tg.zeros(2, 4, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="Expected floating point type for target"):
        nn.CrossEntropyLoss()(x, tg.zeros(2, 3, dtype=tg.int64))
    for loss in (nn.CrossEntropyLoss, nn.NLLLoss):
        with pytest.raises(RuntimeError, match="expected scalar type float64 but found float32"):
            loss(weight=tg.ones(3, dtype=tg.float32))(x, labels)
    soft = tg.full((2, 3), 1 / 3, dtype=tg.float64)  # probability targets promote the weight
    assert nn.CrossEntropyLoss(weight=tg.ones(3, dtype=tg.float32))(x, soft).dtype == tg.float64


def test_huber_delta_must_be_a_real_number():
    with pytest.raises(TypeError, match="delta must be a float or int, got: <class 'complex'>"):
        nn.HuberLoss(delta=1.0 + 0.0j)


def test_against_torch_modules(rng):
    torch = pytest.importorskip("torch")
    for name, kwargs, x, t in cases(rng):
        mine = getattr(nn, name)(**{k: tg_tensor(v) if isinstance(v, np.ndarray) else v
                                    for k, v in kwargs.items()})
        theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray)
                                            else v for k, v in kwargs.items()})
        np.testing.assert_allclose(host(mine(tg_tensor(x), tg_tensor(t))),
                                   theirs(torch.tensor(x), torch.tensor(t)).cpu().numpy(),
                                   rtol=1e-10, err_msg=name)

"""The Dropout module: scaling in training mode, the identity in eval mode, PyTorch's repr."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen import nn


def test_train_and_eval():
    drop = nn.Dropout(0.25)
    assert repr(drop) == "Dropout(p=0.25, inplace=False)"
    y = host(drop(tg.ones(100, 100)))
    assert abs((y == 0).mean() - 0.25) < 0.03
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    drop.eval()
    x = tg.randn(4, 4)
    assert drop(x) is x


def test_bad_probability():
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)

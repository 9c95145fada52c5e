"""tinygen.backends: PyTorch scripts' backend switches are accepted, read back, and imported the
ways scripts import them."""

import importlib

import tinygen


def test_flags_are_settable_and_read_back():
    cudnn = importlib.import_module("tinygen.backends.cudnn")      # import torch.backends.cudnn
    cudnn.benchmark = True
    tinygen.backends.cuda.matmul.allow_tf32 = True
    tinygen.backends.cudnn.allow_tf32 = True
    try:
        assert tinygen.backends.cudnn.benchmark is True
        assert tinygen.backends.cuda.matmul.allow_tf32 is True
    finally:
        cudnn.benchmark = False
        tinygen.backends.cuda.matmul.allow_tf32 = False
    assert not cudnn.is_available() and not tinygen.backends.mps.is_available()
    assert tinygen.backends.cuda.is_built() == tinygen.cuda.is_available()

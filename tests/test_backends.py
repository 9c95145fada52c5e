"""tinygen.backends and tg.compile: PyTorch scripts' backend switches are accepted, read back and
imported the ways scripts import them; compile hands back what it is given."""

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


def test_compile_returns_what_it_is_given():
    model = tinygen.nn.Linear(2, 3)
    assert tinygen.compile(model) is model
    assert tinygen.compile(mode="max-autotune")(model) is model

    @tinygen.compile(fullgraph=True)
    def double(x):
        return 2 * x
    assert double(tinygen.tensor(1.5)).item() == 3.0

"""PyTorch's ModuleInfo database run through tinygen.nn: every module input must give the
same state_dict keys, outputs, buffers and float64 gradients as torch, and every module
error input must raise the same builtin error type."""

import pytest

from tests.differential.moduleinfo import check_module, check_module_errors, modules_where

DIVERGES = {}
ERRORS_DIVERGE = {}


@pytest.mark.parametrize("info", modules_where(lambda name: True, DIVERGES))
def test_module_matches_torch(info):
    check_module(info)


@pytest.mark.parametrize("info", modules_where(lambda name: True, ERRORS_DIVERGE))
def test_module_errors_match_torch(info):
    check_module_errors(info)

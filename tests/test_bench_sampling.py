"""benchmarks/sampling.py: both sides time every row on a tiny model, the PyTorch twin is the
same model (parameter for parameter), and the table's ratios are the times' ratios."""


import pytest

from tests.helpers import benchmark_script
from tinygen.models import GPT, GPTConfig

TINY = dict(block_size=8, n_layer=1, n_head=2, n_embd=16)


@pytest.fixture(scope="module")
def bench():
    return benchmark_script("sampling")


def test_tinygen_side_times_each_row(bench):
    seconds = bench.tinygen_rows(TINY, rounds=1)
    assert sorted(seconds) == sorted(f"{where}|tinygen, {cache}"
                                     for where in ("within the context", "past the context")
                                     for cache in ("KV cache", "no cache"))
    assert all(s > 0 for s in seconds.values())


def test_torch_twin_is_the_same_model(bench):
    torch = pytest.importorskip("torch")
    generate, params = bench.torch_generate(torch, TINY)
    ours = GPT(GPTConfig(bench.VOCAB_SIZE, **TINY)).num_parameters(non_embedding=False)
    assert sum(p.numel() for p in params) == ours
    assert tuple(generate(torch.zeros((1, 1), dtype=torch.long), 12).shape) == (1, 13)


def test_table_shows_tokens_per_second_and_ratios(bench):
    seconds = {"within the context|tinygen, KV cache": 0.07,
               "within the context|tinygen, no cache": 0.7,
               "past the context|tinygen, KV cache": 0.8,
               "past the context|tinygen, no cache": 1.6}
    lines = bench.table(TINY, seconds).splitlines()
    assert lines[2] == "| 7 (within the context) | tinygen, KV cache | 100 | 10.00x |"
    assert lines[5] == "| 16 (past the context) | tinygen, no cache | 10 | 1.00x |"

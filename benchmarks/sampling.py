"""GPT sampling speed: new tokens per second with and without the key/value cache, at the gpt
recipe's default sizes, and the same model in PyTorch without a cache (nanoGPT's ``generate``)
when PyTorch is installed.

    python benchmarks/sampling.py            # print a markdown table
    python benchmarks/sampling.py --write    # also record it in benchmarks/RESULTS.md

Each row generates from a one-token prompt, greedily, in batches of 1: ``block_size - 1`` new
tokens fill the context exactly (where the cache saves the most: the uncached model re-runs
the whole context for every token), and ``2 * block_size`` tokens go past it (the window then
slides, every position moves and the cache is rebuilt each step: no saving is expected).
Each library runs in a process of its own (see ``benchmarks/layers.py``: two OpenMP runtimes in
one process slow each other down); every figure is the best of several rounds.
"""

import argparse
import json
from pathlib import Path

from tinygen.bench.results import (
    best_median_s, installed_torch, machine, publish, run_child, run_timed)

SECTION = "## sampling"
RESULTS = Path(__file__).with_name("RESULTS.md")
VOCAB_SIZE = 100          # about the standard-library text's character count


def sizes():
    """The GPT sizes of the gpt recipe's defaults."""
    from tinygen.train.recipes.gpt import GPTRecipe
    keys = ("block_size", "n_layer", "n_head", "n_embd")
    return {key: GPTRecipe.defaults[key] for key in keys}


def token_counts(config):
    return {"within the context": config["block_size"] - 1,
            "past the context": 2 * config["block_size"]}


def tinygen_rows(config, rounds):
    """{row: seconds per generate call} for the tinygen model, with and without the cache."""
    import tinygen as tg
    from tinygen.models import GPT, GPTConfig
    tg.manual_seed(0)
    model = GPT(GPTConfig(VOCAB_SIZE, dropout=0.0, **config)).eval()
    prompt = tg.tensor([[0]])
    times = {}
    for where, n in token_counts(config).items():
        for use_cache in (True, False):
            def call():
                model.generate(prompt, n, temperature=0.0, use_cache=use_cache)
            name = f"{where}|tinygen, {'KV cache' if use_cache else 'no cache'}"
            times[name] = best_median_s(call, rounds=rounds, calls=2, warmup=1)
    return times


def torch_generate(torch, config):
    """nanoGPT's model and uncached ``generate(idx, n)`` (greedy) in PyTorch at the config's
    sizes; returns the function and the model's parameters."""
    nn, F = torch.nn, torch.nn.functional
    C, nh, block_size = config["n_embd"], config["n_head"], config["block_size"]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C))

        def forward(self, x):
            B, T, _ = x.shape
            q, k, v = self.qkv(self.ln_1(x)).reshape(B, T, 3, nh, C // nh).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.mlp(self.ln_2(x))

    wte, wpe = nn.Embedding(VOCAB_SIZE, C), nn.Embedding(block_size, C)
    blocks = nn.Sequential(*[Block() for _ in range(config["n_layer"])], nn.LayerNorm(C))

    @torch.no_grad()
    def generate(idx, n):                      # the whole window again for every token
        for _ in range(n):
            window = idx[:, -block_size:]
            x = blocks(wte(window) + wpe(torch.arange(window.shape[1])))
            logits = x[:, -1] @ wte.weight.T                        # the tied head
            idx = torch.cat([idx, logits.argmax(-1, keepdim=True)], 1)
        return idx

    return generate, [*wte.parameters(), *wpe.parameters(), *blocks.parameters()]


def torch_rows(config, rounds):
    """{row: seconds per generate call} for the same model in PyTorch, without a cache."""
    import torch
    torch.manual_seed(0)
    generate, _ = torch_generate(torch, config)
    prompt = torch.zeros((1, 1), dtype=torch.long)
    return {f"{where}|PyTorch, no cache": best_median_s(lambda: generate(prompt, n),
                                                        rounds=rounds, calls=2, warmup=1)
            for where, n in token_counts(config).items()}


def measure_apart(side, config, rounds):
    """``tinygen_rows`` or ``torch_rows`` in a fresh process."""
    return run_child(__file__, ["--side", side, "--rounds", str(rounds)])


def table(config, seconds):
    """Tokens per second per row, and each row's speed over tinygen's uncached one."""
    counts = token_counts(config)
    lines = ["| new tokens (batch 1, greedy) | model | tokens/s | x tinygen, no cache |",
             "|---|---|---:|---:|"]
    for where, n in counts.items():
        base = seconds[f"{where}|tinygen, no cache"]
        for name, s in seconds.items():
            row_where, model = name.split("|")
            if row_where == where:
                lines.append(f"| {n} ({where}) | {model} | {n / s:.0f} | {base / s:.2f}x |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description="GPT sampling tokens/s, with and without "
                                                 "the KV cache, and PyTorch's.")
    parser.add_argument("--write", action="store_true", help=f"record it in {RESULTS.name}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--side", choices=("tinygen", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = sizes()
    if args.side:                                   # a child process of measure_apart
        rows = tinygen_rows if args.side == "tinygen" else torch_rows
        print(json.dumps(rows(config, args.rounds)))
        return
    torch = installed_torch()
    seconds = measure_apart("tinygen", config, args.rounds)
    if torch is not None:
        seconds.update(measure_apart("torch", config, args.rounds))
    shown = ", ".join(f"{k}={v}" for k, v in config.items())
    section = (f"{SECTION}\n\n{machine(torch)}\n- model: the gpt recipe's defaults ({shown}, "
               f"vocab_size={VOCAB_SIZE})\n\n{table(config, seconds)}\n")
    publish(section, RESULTS, args.write)


if __name__ == "__main__":
    run_timed(main)

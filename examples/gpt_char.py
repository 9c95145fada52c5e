"""Train a character-level GPT on a text and let it write: the training loop of nanoGPT's
shakespeare_char, ported to tinygen.

    python examples/gpt_char.py                   # Python's own standard-library sources
    python examples/gpt_char.py --text input.txt  # any UTF-8 text, e.g. tiny Shakespeare
    python examples/gpt_char.py --smoke           # a few steps of a tiny model, for CI

Every character of the text gets an id; the model reads block_size characters and predicts
each next one (cross entropy, in nats per character; divided by ln 2, bits per character).
The first 90% of the text trains, the last 10% validates. At the end the model continues a
newline, one character at a time, reusing its key/value cache.
"""

import argparse
import math

import numpy as np

import tinygen as tg
from tinygen.data import CharVocab, load_text
from tinygen.models import GPT, GPTConfig


def parse_args():
    parser = argparse.ArgumentParser(description="character-level GPT with tinygen")
    parser.add_argument("--text", default=None, help="a UTF-8 text file (default: a fixed "
                        "selection of Python's standard-library sources)")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--sample-chars", type=int, default=500)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--smoke", action="store_true", help="30 steps of a tiny model")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.batch_size, args.block_size, args.eval_every = 30, 8, 32, 10
        args.n_layer, args.n_head, args.n_embd, args.sample_chars = 1, 2, 32, 100
        args.lr = 1e-2
    return args


def get_batch(data, batch_size, block_size, rng, device):
    """batch_size random windows of data: inputs x and targets y = x shifted by one."""
    starts = rng.integers(0, len(data) - block_size, size=batch_size)
    rows = data[starts[:, None] + np.arange(block_size + 1)]
    return tg.tensor(rows[:, :-1], device=device), tg.tensor(rows[:, 1:], device=device)


def estimate_loss(model, data, args, batches=8):
    """Mean loss on fixed random windows of ``data``, without dropout or gradients."""
    rng = np.random.default_rng(1234)                   # the same windows at every evaluation
    model.eval()
    with tg.no_grad():
        losses = [model(*get_batch(data, args.batch_size, args.block_size, rng,
                                   args.device))[1].item() for _ in range(batches)]
    model.train()
    return float(np.mean(losses))


def main():
    args = parse_args()
    tg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    text = load_text(args.text)
    if args.smoke:
        text = text[:20000]                             # a small slice of the data
    vocab = CharVocab(text)
    data = vocab.encode(text)
    n = int(0.9 * len(data))
    train_data, val_data = data[:n], data[n:]
    print(f"{len(text):,} characters, {vocab.size} distinct")

    config = GPTConfig(vocab_size=vocab.size, block_size=args.block_size, n_layer=args.n_layer,
                       n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout)
    model = GPT(config).to(args.device)
    print(f"{model.num_parameters():,} parameters")

    # Weight decay on the matrices only; biases and LayerNorm gains are left alone (nanoGPT).
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = tg.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                {"params": no_decay, "weight_decay": 0.0}],
                               lr=args.lr, betas=(0.9, 0.99))
    warmup = max(1, args.steps // 10)

    def lr_factor(step):                                # linear warm-up, cosine decay to 10%
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, args.steps - warmup)
        return 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress)))
    scheduler = tg.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)

    for step in range(args.steps + 1):
        if step % args.eval_every == 0 or step == args.steps:
            val = estimate_loss(model, val_data, args)
            print(f"step {step:5d}  train loss {estimate_loss(model, train_data, args):.4f}  "
                  f"val loss {val:.4f}  ({val / math.log(2):.3f} bits/char)")
        if step == args.steps:
            break
        x, y = get_batch(train_data, args.batch_size, args.block_size, rng, args.device)
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()

    prompt = tg.tensor(vocab.encode("\n" if "\n" in vocab.chars else text[0])[None, :],
                       device=args.device)
    out = model.generate(prompt, args.sample_chars, temperature=args.temperature)
    print("--- sample ---")
    print(vocab.decode(out[0]))


if __name__ == "__main__":
    main()

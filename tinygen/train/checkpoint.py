"""Training checkpoints: everything a run needs to continue exactly, in one safetensors file.

The file (written atomically by ``tg.save``, no pickle) holds::

    {"format": "tinygen-train", "recipe": "gan", "step": 1000, "config": {...},
     "modules": {"generator": state_dict, ...}, "optimizers": {"generator": state_dict, ...},
     "rng": tg's CPU generator state, "state": recipe.state, "history": {...}}

Module weights are kept under their plain ``state_dict()`` names, which do not depend on the
kernel mode (fused or reference) or the device, so any checkpoint loads into a freshly built
model. CuPy generators cannot export their state: a CUDA run is resumed with its CUDA generator
reseeded from ``seed * 1000003 + step``, which repeats a resumed run but not the uninterrupted one.
"""

import os
import shutil
from pathlib import Path

from tinygen import backend
from tinygen.serialization import atomic_replace, load, save

FORMAT = "tinygen-train"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, damaged, or not for the model being built."""


def save_checkpoint(path, recipe, step, history):
    """Write the training state of ``recipe`` after ``step`` steps to ``path``."""
    save({
        "format": FORMAT,
        "recipe": recipe.name,
        "step": int(step),
        "config": json_config(recipe.config),
        "modules": {name: m.state_dict() for name, m in recipe.modules.items()},
        "optimizers": {name: opt.state_dict() for name, opt in recipe.optimizers.items()},
        "rng": backend.get_rng_state("cpu"),
        "state": recipe.state,
        "history": history,
    }, path)
    return Path(path)


def link_latest(path, latest):
    """Make ``latest`` the file ``path`` is, without writing it again: a hard link made under a
    temporary name, then renamed over ``latest`` (``atomic_replace``: a reader sees the old or
    the new checkpoint, never a partial one). A copy where the file system has no hard links."""
    with atomic_replace(latest) as tmp:
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
    return Path(latest)


def json_config(config):
    """``config`` with paths as strings, as checkpoints and ``metrics.json`` keep it."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in config.items()}


def load_checkpoint(path, recipe_name=None, map_location="cpu"):
    """Read a training checkpoint; ``recipe_name`` checks that it belongs to that family.

    Raises ``CheckpointError`` with what to do when the file is missing, damaged, not a
    training checkpoint, or one of another family.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: train first (tinygen train "
                              f"{recipe_name or '<family>'}) or pass the path of an existing "
                              f"checkpoint.safetensors")
    try:
        checkpoint = load(path, map_location=map_location)
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {path} is damaged or not a tinygen file: {error}") \
            from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not a training checkpoint of "
                              f"`tinygen train` (use tg.load for other files)")
    saved = checkpoint["recipe"]
    if recipe_name is not None and saved != recipe_name:
        raise CheckpointError(f"{path} is a checkpoint of {saved!r}, not {recipe_name!r}: name "
                              f"{saved} on the command line, or pass a {recipe_name} checkpoint")
    return checkpoint


def restore(recipe, checkpoint, training=True):
    """Load ``checkpoint`` into a freshly built ``recipe``: its state, then the modules'
    weights; with ``training``, also the optimizers and tg's random generators."""
    recipe.load_state(checkpoint["state"])
    for name, module in recipe.modules.items():
        saved = checkpoint["modules"].get(name)
        if saved is None:
            raise CheckpointError(f"the checkpoint has no weights for module {name!r} (it has "
                                  f"{', '.join(checkpoint['modules'])})")
        try:
            module.load_state_dict(saved)
        except (KeyError, ValueError, RuntimeError) as error:
            raise CheckpointError(f"the checkpoint's {name!r} does not fit the model built from "
                                  f"this configuration (trained with other sizes?): {error}") \
                from error
    if not training:
        return
    for name, optimizer in recipe.optimizers.items():
        if name not in checkpoint["optimizers"]:
            raise CheckpointError(f"the checkpoint has no state for optimizer {name!r}")
        optimizer.load_state_dict(checkpoint["optimizers"][name])
    if recipe.device.type != "cpu":
        backend.manual_seed(recipe.config["seed"] * 1_000_003 + checkpoint["step"])
    backend.set_rng_state(checkpoint["rng"], "cpu")

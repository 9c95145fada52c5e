"""What a trainable model family is, for ``tinygen train`` and ``tinygen sample``: a ``Recipe``.

A recipe bundles the modules, the optimizers, the data and one optimisation step of a family;
the trainer (``tinygen/train/trainer.py``) owns everything around it: seeding, the loop,
logs, evaluation, samples, checkpoints and resuming. A family registers its recipe by name::

    @register("gan")
    class GANRecipe(Recipe):
        defaults = dict(steps=3000, batch_size=128, lr=2e-4, eval_every=500,
                        checkpoint_every=1000, latent_dim=100)

        def __init__(self, config, device):
            super().__init__(config, device)
            self.modules = {"generator": G, "discriminator": D}
            self.optimizers = {"generator": opt_g, "discriminator": opt_d}

        def load_data(self): self.shuffle_over(images)    # sets the loader, batches_per_epoch
        def batches(self, start): ...
        def train_step(self, batch): return {"loss_d": ..., "loss_g": ...}
        def evaluate(self): return {"fd": ...}
        def sample(self, n, **options): return images   # (n, 28, 28) floats in [0, 1]
"""

import abc
import math

_REGISTRY = {}


class Recipe(abc.ABC):
    """One model family's training recipe; subclass it and decorate with ``@register(name)``.

    Class attributes:
        ``name``: the registered name (set by ``register``).
        ``defaults``: every hyperparameter with its default. Each key becomes a typed CLI flag
            (``latent_dim=100`` gives ``--latent-dim INT``); values must be int, float, str or
            bool. The keys ``steps``, ``batch_size``, ``lr``, ``eval_every`` and
            ``checkpoint_every`` are expected by the trainer and the command.
        ``positive``: the numeric defaults that must be > 0 (sizes, counts, the learning
            rate); every other number must be >= 0. ``check_config`` enforces both, as does
            each flag's argparse type, so a bad value is refused before anything runs.
        ``data_options``: which of the run options ``data_dir`` (MNIST) and ``text`` (a text
            file) the family reads; the command offers only those flags.
        ``sample_count``: how many samples the trainer asks ``sample`` for at each evaluation,
            and the default ``--n`` of ``tinygen sample`` (images: a grid; text: characters).

    Attributes set by ``__init__``:
        ``config``: a dict with every default, plus ``seed``, ``data_dir``, ``text`` (a path or
            None) and ``out`` (the run directory, a ``pathlib.Path``), as given on the command
            line; ``device``: the ``tg.device`` to train on.
        ``modules``: name -> ``nn.Module``; checkpoints keep each one's ``state_dict()`` under
            its name, so any checkpoint loads into a freshly built model.
        ``optimizers``: name -> ``tg.optim.Optimizer`` (their state is checkpointed too).
        ``state``: extra JSON-able values to checkpoint (e.g. a vocabulary's characters);
            the trainer restores it before the recipe is used again, see ``load_state``.
        ``batches_per_epoch``: batches in one pass over the training data, or None when the
            data has no epochs; ``--epochs`` needs it (set it in ``load_data``).
    """

    name = None
    defaults = {}
    positive = ("steps", "batch_size", "lr")
    data_options = ("data_dir", "text")
    sample_count = 64

    def __init__(self, config, device):
        self.check_config(config)
        self.config = config
        self.device = device
        self.modules = {}
        self.optimizers = {}
        self.state = {}
        self.batches_per_epoch = None

    @classmethod
    def check_config(cls, config):
        """Raise ValueError naming the option when a value of ``config`` cannot work (see
        ``positive``). ``__init__`` calls it, so a bad value (a sampling temperature, say)
        stops a run before it trains, not at its final evaluation. Override to add a family's
        own rules, calling this."""
        for key, default in cls.defaults.items():
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                wanted = number_error(config[key], type(default), key in cls.positive)
                if wanted:
                    raise ValueError(f"{cls.name}: {key} must be {wanted}, got "
                                     f"{config[key]!r}")

    def load_data(self):
        """Read the training and held-out data that ``batches`` and ``evaluate`` use. The
        trainer calls it once, after ``__init__``; ``tinygen sample`` never does, so sampling
        a checkpoint needs only the checkpoint, not the data it was trained on."""

    @abc.abstractmethod
    def batches(self, start):
        """An endless iterator over training batches from global step ``start`` on; a pure
        function of ``(config["seed"], step)``, so a resumed run sees the same batches."""

    @abc.abstractmethod
    def train_step(self, batch):
        """One optimisation step of every optimizer on ``batch``; returns name -> float losses
        (for the progress bar, the logs and the loss curves)."""

    def shuffle_over(self, *arrays):
        """Train on ``arrays`` (images, and labels if any; same first dimension) in shuffled
        batches of ``batch_size`` without replacement, moved to the device: sets ``self.loader``
        (whose ``batches(start)`` resumes exactly) and ``batches_per_epoch``."""
        from tinygen.data import DataLoader, TensorDataset

        config = self.config
        if config["batch_size"] > len(arrays[0]):
            raise ValueError(f"{self.name}: batch_size {config['batch_size']} is larger than the "
                             f"{len(arrays[0])} training images")
        self.loader = DataLoader(TensorDataset(*arrays), batch_size=config["batch_size"],
                                 shuffle=True, drop_last=True, seed=config["seed"],
                                 device=self.device)
        self.batches_per_epoch = len(self.loader)

    def evaluate(self):
        """Held-out metrics, name -> float, computed under ``tg.no_grad()`` in eval mode (train
        mode restored after). It must not draw from tg's global generator (use a fixed
        ``np.random.default_rng``), so evaluating does not change the training run."""
        return {}

    def sample(self, n, **options):
        """``n`` samples: images as an ``(n, 28, 28)`` float array in [0, 1], or text as a
        ``str`` (options: ``prompt``, ``temperature``, ``top_k``), drawn in the mode the family
        samples in (eval mode, restored after, for most). None: this family does not generate
        (a classifier); the trainer then writes no samples."""
        return None

    def load_state(self, state):
        """Restore ``self.state`` from a checkpoint (before the modules' weights are loaded).
        Override to rebuild what depends on it, e.g. a vocabulary from its characters."""
        self.state = dict(state)

    @classmethod
    def generates(cls):
        """Whether this family makes samples (``tinygen sample`` lists only those that do)."""
        return cls.sample is not Recipe.sample


def number_error(value, kind, positive):
    """None when ``value`` is a finite ``kind`` (int, or float, which accepts ints too) that is
    > 0 (``positive``) or >= 0; else what it should be, e.g. "a positive integer"."""
    noun = "integer" if kind is int else "number"
    wanted = f"a positive {noun}" if positive else f"{'an' if kind is int else 'a'} {noun} >= 0"
    kinds = (int,) if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        return wanted
    return wanted if value < 0 or (positive and value == 0) else None


def register(name):
    """Class decorator: make a ``Recipe`` subclass available as ``tinygen train <name>``."""
    def decorate(cls):
        if not (isinstance(cls, type) and issubclass(cls, Recipe)):
            raise TypeError(f"@register({name!r}) decorates Recipe subclasses, got {cls!r}")
        known = _REGISTRY.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"recipe name {name!r} is already taken by {known.__module__}."
                             f"{known.__qualname__}")
        for key, value in cls.defaults.items():
            if not isinstance(value, (bool, int, float, str)):
                raise TypeError(f"recipe {name!r}: default {key}={value!r} is a "
                                f"{type(value).__name__}; defaults must be int, float, str or "
                                f"bool (each becomes a command-line flag)")
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return decorate


def recipe_names():
    """Every registered recipe name in registration order, those that generate first."""
    import tinygen.train.recipes  # noqa: F401  (registers the built-in families)
    return sorted(_REGISTRY, key=lambda name: not _REGISTRY[name].generates())


def get_recipe(name):
    """The ``Recipe`` class registered as ``name``; ValueError naming the choices otherwise."""
    names = recipe_names()
    if name not in _REGISTRY:
        raise ValueError(f"unknown model family {name!r}; choose one of: {', '.join(names)}")
    return _REGISTRY[name]

"""The ``gpt`` recipe: a character-level GPT trained on a text (``tinygen train gpt``).

The text (``--text PATH``, else the standard-library selection of ``tinygen.data.load_text``)
becomes character ids; the first 90% train, the last 10% validate. A batch is ``batch_size``
random windows of ``block_size + 1`` characters, the model predicting each next character.
AdamW with weight decay on the matrices only (as nanoGPT), a linear warm-up, then a cosine
decay to a tenth of ``lr``, gradients clipped to norm 1. Metrics: validation loss in nats per
character and bits per character (loss / ln 2) on a fixed set of validation windows.
"""

import math
from itertools import count
from pathlib import Path

import numpy as np

from tinygen.autograd.grad_mode import no_grad
from tinygen.creation import tensor
from tinygen.data import CharVocab, load_text, split_ids
from tinygen.models.gpt import GPT, GPTConfig
from tinygen.nn.utils import clip_grad_norm_
from tinygen.optim import AdamW
from tinygen.train.recipe import Recipe, register

EVAL_SEED = 1234          # the validation windows, the same for every run


@register("gpt")
class GPTRecipe(Recipe):
    """A GPT on characters; ``state["chars"]`` is its vocabulary, so a checkpoint rebuilds it."""

    defaults = dict(steps=4000, batch_size=16, lr=3e-3, eval_every=1000, checkpoint_every=1000,
                    n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0,
                    weight_decay=0.1, warmup_steps=100, eval_windows=128, temperature=0.8,
                    top_k=0)
    positive = Recipe.positive + ("n_layer", "n_head", "n_embd", "block_size", "eval_windows")
    data_options = ("text",)
    sample_count = 500            # characters per sample

    def __init__(self, config, device):
        super().__init__(config, device)
        self.text = self.vocab = None     # the vocabulary comes from the text (``load_data``)
                                          # or from a checkpoint (``load_state``)

    def load_data(self):
        path = self.config.get("text")
        if path is not None and Path(path).is_dir():
            raise ValueError(f"gpt: --text {path} is a directory; give a UTF-8 text file")
        self.text = load_text(path)
        self._build(CharVocab(self.text))     # all of the text's characters, validation's too

    def _build(self, vocab):
        """The vocabulary, the data as its ids (when there is a text: not when it only
        samples), the model and its optimizer (again when a checkpoint brings another
        vocabulary)."""
        config = self.config
        self.vocab = vocab
        self.state = {"chars": vocab.chars}
        self.train_ids = self.val_ids = None
        if self.text is not None:
            if len(self.text) < 2:
                raise self._too_short(len(self.text))
            self.train_ids, self.val_ids = split_ids(vocab.encode(self.text), 0.1)
            self._val_offsets = self._offsets(np.random.default_rng(EVAL_SEED), self.val_ids,
                                              config["eval_windows"])
        self.model = GPT(GPTConfig(vocab.size, config["block_size"], config["n_layer"],
                                   config["n_head"], config["n_embd"], config["dropout"]))
        self.model.to(self.device)
        matrices = [p for p in self.model.parameters() if p.ndim >= 2]
        others = [p for p in self.model.parameters() if p.ndim < 2]
        self.optimizer = AdamW([{"params": matrices, "weight_decay": config["weight_decay"]},
                                {"params": others, "weight_decay": 0.0}], lr=config["lr"],
                               betas=(0.9, 0.99))
        self.modules = {"model": self.model}
        self.optimizers = {"model": self.optimizer}

    def load_state(self, state):
        """Take the checkpoint's vocabulary; a ValueError when the text to train on has
        characters outside it (the model has no embedding for them)."""
        vocab = CharVocab.from_chars(state["chars"])
        if self.vocab is not None and vocab.chars == self.vocab.chars:
            return
        missing = sorted(set(self.text or "") - set(vocab.chars))
        if missing:
            shown = "".join(missing[:10]) + ("..." if len(missing) > 10 else "")
            raise ValueError(f"gpt: the text ({self._text_name()}) has {len(missing)} "
                             f"character(s) that the checkpoint's vocabulary lacks ({shown!r}); "
                             f"resume with the text the run was trained on (--text)")
        self._build(vocab)

    def _text_name(self):
        return self.config.get("text") or "the default standard-library selection"

    def _offsets(self, rng, ids, n):
        """``n`` random window starts in ``ids``, each window block_size + 1 long."""
        block_size = self.config["block_size"]
        if len(ids) <= block_size:
            raise self._too_short(len(ids))
        return rng.integers(0, len(ids) - block_size, size=n)

    def _too_short(self, n):
        return ValueError(f"gpt: the text {self._text_name()} is too short: 90% of it trains "
                          f"and 10% validates, and each part needs more than --block-size "
                          f"{self.config['block_size']} characters (one has {n}); give a "
                          f"longer text (--text) or a smaller --block-size")

    def _windows(self, ids, offsets):
        """(x, y) of shape (len(offsets), block_size): y is x shifted by one character."""
        rows = offsets[:, None] + np.arange(self.config["block_size"] + 1)
        chunk = ids[rows]
        return (tensor(chunk[:, :-1], device=self.device),
                tensor(chunk[:, 1:], device=self.device))

    def batches(self, start):
        """(x, y, step) from step ``start`` on; the windows of a step depend only on
        (seed, step)."""
        for step in count(start):
            rng = np.random.default_rng((self.config["seed"], step))
            offsets = self._offsets(rng, self.train_ids, self.config["batch_size"])
            yield (*self._windows(self.train_ids, offsets), step)

    def learning_rate(self, step):
        """Linear warm-up over warmup_steps, then cosine decay to lr / 10 at the last step."""
        lr, warmup, steps = self.config["lr"], self.config["warmup_steps"], self.config["steps"]
        if step < warmup:
            return lr * (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, steps - warmup))
        return lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))

    def train_step(self, batch):
        x, y, step = batch
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step)
        _, loss = self.model(x, y)
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return {"loss": loss.item()}

    def evaluate(self):
        """Mean validation loss (nats per character) and bits per character."""
        was_training = self.model.training
        self.model.eval()
        total = 0.0
        try:
            with no_grad():
                for chunk in np.array_split(self._val_offsets,
                                            max(1, len(self._val_offsets) // 32)):
                    _, loss = self.model(*self._windows(self.val_ids, chunk))
                    total += loss.item() * len(chunk)
        finally:
            self.model.train(was_training)
        val_loss = total / len(self._val_offsets)
        return {"val_loss": val_loss, "val_bpc": val_loss / math.log(2)}

    def sample(self, n, prompt=None, temperature=None, top_k=None):
        """``prompt`` (default: a newline, or the vocabulary's first character when the text
        has none) followed by ``n`` generated characters; temperature and top_k default to the
        config's (top_k 0 = all). Draws from tg's generator (``tg.manual_seed``; the trainer
        keeps its state around evaluations)."""
        if prompt is None:
            prompt = "\n" if "\n" in self.vocab.chars else self.vocab.chars[0]
        if not prompt:
            raise ValueError("gpt: the prompt must hold at least one character")
        temperature = self.config["temperature"] if temperature is None else temperature
        top_k = self.config["top_k"] if top_k is None else top_k
        idx = tensor(self.vocab.encode(prompt)[None, :], device=self.device)
        out = self.model.generate(idx, n, temperature=temperature, top_k=top_k or None)
        return self.vocab.decode(out[0])

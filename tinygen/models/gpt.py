"""A GPT: a decoder-only Transformer language model in the style of nanoGPT (Karpathy) and
GPT-2 (Radford et al., 2019).

Token and learned position embeddings, dropout, ``n_layer`` pre-LayerNorm blocks (causal
self-attention, then a 4x GELU MLP, each added back to the residual stream), a final LayerNorm
and a linear head whose weight IS the token embedding (weight tying: one Parameter under the
two state-dict keys ``transformer.wte.weight`` and ``lm_head.weight``, as in PyTorch).
B batch, T time, C = n_embd channels, V vocab_size.

``generate`` keeps a key/value cache per layer: the prompt runs once, then each new token
attends over the cache instead of re-running the whole context.
"""

import math
from dataclasses import dataclass

from tinygen import creation, dtypes
from tinygen.autograd.grad_mode import no_grad
from tinygen.nn import functional as F
from tinygen.nn import init
from tinygen.nn.activation import GELU
from tinygen.nn.attention import CausalSelfAttention, KVCache
from tinygen.nn.containers import ModuleDict, ModuleList
from tinygen.nn.dropout import Dropout
from tinygen.nn.embedding import Embedding
from tinygen.nn.linear import Linear
from tinygen.nn.module import Module
from tinygen.nn.normalization import LayerNorm
from tinygen.ops.random import multinomial
from tinygen.ops.shape import cat
from tinygen.ops.sort import topk


@dataclass
class GPTConfig:
    """Sizes of a GPT. ``block_size`` is the longest context (number of learned positions);
    ``bias`` adds biases to the Linear and LayerNorm layers (GPT-2 has them)."""
    vocab_size: int
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.1
    bias: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig: {name} must be a positive int, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd={self.n_embd} is not divisible by "
                             f"n_head={self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout}")


class MLP(Module):
    """x -> Linear(C, 4C) -> GELU -> Linear(4C, C) -> Dropout: the position-wise feed-forward."""

    def __init__(self, config):
        super().__init__()
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = GELU()
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(Module):
    """One pre-LayerNorm Transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x))."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config.n_embd, config.n_head, config.dropout,
                                        config.bias)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, kv_cache=None):
        x = x + self.attn(self.ln_1(x), kv_cache)
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """A GPT language model over token ids 0 .. vocab_size - 1.

    ``forward(idx (B, T) int64, targets=None)`` gives ``(logits (B, T, V), loss)``, the loss
    being the mean cross-entropy over all B * T positions (None without targets); T may be at
    most ``block_size``.

    Initialisation (GPT-2): every Linear and Embedding weight ~ N(0, 0.02), biases 0,
    LayerNorms 1 and 0, and the two projections that write into the residual stream
    (``attn.proj``, ``mlp.c_proj``) ~ N(0, 0.02 / sqrt(2 n_layer)), so the residual's variance
    does not grow with depth.
    """

    def __init__(self, config):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"GPT expects a GPTConfig, got {type(config).__name__}")
        self.config = config
        self.transformer = ModuleDict(dict(
            wte=Embedding(config.vocab_size, config.n_embd),
            wpe=Embedding(config.block_size, config.n_embd),
            drop=Dropout(config.dropout),
            h=ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight          # weight tying
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * config.n_layer)
        for name, param in self.named_parameters():
            if name.endswith(("attn.proj.weight", "mlp.c_proj.weight")):
                init.normal_(param, mean=0.0, std=residual_std)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, Linear):
            init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, Embedding):
            init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self, non_embedding=True):
        """Number of parameters (the tied one once); without the position embeddings unless
        ``non_embedding=False`` (the token embedding counts: it is also the output layer)."""
        total = sum(p.numel() for p in self.parameters())
        return total - self.transformer.wpe.weight.numel() if non_embedding else total

    @staticmethod
    def _check_ids(idx, name):
        """Shape and dtype only: the token embedding checks that every id is in the vocabulary
        (an IndexError naming an id outside it)."""
        if idx.ndim != 2 or idx.dtype.kind not in "iu":
            raise ValueError(f"GPT: {name} must be a 2-D integer tensor (B, T) of token ids, got "
                             f"shape {tuple(idx.shape)} and dtype {idx.dtype}")
        if idx.shape[0] == 0 or idx.shape[1] == 0:
            raise ValueError(f"GPT: {name} needs at least one sequence of at least one token, "
                             f"got shape {tuple(idx.shape)}")

    def forward(self, idx, targets=None):
        self._check_ids(idx, "idx")
        T = idx.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"GPT: cannot forward a sequence of length {T}, block_size is only "
                             f"{self.config.block_size} (crop it to idx[:, -block_size:])")
        logits = self.lm_head(self._hidden(idx))                              # (B, T, V)
        if targets is None:
            return logits, None
        if tuple(targets.shape) != tuple(idx.shape):
            raise ValueError(f"GPT: targets must have idx's shape {tuple(idx.shape)}, got "
                             f"{tuple(targets.shape)}")
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    def _hidden(self, idx, kv_caches=None):
        """The final LayerNorm's output (B, T, C) for ``idx``; with caches, idx continues the
        sequences they hold, so its positions start after theirs."""
        start = 0 if kv_caches is None else len(kv_caches[0])
        pos = creation.arange(start, start + idx.shape[1], dtype=dtypes.int64,
                              device=idx.device)                                      # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if kv_caches is None else kv_caches[i])
        return self.transformer.ln_f(x)

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, use_cache=True,
                 generator=None):
        """Continue each row of ``idx`` (B, T) by ``max_new_tokens`` tokens; returns
        (B, T + max_new_tokens).

        Each token is drawn from softmax(logits / temperature) restricted to the ``top_k`` most
        likely tokens (all when None; top_k above vocab_size means all), with the device's
        random generator (``tg.manual_seed``), or ``generator`` (a numpy/cupy Generator, as in
        ``tg.multinomial``) when given; ``temperature=0`` picks the most likely token (greedy).
        Runs without gradients and in eval mode (no dropout), restoring the mode after.

        The model sees at most ``block_size`` tokens: each step conditions on the last
        ``block_size`` ones (a longer prompt is cropped the same way). With ``use_cache`` the
        prompt runs once and each new token attends over the cached keys and values; once the
        context is full, the window slides, every position moves, and the cache is rebuilt from
        the last ``block_size`` tokens at each step (as costly as no cache). Cached and
        uncached generation therefore condition on the same tokens at the same positions and
        agree token for token (up to float rounding in near ties).
        """
        self._check_ids(idx, "idx")
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or \
                max_new_tokens < 0:
            raise ValueError(f"GPT.generate: max_new_tokens must be an int >= 0, got "
                             f"{max_new_tokens!r}")
        temperature = float(temperature)
        if not 0.0 <= temperature < math.inf:
            raise ValueError(f"GPT.generate: temperature must be finite and >= 0 (0 = greedy), "
                             f"got {temperature}")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or
                                  top_k < 1):
            raise ValueError(f"GPT.generate: top_k must be None or an int >= 1, got {top_k!r}")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                steps = self._cached_steps if use_cache else self._uncached_steps
                tokens = [idx]                     # the prompt, then one (B, 1) per new token
                for logits in steps(tokens, max_new_tokens):
                    tokens.append(self._pick(logits, temperature, top_k, generator)
                                  .to(idx.dtype))
                return cat(tokens, 1)
        finally:
            self.train(was_training)

    def _uncached_steps(self, tokens, n):
        """The logits (B, V) for each next token, re-running the whole window every time."""
        for _ in range(n):
            yield self._last_logits(cat(tokens, 1)[:, -self.config.block_size:])

    def _cached_steps(self, tokens, n):
        """The same logits, feeding only the newest token while the cache has room."""
        block_size = self.config.block_size
        caches = [KVCache() for _ in self.transformer.h]
        window = tokens[0][:, -block_size:]
        for i in range(n):
            if i > 0 and len(caches[0]) < block_size:
                window = tokens[-1]                      # one new position after the cache
            elif i > 0:                                  # full: the positions slide by one
                window = cat(tokens, 1)[:, -block_size:]
                for cache in caches:
                    cache.clear()
            yield self._last_logits(window, caches)

    def _last_logits(self, window, kv_caches=None):
        """Logits (B, V) of the last position only: the head is the largest matmul."""
        return self.lm_head(self._hidden(window, kv_caches)[:, -1, :])

    @staticmethod
    def _pick(logits, temperature, top_k, generator):
        """The next token ids (B, 1) from the logits (B, V)."""
        if temperature == 0.0:
            return logits.argmax(-1, keepdim=True)
        logits = logits / temperature
        if top_k is not None and top_k < logits.shape[-1]:
            kth = topk(logits, top_k, dim=-1).values[:, -1:]                  # (B, 1)
            logits = logits.masked_fill(logits < kth, -math.inf)
        return multinomial(F.softmax(logits, dim=-1), num_samples=1, generator=generator)

    def extra_repr(self):
        return f"{self.num_parameters() / 1e6:.2f}M parameters"

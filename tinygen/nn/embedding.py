"""``Embedding``: a table of learned vectors indexed by integer ids (tokens, classes), and
``F.embedding`` with PyTorch's options.

The lookup itself is ``embedding`` in ``tinygen/ops/sparse.py``; this file adds what PyTorch's
``F.embedding`` does around it: ``max_norm`` rescales, in the weight itself, each row looked up
whose norm is too large (PyTorch's ``embedding_renorm_``), and ``scale_grad_by_freq`` divides
each row's gradient by how often its id occurs in the batch.
"""

from tinygen import creation
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentAssertionError
from tinygen.nn import init
from tinygen.nn.module import Module
from tinygen.nn.parameter import Parameter
from tinygen.ops.sparse import embedding as lookup
from tinygen.tensor import Tensor

RENORM_EPS = 1e-7        # PyTorch's embedding_renorm_: scale = max_norm / (norm + 1e-7)


class ScaleGradByFrequency(ArrayFunction):
    """y = rows (the looked-up rows, unchanged);  grad_rows = grad_y / count, where count[p]
    is how often the id at position p occurs in the batch. The lookup's backward then sums
    grad / count over those positions: each row gets the mean of its gradients."""
    @staticmethod
    def forward(ctx, rows, inverse_count):
        ctx.inverse_count = inverse_count
        return rows.copy()

    @staticmethod
    def backward(ctx, grad_y):
        return DivideByFrequency.apply(grad_y, ctx.inverse_count), None


class DivideByFrequency(ArrayFunction):
    """y = grad / count (the scaled gradient itself);  grad_grad = grad_y, unscaled, because
    PyTorch's double backward of the scaled embedding gradient is a plain gather of the rows."""
    @staticmethod
    def forward(ctx, grad, inverse_count):
        return grad * inverse_count

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, None


def _id_array(input, weight):
    """The ids as an array on the weight's device (``lookup`` checks them)."""
    return input.array if isinstance(input, Tensor) else get_array_module(
        weight.array).asarray(input)


def _renorm_(weight, ids, max_norm, norm_type):
    """PyTorch's embedding_renorm_, in place and outside the graph: each row of ``weight``
    named in ``ids`` whose ``norm_type``-norm exceeds ``max_norm`` is multiplied by
    max_norm / (norm + 1e-7). The weight's version moves on every call, as in PyTorch."""
    xp = get_array_module(weight.array)
    rows = xp.unique(ids)
    rows = rows[(rows >= 0) & (rows < weight.shape[0])]    # lookup names the others
    values = weight.array[rows]
    norms = xp.linalg.norm(values, ord=norm_type, axis=1).astype("float64")
    scale = xp.where(norms > max_norm, max_norm / (norms + RENORM_EPS), 1.0)
    with no_grad():
        weight[Tensor(rows)] = Tensor(values * scale.astype(values.dtype)[:, None])


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) for the integer ids ``input``
    (any shape): the result has shape input.shape + (embedding_dim,), as PyTorch's.

    ``padding_idx``: a row that gets no gradient. ``max_norm``: before the lookup, each row
    looked up whose ``norm_type``-norm exceeds it is scaled down to it, in the weight itself
    (under no_grad). ``scale_grad_by_freq``: each row's gradient is divided by the number of
    times its id occurs in ``input``. Sparse gradients (``sparse=True``) are not supported.
    """
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported; "
                                  "tinygen's embedding gradients are dense")
    ids = _id_array(input, weight)
    if max_norm is not None and ids.dtype.kind in "iu":
        _renorm_(weight, ids, max_norm, norm_type)
    rows = lookup(input, weight, padding_idx)
    if not scale_grad_by_freq or not rows.requires_grad:
        return rows
    xp = get_array_module(ids)
    count = xp.bincount(ids.reshape(-1), minlength=weight.shape[0])[ids]
    return ScaleGradByFrequency.apply(rows, (1.0 / count).astype(rows.dtype)[..., None])


class Embedding(Module):
    """weight (num_embeddings, embedding_dim) drawn from N(0, 1), as in PyTorch; row
    ``padding_idx`` starts at zero and gets no gradient. ids of any shape give
    ids.shape + (embedding_dim,). ``max_norm``, ``norm_type`` and ``scale_grad_by_freq`` act as
    in ``embedding`` above; ``sparse=True`` is not supported."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentAssertionError(f"Embedding: padding_idx {padding_idx} must be "
                                             f"within num_embeddings ({num_embeddings})")
            padding_idx %= num_embeddings
        if sparse:
            raise NotImplementedError("Embedding: sparse=True (sparse gradients) is not "
                                      "supported; tinygen's embedding gradients are dense")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        set_table(self, _weight, device, dtype, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (2-D; shared, not copied, as in PyTorch, so
        max_norm rescales its rows too); ``freeze`` stops it from training."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return text


def set_table(module, weight, device, dtype, requires_grad=True):
    """Give an Embedding or EmbeddingBag its (num_embeddings, embedding_dim) ``weight``: the
    given tensor (detached), or a fresh one drawn by ``reset_parameters`` (N(0, 1), zero row at
    ``padding_idx``)."""
    shape = (module.num_embeddings, module.embedding_dim)
    if weight is None:
        module.weight = Parameter(creation.empty(*shape, device=device, dtype=dtype),
                                  requires_grad=requires_grad)
        module.reset_parameters()
    elif tuple(weight.shape) != shape:
        raise AssertionError(f"Shape of weight does not match num_embeddings and embedding_dim: "
                             f"got {tuple(weight.shape)}, expected {shape}")
    else:
        module.weight = Parameter(weight.detach(), requires_grad=requires_grad)

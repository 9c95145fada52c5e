"""``repr(tensor)``, character for character as PyTorch writes it, and ``tg.set_printoptions``.

PyTorch's rules (its ``torch/_tensor_str.py``), re-implemented on NumPy:

* one formatter per tensor gives every element the same width. Floats whose finite nonzero
  values are all integers print as ``1.``; others with ``precision`` (4) decimals; or in
  scientific notation (``1.0000e-05``) when the largest finite nonzero magnitude is over 1000
  times the smallest, over 1e8, or the smallest is under 1e-4 (``sci_mode`` forces either way).
  nan, inf and zeros do not count toward the width or the choice of mode;
* a tensor of more than ``threshold`` elements shows ``edgeitems`` items at each end of every
  dimension, with ``...`` between; the formatter then only looks at the shown items;
* rows wrap at ``linewidth`` columns, indented under ``tensor(``; slices of a 3-D tensor are
  separated by blank lines (one more per extra dimension);
* suffixes: ``device=`` when not the default device, ``dtype=`` when not the default float,
  int64 or bool (always for empty tensors, with ``size=`` unless 1-D), then ``grad_fn=`` or
  ``requires_grad=True``. tinygen writes ``dtype=tg.float64`` and its own grad_fn names.

The formatting works on a host copy of the array: it is display, not an op.
"""

import contextlib
import dataclasses
import math

import numpy as np

from tinygen import dtypes
from tinygen.backend import default_device


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None


PRINT_OPTS = _PrintOptions()

# profile: (precision, threshold, edgeitems, linewidth), as in PyTorch
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions``: a ``profile`` ("default", "short",
    "full") first, then each option given. ``sci_mode`` is always set (None: chosen per tensor)."""
    if profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current options, as a dict that ``set_printoptions(**options)`` accepts."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Set print options inside a ``with`` block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses the mode and the common width from the values that will be shown."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in np.unique(flat).tolist()])
            return
        flat = flat.astype(np.float64)             # float16 would overflow at 1e8
        shown = np.unique(flat[np.isfinite(flat) & (flat != 0)])
        if shown.size == 0:
            return
        magnitude = np.abs(shown)
        low, high = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            with np.errstate(over="ignore"):             # high / low may pass float64's range
                self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        if self.sci_mode:
            lengths = [len(f"{v:.{p}e}") for v in shown.tolist()]
        elif self.int_mode:
            lengths = [len(f"{v:.0f}") + 1 for v in shown.tolist()]    # + 1 for the "."
        else:
            lengths = [len(f"{v:.{p}f}") for v in shown.tolist()]
        self.width = max(lengths)

    def format(self, value):
        """One element (a Python number), right-aligned to the common width."""
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return " " * (self.width - len(text)) + text


class _ComplexFormatter:
    """PyTorch's complex format: real parts and imaginary parts each get a formatter of their
    own, and an element prints as ``real+imagj`` (``1.+2.j``, ``-0.5000-1.2500j``)."""

    def __init__(self, values):
        self.real, self.imag = _Formatter(values.real), _Formatter(values.imag)
        self.width = self.real.width + self.imag.width + 1      # + 1 for the "j"

    def format(self, value):
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return self.real.format(value.real) + ("" if imag[0] in "+-" else "+") + imag


def _summarized(values):
    """The items a summarized print shows, flattened: what the formatter must fit."""
    edge = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return values.reshape(-1)
    if values.ndim == 1:
        # values[-0:] is everything, so edgeitems=0 fits the whole row (as PyTorch does)
        return np.concatenate((values[:edge], values[-edge:])) if len(values) > 2 * edge \
            else values
    if not edge:
        return values.reshape(-1)[:0]
    rows = _shown_indices(len(values))
    return np.concatenate([_summarized(values[i]) for i in rows if i is not None])


def _shown_indices(n, summarize=True):
    """Indices of the shown slices along one dimension; None stands for the ``...``."""
    edge = PRINT_OPTS.edgeitems
    if summarize and n > 2 * edge:
        return list(range(edge)) + [None] + list(range(n - edge, n))
    return list(range(n))


def _vector_str(values, indent, summarize, formatter):
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (formatter.width + 2)))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and len(values) > 2 * edge:
        items = ([formatter.format(v) for v in values[:edge].tolist()] + [" ..."]
                 + [formatter.format(v) for v in values[-edge:].tolist()])
    else:
        items = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _body(values, indent, summarize, formatter):
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, formatter)
    slices = ["..." if i is None else _body(values[i], indent + 1, summarize, formatter)
              for i in _shown_indices(len(values), summarize)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def array_str(values, indent):
    """The bracketed contents of a host array, lines after the first indented by ``indent``."""
    if values.size == 0:
        return "[]"
    summarize = values.size > PRINT_OPTS.threshold
    shown = _summarized(values) if summarize else values
    formatter = (_ComplexFormatter if values.dtype.kind == "c" else _Formatter)(shown)
    return _body(values, indent, summarize, formatter)


def _add_suffixes(text, suffixes, indent):
    """Append ``, suffix`` items, starting a new line where one would pass the line width."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1   # PyTorch's count, 2 over with no newline
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"


def _shows_device(device):
    default = default_device()
    if device.type != default.type:
        return True
    current = default.index if default.type == "cuda" else 0
    return device.type == "cuda" and device.index != current


def tensor_repr(tensor):
    """``repr(tensor)`` as PyTorch writes it, with ``tg.`` dtypes and tinygen's grad_fn names."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if _shows_device(tensor.device):
        suffixes.append(f"device='{tensor.device}'")
    default_float = dtypes.get_default_dtype()
    default_complex = np.dtype(np.complex128 if default_float == np.float64 else np.complex64)
    dtype = tensor.dtype
    if tensor.numel() == 0:
        if tensor.ndim != 1:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if dtype != default_float:
            suffixes.append(f"dtype=tg.{dtype}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if dtype not in (default_float, default_complex, dtypes.int64, dtypes.bool):
            suffixes.append(f"dtype=tg.{dtype}")
        body = array_str(tensor._host_array(), indent)
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)

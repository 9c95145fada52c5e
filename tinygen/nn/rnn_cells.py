"""Recurrent cells: the one-step equations of the Elman RNN (tanh or ReLU), the LSTM
(Hochreiter & Schmidhuber 1997, with a forget gate) and the GRU (Cho et al. 2014), in PyTorch's
gate order, and the modules ``RNNCell``, ``LSTMCell``, ``GRUCell`` that run one step. The
sequence layers in ``rnn.py`` run the same equations over time.

A state is a tuple of parts: (h,) or, for the LSTM, (h, c).
"""

import math

from tinygen import creation
from tinygen.nn import init
from tinygen.nn.linear import linear
from tinygen.nn.module import Module
from tinygen.nn.parameter import Parameter
from tinygen.ops.elementwise import relu, sigmoid, tanh
from tinygen.ops.shape import chunk
from tinygen.tensor import Tensor


def _rnn_tanh_cell(gi, state, w_hh, b_hh):
    """h' = tanh(gi + h W_hh^T + b_hh), where gi = x W_ih^T + b_ih."""
    (h,) = state
    return (tanh(gi + linear(h, w_hh, b_hh)),)


def _rnn_relu_cell(gi, state, w_hh, b_hh):
    """h' = relu(gi + h W_hh^T + b_hh), where gi = x W_ih^T + b_ih."""
    (h,) = state
    return (relu(gi + linear(h, w_hh, b_hh)),)


def _lstm_cell(gi, state, w_hh, b_hh, w_hr=None):
    """Gates in PyTorch's order i, f, g, o, each W_i* x + b_i* + W_h* h + b_h*:
    i, f, o = sigmoid(.), g = tanh(.);  c' = f * c + i * g,  h' = o * tanh(c').
    With a projection w_hr (proj_size, H) (Sak et al. 2014): h' = (o * tanh(c')) W_hr^T."""
    h, c = state
    i, f, g, o = chunk(gi + linear(h, w_hh, b_hh), 4, 1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    return (h if w_hr is None else linear(h, w_hr)), c


def _gru_cell(gi, state, w_hh, b_hh):
    """Gates in PyTorch's order r, z, n:  r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z alike,
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h."""
    (h,) = state
    i_r, i_z, i_n = chunk(gi, 3, 1)
    h_r, h_z, h_n = chunk(linear(h, w_hh, b_hh), 3, 1)   # the reset gate scales h_n, bias too
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = tanh(i_n + r * h_n)
    return ((1 - z) * n + z * h,)


# mode: (gates G, state parts, cell)
MODES = {
    "RNN_TANH": (1, 1, _rnn_tanh_cell),
    "RNN_RELU": (1, 1, _rnn_relu_cell),
    "LSTM": (4, 2, _lstm_cell),
    "GRU": (3, 1, _gru_cell),
}


def rnn_mode(nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    return "RNN_" + nonlinearity.upper()


def state_parts(mode, hx, name):
    """``hx`` as a tuple of parts: a tensor h, or for the LSTM a pair (h, c)."""
    if MODES[mode][1] == 1:
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
        return (hx,)
    if not (isinstance(hx, (tuple, list)) and len(hx) == 2
            and all(isinstance(t, Tensor) for t in hx)):
        raise TypeError(f"{name}: hx must be a pair of Tensors (h_0, c_0), got "
                        f"{type(hx).__name__}")
    return tuple(hx)


def from_parts(parts):
    """The public form of a state: h, or (h, c) for the LSTM."""
    return tuple(parts) if len(parts) == 2 else parts[0]


def check_input(name, input, dims):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in dims:
        raise ValueError(f"{name}: Expected input to be {dims[0]}D or {dims[1]}D, got "
                         f"{input.ndim}D instead (shape {tuple(input.shape)})")


def reset_uniform(module):
    """Every weight and bias from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for param in module.parameters():
        init.uniform_(param, -bound, bound)


class RNNCellBase(Module):
    """One time step: parameters weight_ih (G*H, H_in), weight_hh (G*H, H), bias_ih and
    bias_hh (G*H,), G = ``num_chunks`` gates (PyTorch's signature); input (N, H_in) or unbatched
    (H_in,), state parts (N, H) or (H,). Subclasses set ``mode``, which ``forward`` runs."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = num_chunks * hidden_size
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(creation.empty(gate_size, input_size, **factory))
        self.weight_hh = Parameter(creation.empty(gate_size, hidden_size, **factory))
        for name in ("bias_ih", "bias_hh"):
            self.register_parameter(
                name, Parameter(creation.empty(gate_size, **factory)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self)

    def forward(self, input, hx=None):
        name = type(self).__name__
        if getattr(self, "mode", None) not in MODES:
            raise NotImplementedError(f"{name} must set mode to one of {sorted(MODES)} to run")
        check_input(name, input, (1, 2))
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {x.shape[1]} "
                               f"expected {self.input_size}")
        if hx is None:
            zeros = creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype,
                                   device=x.device)
            state = (zeros,) * MODES[self.mode][1]
        else:
            state = self._given_state(name, state_parts(self.mode, hx, name), x, batched)
        gi = linear(x, self.weight_ih, self.bias_ih)
        state = MODES[self.mode][2](gi, state, self.weight_hh, self.bias_hh)
        if not batched:
            state = tuple(part.squeeze(0) for part in state)
        return from_parts(state)

    def _given_state(self, name, parts, x, batched):
        """hx's parts as (N, H), checked against the input."""
        dims = 2 if batched else 1
        for i, part in enumerate(parts):
            if part.ndim != dims:
                raise ValueError(f"{name}: Expected hx[{i}] to be {dims}D like the input, got "
                                 f"{part.ndim}D instead")
        parts = parts if batched else tuple(part.unsqueeze(0) for part in parts)
        for i, part in enumerate(parts):
            if part.shape[0] != x.shape[0]:
                raise RuntimeError(f"{name}: Input batch size {x.shape[0]} doesn't match "
                                   f"hidden{i} batch size {part.shape[0]}")
            if part.shape[1] != self.hidden_size:
                raise RuntimeError(f"{name}: hidden{i} has inconsistent hidden_size: got "
                                   f"{part.shape[1]}, expected {self.hidden_size}")
        return parts

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), or relu with ``nonlinearity='relu'``.
    (An unknown nonlinearity is refused here, where PyTorch waits for the first forward.)"""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.mode = rnn_mode(nonlinearity)
        self.nonlinearity = nonlinearity


class LSTMCell(RNNCellBase):
    """One LSTM step (see ``_lstm_cell``): (h', c') from input and hx = (h, c)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)
        self.mode = "LSTM"


class GRUCell(RNNCellBase):
    """One GRU step (see ``_gru_cell``): h' from input and hx = h."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)
        self.mode = "GRU"

"""Recurrent layers with PyTorch's arguments, parameter names and outputs: ``RNN`` (Elman, tanh
or ReLU), ``LSTM`` (Hochreiter & Schmidhuber 1997, with a forget gate) and ``GRU`` (Cho et al.
2014). Their one-step equations and cells are in ``rnn_cells.py``.

Each layer and direction runs in two parts. The input projections x_t W_ih^T + b_ih of the
whole sequence are one matmul, (L, N, H_in) -> (L, N, G*H) for G gates; then a Python loop over
time adds the recurrent term h_{t-1} W_hh^T + b_hh and applies the gates. It is all tinygen
ops, so backward is backpropagation through time, and gradients of every order work.

Sequences are (L, N, H_in), (N, L, H_in) with ``batch_first=True``, or unbatched (L, H_in);
states are (D * num_layers, N, H), D = 2 when bidirectional, never batch-first. Inside, a state
is a tuple of parts: (h,) or, for the LSTM, (h, c). Packed sequences are not supported.
"""

import warnings

from tinygen import creation
from tinygen.nn.linear import linear
from tinygen.nn.module import Module
from tinygen.nn.parameter import Parameter
from tinygen.nn.rnn_cells import (
    MODES, check_input, from_parts, reset_uniform, rnn_mode, state_parts)
from tinygen.ops.dropout import dropout
from tinygen.ops.shape import cat, stack, unbind


def _run_direction(cell, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
    """One layer in one direction over x (L, N, H_in): its outputs h_t (L, N, H), in time
    order whichever way it ran, and its final state."""
    projected = unbind(linear(x, w_ih, b_ih), 0)     # L of (N, G*H): one matmul for all steps
    outputs = [None] * len(projected)
    steps = range(len(projected))
    for t in (reversed(steps) if reverse else steps):
        state = cell(projected[t], state, w_hh, b_hh)
        outputs[t] = state[0]
    return stack(outputs), state


def _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                     proj_size):
    """PyTorch's checks of the constructor arguments, with its messages."""
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
            0 <= dropout <= 1):
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                      f"non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int),
                              ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                            f"{type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters, their initialisation, the checks, the
    loop over layers and directions, and the repr."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         proj_size)
        if proj_size > 0:
            raise NotImplementedError("LSTM with projections (proj_size > 0) is not "
                                      "implemented in tinygen")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = MODES[mode][0] * hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate_size, layer_input_size),
                          "weight_hh": (gate_size, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                for name, shape in shapes.items():
                    self.register_parameter(name + suffix, Parameter(
                        creation.empty(*shape, device=device, dtype=dtype)))
                self._all_weights.append([name + suffix for name in shapes])
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self)

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op: PyTorch packs the weights into one cuDNN buffer here; tinygen keeps them
        apart, so scripts that call it run unchanged."""

    def forward(self, input, hx=None):
        """input (L, N, H_in), or (N, L, H_in) with batch_first, or unbatched (L, H_in);
        hx: h_0 (or for the LSTM (h_0, c_0)) of shape (D * num_layers, N, H), zeros when None.
        Returns output (L, N, D * H) (batch-first or unbatched like input) and h_n (or
        (h_n, c_n)) shaped like hx."""
        name = type(self).__name__
        check_input(name, input, (2, 3))
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        self._check_sequence(name, x)
        hx = self._initial_state(name, x, hx, batched)
        _, _, cell = MODES[self.mode]
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:
                x = dropout(x, self.dropout, self.training)
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                state = tuple(part[k] for part in hx)
                output, final = _run_direction(cell, x, state, *self._weights(k),
                                               reverse=direction == 1)
                outputs.append(output)
                finals.append(final)
            x = cat(outputs, 2) if directions == 2 else outputs[0]
        hidden = [stack(parts) for parts in zip(*finals)]
        if not batched:
            return x.squeeze(1), from_parts([h.squeeze(1) for h in hidden])
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, from_parts(hidden)

    def _weights(self, k):
        """w_ih, w_hh, b_ih, b_hh of layer-direction k (biases None without bias)."""
        weights = [getattr(self, name) for name in self._all_weights[k]]
        return weights if self.bias else weights + [None, None]

    def _check_sequence(self, name, x):
        if x.dtype != self.weight_ih_l0.dtype:
            raise ValueError(f"{name}: input dtype ({x.dtype}) does not match weight dtype "
                             f"({self.weight_ih_l0.dtype}). Convert input: "
                             f"input.to({self.weight_ih_l0.dtype}), or convert model: "
                             f"model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        if x.shape[0] == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")

    def _initial_state(self, name, x, hx, batched):
        """The state parts, each (D * num_layers, N, H): hx's, or zeros when hx is None."""
        expected = ((2 if self.bidirectional else 1) * self.num_layers, x.shape[1],
                    self.hidden_size)
        if hx is None:
            zeros = creation.zeros(*expected, dtype=x.dtype, device=x.device)
            return (zeros,) * MODES[self.mode][1]
        parts = state_parts(self.mode, hx, name)
        dims = 3 if batched else 2
        if any(part.ndim != dims for part in parts):
            got = ", ".join(f"{part.ndim}-D" for part in parts)
            raise RuntimeError(f"{name}: For {'batched 3-D' if batched else 'unbatched 2-D'} "
                               f"input, hx should also be {dims}-D but got ({got}) tensors")
        parts = parts if batched else tuple(part.unsqueeze(1) for part in parts)
        for i, part in enumerate(parts):
            if tuple(part.shape) != expected:
                which = f"hidden[{i}]" if len(parts) == 2 else "hidden"
                raise RuntimeError(f"{name}: Expected {which} size {expected}, got "
                                   f"{list(part.shape)}")
        return parts

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), or relu with
    ``nonlinearity='relu'``. Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__(rnn_mode(nonlinearity), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o; see ``_lstm_cell``). Returns
    (output, (h_n, c_n)). ``proj_size > 0`` raises NotImplementedError."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n; see ``_gru_cell``). Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

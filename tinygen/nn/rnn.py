"""Recurrent layers with PyTorch's arguments, parameter names and outputs: ``RNN`` (Elman, tanh
or ReLU), ``LSTM`` (Hochreiter & Schmidhuber 1997, with a forget gate) and ``GRU`` (Cho et al.
2014). Their one-step equations and cells are in ``rnn_cells.py``.

Each layer and direction runs in two parts. The input projections x_t W_ih^T + b_ih of the
whole sequence are one matmul, (L, N, H_in) -> (L, N, G*H) for G gates; then a Python loop over
time adds the recurrent term h_{t-1} W_hh^T + b_hh and applies the gates. It is all tinygen
ops, so backward is backpropagation through time, and gradients of every order work.

Sequences are (L, N, H_in), (N, L, H_in) with ``batch_first=True``, or unbatched (L, H_in);
states are (D * num_layers, N, H), D = 2 when bidirectional, never batch-first. Inside, a state
is a tuple of parts: (h,) or, for the LSTM, (h, c). A ``PackedSequence`` input runs each step
on only the sequences still running (``rnn_packed.py``) and gives a packed output.

``LSTM(proj_size=P)`` is the projected LSTM of Sak et al. (2014): h = (o * tanh(c)) W_hr^T has
size P (c keeps size H), so weight_hh is (4H, P) and the outputs and h_n have P features.
"""

import warnings
from functools import partial

from tinygen import creation
from tinygen.nn.linear import linear
from tinygen.nn.module import Module
from tinygen.nn.parameter import Parameter
from tinygen.nn.rnn_packed import run_packed_direction
from tinygen.nn.rnn_cells import (
    MODES, check_input, from_parts, reset_uniform, rnn_mode, state_parts)
from tinygen.nn.utils.rnn import PackedSequence
from tinygen.ops.dropout import dropout
from tinygen.ops.indexing import index_select
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


def _run_packed(batch_sizes, cell, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
    return run_packed_direction(cell, x, batch_sizes, state, w_ih, w_hh, b_ih, b_hh, reverse)


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
        if mode not in MODES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         proj_size)
        if proj_size > 0 and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
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
        real_hidden_size = proj_size or hidden_size      # the size of h
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate_size, layer_input_size),
                          "weight_hh": (gate_size, real_hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes.update(weight_hr=(proj_size, hidden_size))
                for name, shape in shapes.items():
                    self.register_parameter(name + suffix, Parameter(
                        creation.empty(*shape, device=device, dtype=dtype)))
                self._all_weights.append([name + suffix for name in shapes])
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self)

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op: PyTorch packs the weights into one cuDNN buffer here; tinygen keeps them
        apart, so scripts that call it run unchanged."""

    def forward(self, input, hx=None):
        """input (L, N, H_in), or (N, L, H_in) with batch_first, or unbatched (L, H_in), or a
        PackedSequence; hx: h_0 (or for the LSTM (h_0, c_0)) of shape (D * num_layers, N, H),
        zeros when None. Returns output (L, N, D * H) (batch-first, unbatched or packed like
        input) and h_n (or (h_n, c_n)) shaped like hx."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            return self._forward_packed(name, input, hx)
        check_input(name, input, (2, 3))
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        self._check_sequence(name, x)
        hx = self._initial_state(name, x, x.shape[1], hx, batched)
        x, hidden = self._layers(x, hx, _run_direction)
        if not batched:
            return x.squeeze(1), from_parts([h.squeeze(1) for h in hidden])
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, from_parts(hidden)

    def _forward_packed(self, name, input, hx):
        """Forward over a PackedSequence: hx and h_n are in the caller's batch order, the
        packed data in the sorted one."""
        x, batch_sizes = input.data, input.batch_sizes
        if x.ndim != 2:
            raise RuntimeError(f"{name}: packed input data must be 2-D, got shape "
                               f"{tuple(x.shape)}")
        self._check_sequence(name, x)
        sizes = [int(n) for n in batch_sizes.numpy().tolist()]
        if hx is not None and input.sorted_indices is not None:
            hx = tuple(index_select(part, 1, input.sorted_indices)
                       for part in state_parts(self.mode, hx, name))
            hx = from_parts(hx)
        hx = self._initial_state(name, x, sizes[0], hx, True)
        run = partial(_run_packed, sizes)
        output, hidden = self._layers(x, hx, run)
        if input.unsorted_indices is not None:
            hidden = [index_select(h, 1, input.unsorted_indices) for h in hidden]
        packed = PackedSequence(output, batch_sizes, input.sorted_indices,
                                input.unsorted_indices)
        return packed, from_parts(hidden)

    def _layers(self, x, hx, run):
        """Every layer and direction over x with ``run`` (padded or packed steps): the last
        layer's output, features last, and the final state parts (D * num_layers, N, H)."""
        cell = MODES[self.mode][2]
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:
                x = dropout(x, self.dropout, self.training)
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                state = tuple(part[k] for part in hx)
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(k)
                step = cell if w_hr is None else partial(cell, w_hr=w_hr)
                output, final = run(step, x, state, w_ih, w_hh, b_ih, b_hh,
                                    reverse=direction == 1)
                outputs.append(output)
                finals.append(final)
            x = cat(outputs, -1) if directions == 2 else outputs[0]
        return x, [stack(parts) for parts in zip(*finals)]

    def _weights(self, k):
        """w_ih, w_hh, b_ih, b_hh, w_hr of layer-direction k (None where absent)."""
        suffix = self._all_weights[k][0][len("weight_ih"):]
        return tuple(getattr(self, name + suffix, None) if self.bias or name[0] == "w"
                     else None
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh",
                                  "weight_hr"))

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

    def _initial_state(self, name, x, batch, hx, batched):
        """The state parts, each (D * num_layers, N, H) (h: (., N, proj_size) with a
        projection): hx's, or zeros when hx is None."""
        layers = (2 if self.bidirectional else 1) * self.num_layers
        sizes = [(layers, batch, self.proj_size or self.hidden_size),
                 (layers, batch, self.hidden_size)][:MODES[self.mode][1]]
        if hx is None:
            return tuple(creation.zeros(*size, dtype=x.dtype, device=x.device)
                         for size in sizes)
        parts = state_parts(self.mode, hx, name)
        dims = 3 if batched else 2
        if any(part.ndim != dims for part in parts):
            got = ", ".join(f"{part.ndim}-D" for part in parts)
            raise RuntimeError(f"{name}: For {'batched 3-D' if batched else 'unbatched 2-D'} "
                               f"input, hx should also be {dims}-D but got ({got}) tensors")
        parts = parts if batched else tuple(part.unsqueeze(1) for part in parts)
        for i, (part, expected) in enumerate(zip(parts, sizes)):
            if tuple(part.shape) != expected:
                which = f"hidden[{i}]" if len(parts) == 2 else "hidden"
                raise RuntimeError(f"{name}: Expected {which} size {expected}, got "
                                   f"{list(part.shape)}")
        return parts

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
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
    (output, (h_n, c_n)); with ``proj_size > 0``, h is projected to proj_size features."""

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

"""One recurrent layer in one direction over a packed sequence (see ``nn.utils.rnn``).

The packed data holds step t as rows ``offset_t : offset_t + batch_sizes[t]``, and the
sequences still running at step t are always the first ``batch_sizes[t]`` of the (sorted)
batch. So step t runs the cell on only the first batch_sizes[t] rows of the state:
- forwards, the batch shrinks: when it does, the rows that drop out have reached their last
  step and their state is final; the final state is those pieces joined back in row order;
- backwards, the batch grows: each sequence starts at its own last step, so rows join from the
  initial state when their sequence begins.
"""

from tinygen.nn.linear import linear
from tinygen.ops.shape import cat


def _steps(x, batch_sizes):
    """The rows of each time step of packed data x: a list of (batch_sizes[t], ...)."""
    steps, offset = [], 0
    for size in batch_sizes:
        steps.append(x[offset:offset + size])
        offset += size
    return steps


def _rows(state, start, stop):
    return tuple(part[start:stop] for part in state)


def _join(*states):
    return tuple(cat(parts, 0) for parts in zip(*states))


def run_packed_direction(cell, x, batch_sizes, state, w_ih, w_hh, b_ih, b_hh, reverse):
    """One layer in one direction over packed data x (sum of lengths, H_in) with batch_sizes
    (Python ints): its packed outputs (sum of lengths, H_out) and its final state, each part
    (batch_sizes[0], H), taken at each sequence's last step."""
    projected = _steps(linear(x, w_ih, b_ih), batch_sizes)     # one matmul for all steps
    outputs = [None] * len(batch_sizes)
    if reverse:
        initial, running = state, 0
        state = None
        for t in reversed(range(len(batch_sizes))):
            size = batch_sizes[t]
            if size > running:                       # sequences that start at this step
                fresh = _rows(initial, running, size)
                state = fresh if state is None else _join(state, fresh)
                running = size
            state = cell(projected[t], state, w_hh, b_hh)
            outputs[t] = state[0]
        return cat(outputs, 0), state
    finished, running = [], batch_sizes[0]
    for t, size in enumerate(batch_sizes):
        if size < running:                           # sequences that ended at step t - 1
            finished.append(_rows(state, size, running))
            state = _rows(state, 0, size)
            running = size
        state = cell(projected[t], state, w_hh, b_hh)
        outputs[t] = state[0]
    return cat(outputs, 0), _join(state, *reversed(finished))

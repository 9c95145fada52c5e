"""device_checks: a check on values raises at once on the CPU; on a GPU it is queued and raised
at the next read of a value. The ``queued`` fixture makes CPU checks queue as a GPU's do."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import device_checks
from tinygen.kernels.reference import check_class_indices
from tinygen.ops.attention import masked_softmax
from tinygen.ops.indexing import queue_bounds_checks


@pytest.fixture
def queued(monkeypatch):
    monkeypatch.setattr(device_checks, "deferred", lambda array: True)


def bad_id(value):
    return IndexError(f"id {value} is bad")


def test_on_the_cpu_a_check_raises_at_once_with_its_values():
    with pytest.raises(IndexError, match="^id 7 is bad$"):
        device_checks.check(np.bool_(True), bad_id, np.int64(7))
    device_checks.check(np.bool_(False), bad_id, np.int64(7))


@pytest.mark.parametrize("read", [
    lambda t: t.sum().item(), lambda t: t.tolist(), lambda t: t.numpy(), lambda t: float(t.sum()),
    repr])
def test_a_queued_check_raises_at_the_next_read_once(queued, read):
    x = tg.tensor([1.0, 2.0])
    device_checks.check(np.asarray(True), bad_id, np.asarray(7), op="embedding")
    y = x * 2                                                     # ops go on
    with pytest.raises(IndexError, match=r"^id 7 is bad\n\(found by embedding when it ran"):
        read(y)
    assert y.tolist() == [2.0, 4.0]                               # reported once


def test_the_first_failed_check_is_raised_with_its_own_values(queued):
    device_checks.check(np.asarray(False), bad_id, np.asarray(1))
    device_checks.check(np.asarray(True), lambda low, high: ValueError(f"in [{low}, {high}]"),
                        np.asarray(-3), np.asarray(0.5))
    device_checks.check(np.asarray(True), bad_id, np.asarray(9))
    with pytest.raises(ValueError, match=r"^in \[-3, 0.5\]"):     # an int stays an int
        device_checks.flush()
    device_checks.flush()                                         # the queue is empty


def test_passing_checks_read_nothing_but_empty_the_queue(queued):
    for _ in range(5):
        device_checks.check(np.asarray(False), bad_id, np.asarray(1))
    device_checks.flush()
    assert not device_checks._pending


def test_a_full_queue_is_read_without_waiting_for_a_read(queued, monkeypatch):
    monkeypatch.setattr(device_checks, "MAX_PENDING", 3)
    device_checks.check(np.asarray(False), bad_id, np.asarray(1))
    device_checks.check(np.asarray(True), bad_id, np.asarray(2))
    with pytest.raises(IndexError, match="id 2 is bad"):
        device_checks.check(np.asarray(False), bad_id, np.asarray(3))


@pytest.mark.filterwarnings("ignore:invalid value encountered in log1p")
def test_queued_bce_range_check_raises_at_item(queued):
    loss = F.binary_cross_entropy(tg.tensor([0.5, 1.5]), tg.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        loss.item()


def test_queued_class_index_check_names_the_first_bad_target(queued):
    check_class_indices(np.array([0, -100, 5, 7]), 5, -100, "cross_entropy")
    with pytest.raises(IndexError, match="cross_entropy: target 5 is out of bounds for 5 classes"):
        device_checks.flush()
    check_class_indices(np.array([0, -100, 4]), 5, -100, "cross_entropy")
    device_checks.flush()


@pytest.mark.parametrize("items, message", [
    ((slice(None), np.array([0, 4])), "index 4 is out of bounds for axis 1 with size 4"),
    ((Ellipsis, np.array([-6, 1])), "index -6 is out of bounds for axis 2 with size 5"),
    ((None, np.ones((3, 4), bool), np.array([5])), "index 5 is out of bounds for axis 2"),
    ((np.array([[3]]), Ellipsis), "index 3 is out of bounds for axis 0 with size 3"),
])
def test_integer_array_indices_get_numpys_bounds_check_on_a_gpu(queued, items, message):
    queue_bounds_checks(items, (3, 4, 5))
    with pytest.raises(IndexError, match=message):
        device_checks.flush()
    queue_bounds_checks((np.array([2, -3]), slice(None), np.array([4, -5])), (3, 4, 5))
    device_checks.flush()


@pytest.mark.parametrize("dead_row", [False, True])
def test_masked_softmax_on_a_gpu_reads_no_verdict_on_dead_rows(monkeypatch, rng, dead_row):
    """On the CPU masked_softmax reads whether any row sees nothing and takes a shortcut when
    none does; on a GPU it always takes the path that handles such rows, with the same result."""
    scores = tg.tensor(rng.standard_normal((2, 3, 4)))
    mask = tg.tensor(rng.uniform(size=(2, 3, 4)) > 0.3)
    mask.array[:, :, 0] = True
    mask.array[0, 1] = not dead_row
    want = masked_softmax(scores, mask).cpu().numpy()
    monkeypatch.setattr(device_checks, "deferred", lambda array: True)
    got = masked_softmax(scores, mask).cpu().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert got[0, 1].any() != dead_row and not np.isnan(got).any()

"""Training checkpoints: a full round trip into a freshly built recipe, clear errors, and the
link to the latest one."""

import os

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tests.train.tiny_recipe import TinyRecipe
from tinygen import backend, kernels
from tinygen.train.checkpoint import (
    CheckpointError, link_latest, load_checkpoint, restore, save_checkpoint)
from tinygen.train.trainer import make_config


def build(tmp_path, seed, **overrides):
    tg.manual_seed(seed)
    return TinyRecipe(make_config(TinyRecipe, dict(overrides, out=tmp_path)), tg.device("cpu"))


def trained(tmp_path):
    """A recipe after two steps, so the optimizer has state and the generator has moved."""
    recipe = build(tmp_path, seed=0)
    batches = recipe.batches(0)
    for _ in range(2):
        recipe.train_step(next(batches))
    recipe.state = {"note": "changed", "chars": "abc"}
    return recipe


def test_round_trip_restores_weights_optimizer_rng_and_state(tmp_path):
    recipe = trained(tmp_path)
    history = {"losses": {"loss": [(1, 0.5), (2, 0.25)]}, "metrics": {}}
    with kernels.use("reference"):
        save_checkpoint(tmp_path / "c.safetensors", recipe, 2, history)
    rng_state = backend.get_rng_state("cpu")
    expected_draw = backend.generator("cpu").random(3)

    fresh = build(tmp_path, seed=123)
    checkpoint = load_checkpoint(tmp_path / "c.safetensors", "tiny-test")
    with kernels.use("fused"):
        restore(fresh, checkpoint)
    assert checkpoint["step"] == 2
    assert checkpoint["history"]["losses"]["loss"] == [(1, 0.5), (2, 0.25)]
    assert checkpoint["config"]["out"] == str(tmp_path)
    assert fresh.state == {"note": "changed", "chars": "abc"}
    for key, value in recipe.model.state_dict().items():
        np.testing.assert_array_equal(host(fresh.model.state_dict()[key]), host(value))
    old, new = (r.optimizers["model"].state_dict() for r in (recipe, fresh))
    assert old["param_groups"] == new["param_groups"]
    for index, values in old["state"].items():
        for name, value in values.items():
            np.testing.assert_array_equal(host(new["state"][index][name]), host(value))
    assert backend.get_rng_state("cpu") == rng_state
    np.testing.assert_array_equal(backend.generator("cpu").random(3), expected_draw)


def test_restore_without_training_leaves_optimizer_and_rng(tmp_path):
    save_checkpoint(tmp_path / "c.safetensors", trained(tmp_path), 2, {})
    fresh = build(tmp_path, seed=5)
    before = backend.get_rng_state("cpu")
    restore(fresh, load_checkpoint(tmp_path / "c.safetensors"), training=False)
    assert fresh.optimizers["model"].state_dict()["state"] == {}
    assert backend.get_rng_state("cpu") == before


def test_missing_file_names_what_to_do(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at .*tinygen train tiny-test"):
        load_checkpoint(tmp_path / "absent.safetensors", "tiny-test")


def test_corrupt_file_is_reported(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, trained(tmp_path), 2, {})
    data = bytearray(path.read_bytes())
    data[-20:] = bytes(20)                       # damage the last array's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)
    path.write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)


def test_other_files_and_other_families_are_refused(tmp_path):
    tg.save({"weight": tg.ones(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "plain.safetensors")
    save_checkpoint(tmp_path / "c.safetensors", trained(tmp_path), 2, {})
    with pytest.raises(CheckpointError, match="checkpoint of 'tiny-test', not 'gan'"):
        load_checkpoint(tmp_path / "c.safetensors", "gan")


def test_checkpoint_of_other_sizes_does_not_fit(tmp_path):
    save_checkpoint(tmp_path / "c.safetensors", trained(tmp_path), 2, {})
    wider = build(tmp_path, seed=0, hidden=8)
    with pytest.raises(CheckpointError, match="does not fit .*other sizes"):
        restore(wider, load_checkpoint(tmp_path / "c.safetensors"))


def test_link_latest_moves_the_latest_without_a_second_write(tmp_path, monkeypatch):
    first, second, latest = (tmp_path / n for n in ("a.bin", "b.bin", "latest.bin"))
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    link_latest(first, latest)
    assert latest.samefile(first)
    link_latest(second, latest)                      # replaces the old link in one rename
    assert latest.samefile(second) and first.read_bytes() == b"first"

    def no_hard_links(*args):
        raise OSError("hard links not supported")
    monkeypatch.setattr(os, "link", no_hard_links)
    link_latest(first, latest)                       # such a file system gets a copy
    assert latest.read_bytes() == b"first" and not latest.samefile(first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin", "latest.bin"]


def test_link_latest_leaves_no_temporary_file_when_it_fails(tmp_path, monkeypatch):
    step, latest = tmp_path / "step.bin", tmp_path / "latest.bin"
    step.write_bytes(b"step")

    def full_disk(*args):
        raise OSError("No space left on device")
    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        link_latest(step, latest)
    assert [p.name for p in tmp_path.iterdir()] == ["step.bin"]

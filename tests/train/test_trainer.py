"""The trainer: outputs, exact resume, Ctrl-C, epochs and configuration errors, on the tiny
recipe of ``tiny_recipe.py``."""

import csv
import json
import os
import signal

import numpy as np
import pytest

import tinygen as tg
from tests.train.tiny_recipe import TinyRecipe
from tinygen.train import Trainer, train
from tinygen.train.checkpoint import CheckpointError, load_checkpoint


def run(out, resume=False, **overrides):
    return train("tiny-test", dict(overrides, out=out, log_every=1), resume=resume,
                 progress=False)


def records(out, kind):
    lines = (out / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def weights(out):
    modules = load_checkpoint(out / "checkpoint.safetensors")["modules"]
    return {k: v.cpu().numpy() for k, v in modules["model"].items()}


def assert_same_run(a, b):
    """The same losses at every step, the same evaluations, the same final weights."""
    strip = [({k: v for k, v in r.items() if k != "time_s"}) for r in records(a, "train")]
    assert strip == [({k: v for k, v in r.items() if k != "time_s"}) for r in records(b, "train")]
    evals = {r["step"]: r["val_loss"] for r in records(b, "eval")}
    assert all(evals[r["step"]] == r["val_loss"] for r in records(a, "eval"))
    for key, value in weights(a).items():
        np.testing.assert_array_equal(weights(b)[key], value)


def test_outputs_of_a_run(tmp_path, capsys):
    summary = run(tmp_path, steps=6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint.safetensors", "checkpoint_5.safetensors", "checkpoint_6.safetensors",
        "log.csv", "log.jsonl", "loss.png", "metrics.json", "samples_4.png", "samples_6.png"]
    assert [r["step"] for r in records(tmp_path, "train")] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in records(tmp_path, "eval")] == [4, 6]
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [(r["step"], r["kind"]) for r in rows][3:5] == [("4", "train"), ("4", "eval")]
    assert float(rows[0]["loss"]) == records(tmp_path, "train")[0]["loss"]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(summary))
    assert metrics["steps"] == 6 and metrics["device"] == "cpu"
    assert metrics["metrics"]["val_loss"] == records(tmp_path, "eval")[-1]["val_loss"]
    assert metrics["config"]["hidden"] == 16 and metrics["steps_per_s"] > 0
    assert load_checkpoint(tmp_path / "checkpoint_5.safetensors")["step"] == 5
    latest = tmp_path / "checkpoint.safetensors"              # the last one, not written twice
    assert latest.samefile(tmp_path / "checkpoint_6.safetensors")
    assert (tmp_path / "checkpoint_5.safetensors").stat().st_nlink == 1
    out = capsys.readouterr().out
    assert f"Training tiny-test for 6 steps on cpu; outputs in {tmp_path}" in out
    assert f"Samples: {tmp_path / 'samples_6.png'}" in out


def test_text_samples_are_written_as_text(tmp_path):
    run(tmp_path, steps=2, eval_every=0, text_samples=True)
    assert len((tmp_path / "samples_2.txt").read_text().split()) == TinyRecipe.sample_count


def test_losses_fall(tmp_path):
    run(tmp_path, steps=60, eval_every=0, checkpoint_every=0, hidden=64)
    losses = [r["loss"] for r in records(tmp_path, "train")]
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:5])


def test_resume_equals_uninterrupted(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    run(whole, steps=12)
    run(split, steps=6)                  # evaluates and samples at step 6, which `whole` does not
    run(split, resume=True, steps=12)
    assert_same_run(whole, split)
    assert load_checkpoint(split / "checkpoint.safetensors")["step"] == 12


def test_resume_keeps_the_checkpoint_configuration(tmp_path):
    run(tmp_path, steps=3, hidden=8)
    trainer = Trainer("tiny-test", {"out": tmp_path, "steps": 5}, resume=True, progress=False)
    assert trainer.config["hidden"] == 8 and trainer.config["steps"] == 5 and trainer.step == 3


def test_resume_of_a_moved_run_writes_where_it_now_is(tmp_path):
    run(tmp_path / "old", steps=2)
    (tmp_path / "old").rename(tmp_path / "new")
    summary = run(tmp_path / "new", resume=True, steps=3)
    assert summary["config"]["out"] == str(tmp_path / "new")
    assert (tmp_path / "new" / "checkpoint_3.safetensors").exists()
    assert not (tmp_path / "old").exists()


def sigint():
    os.kill(os.getpid(), signal.SIGINT)


def test_an_exception_inside_a_step_saves_nothing(tmp_path, monkeypatch):
    """A KeyboardInterrupt raised inside a step (not by Ctrl-C, which is deferred) may leave
    it half-applied: no checkpoint is written, and the last one (step 5) resumes exactly."""
    whole, split = tmp_path / "whole", tmp_path / "split"
    run(whole, steps=12)
    calls = []
    original = TinyRecipe.train_step

    def interrupted_step(self, batch):
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return original(self, batch)

    monkeypatch.setattr(TinyRecipe, "train_step", interrupted_step)
    with pytest.raises(KeyboardInterrupt):
        run(split, steps=12)
    assert load_checkpoint(split / "checkpoint.safetensors")["step"] == 5
    assert not (split / "checkpoint_7.safetensors").exists()
    monkeypatch.setattr(TinyRecipe, "train_step", original)
    run(split, resume=True, steps=12)
    assert_same_run(whole, split)


def test_sigint_stops_after_the_current_step(tmp_path, monkeypatch):
    whole, split = tmp_path / "whole", tmp_path / "split"
    run(whole, steps=10)
    calls = []
    original = TinyRecipe.train_step

    def step_with_sigint(self, batch):
        calls.append(1)
        if len(calls) == 3:
            sigint()                              # deferred: this step still completes
        return original(self, batch)

    monkeypatch.setattr(TinyRecipe, "train_step", step_with_sigint)
    handler = signal.getsignal(signal.SIGINT)
    assert run(split, steps=10)["steps"] == 3
    assert signal.getsignal(signal.SIGINT) is handler
    monkeypatch.setattr(TinyRecipe, "train_step", original)
    run(split, resume=True, steps=10)
    assert_same_run(whole, split)


def test_a_second_sigint_does_not_cut_the_step_short(tmp_path, monkeypatch, capsys):
    """Two Ctrl-Cs, the second between backward and the optimizer step: the step still
    finishes, so the checkpoint of step 3 holds all of it and resuming is exact."""
    whole, split = tmp_path / "whole", tmp_path / "split"
    run(whole, steps=10)
    calls = []
    step, optimizer_step = TinyRecipe.train_step, tg.optim.Adam.step

    def step_with_sigint(self, batch):
        calls.append(1)
        if len(calls) == 3:
            sigint()
        return step(self, batch)

    def optimizer_step_with_sigint(self, *args, **kwargs):
        if len(calls) == 3:
            sigint()
        return optimizer_step(self, *args, **kwargs)

    monkeypatch.setattr(TinyRecipe, "train_step", step_with_sigint)
    monkeypatch.setattr(tg.optim.Adam, "step", optimizer_step_with_sigint)
    summary = run(split, steps=10)
    assert summary["interrupted"] and summary["steps"] == 3
    out = capsys.readouterr().out
    assert "Ctrl-C: already stopping" in out and "checkpoint of step 3 saved" in out
    monkeypatch.undo()
    run(split, resume=True, steps=10)
    assert_same_run(whole, split)


def test_sigint_in_the_final_evaluation_keeps_the_final_checkpoint(tmp_path, monkeypatch,
                                                                    capsys):
    """The final checkpoint is written before the final evaluation: Ctrl-C there stops at
    once, and resuming only evaluates (one evaluation record, then metrics.json)."""
    whole, split = tmp_path / "whole", tmp_path / "split"
    run(whole, steps=6)
    original, calls = TinyRecipe.evaluate, []

    def evaluate_with_sigint(self):
        calls.append(1)
        if len(calls) == 2:                        # the final one (the first is at step 4)
            sigint()                               # raises at once: the checkpoint is saved
        return original(self)

    monkeypatch.setattr(TinyRecipe, "evaluate", evaluate_with_sigint)
    summary = run(split, steps=6)
    assert summary["interrupted"] and summary["steps"] == 6
    assert "Evaluate it with: tinygen train tiny-test --resume" in capsys.readouterr().out
    assert load_checkpoint(split / "checkpoint.safetensors")["step"] == 6
    assert not (split / "metrics.json").exists()
    monkeypatch.setattr(TinyRecipe, "evaluate", original)
    assert run(split, resume=True, steps=6)["steps"] == 6
    assert [r["step"] for r in records(split, "eval")] == [4, 6]
    assert_same_run(whole, split)
    assert json.loads((split / "metrics.json").read_text())["metrics"]["val_loss"] == \
        records(whole, "eval")[-1]["val_loss"]


def test_resuming_a_finished_run_does_nothing(tmp_path):
    run(tmp_path, steps=6)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for steps in (6, 5):
        with pytest.raises(ValueError, match="already at step 6 >= --steps %d; nothing to do"
                           % steps):
            run(tmp_path, resume=True, steps=steps)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_fresh_run_refuses_a_run_directory_unless_told_to_overwrite(tmp_path):
    run(tmp_path, steps=6)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="already holds a run .*--resume.*--overwrite"):
        run(tmp_path, steps=2)
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 6
    train("tiny-test", {"out": tmp_path, "steps": 2, "eval_every": 0}, progress=False,
          overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint.safetensors", "checkpoint_2.safetensors", "log.csv", "log.jsonl",
        "loss.png", "metrics.json", "notes.txt", "samples_2.png"]


def test_an_unusable_run_directory_is_refused_before_training(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(ValueError, match="afile is a file"):
        run(tmp_path / "afile", steps=2)
    with pytest.raises(NotADirectoryError):
        run(tmp_path / "afile" / "sub", steps=2)


def test_a_run_started_while_stopping_saves_nothing_and_leaves_no_run(tmp_path, capsys):
    """The scoring classifier's case: a run started in an evaluation after Ctrl-C does no
    step, saves nothing and leaves a directory that a later fresh run may use."""
    from tinygen.train.interrupt import DeferredInterrupt

    with DeferredInterrupt(print) as outer:
        outer.requested = True
        summary = run(tmp_path, steps=3)
    assert summary["interrupted"] and summary["steps"] == 0 and summary["checkpoint"] is None
    assert "Interrupted before the first step; nothing saved" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    assert run(tmp_path, steps=3)["steps"] == 3


def test_nested_runs_pass_sigint_outwards(capsys):
    """A run inside another's evaluation (the scoring classifier): its Ctrl-C stops the outer
    run too, a second one is ignored, a run started while the outer one is stopping starts
    stopped, and after ``saved`` a Ctrl-C raises at once."""
    from tinygen.train.interrupt import DeferredInterrupt

    with DeferredInterrupt(print) as outer:
        with DeferredInterrupt(print) as inner:
            assert inner.outer is outer
            sigint()
            sigint()                               # ignored, with a word
        assert inner.requested and outer.requested
        with DeferredInterrupt(print) as late:
            assert late.requested
        with pytest.raises(KeyboardInterrupt):
            outer.saved()                          # a Ctrl-C came before: stop now
    out = capsys.readouterr().out
    assert out.count("Ctrl-C: stopping after this step") == 1
    assert out.count("Ctrl-C: already stopping") == 1
    with DeferredInterrupt(print) as alone:
        alone.saved()
        with pytest.raises(KeyboardInterrupt):
            sigint()


def test_epochs_become_steps(tmp_path):
    trainer = Trainer("tiny-test", {"out": tmp_path}, epochs=3, progress=False)
    assert trainer.config["steps"] == 3 * trainer.recipe.batches_per_epoch == 12


def test_configuration_errors(tmp_path):
    with pytest.raises(ValueError, match="no epochs .*--steps"):
        Trainer("tiny-test", {"out": tmp_path, "epochs_known": False}, epochs=2)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        Trainer("tiny-test", {"out": tmp_path}, epochs=0)
    with pytest.raises(ValueError, match="unknown model family 'nope'; choose one of: .*tiny"):
        Trainer("nope")
    with pytest.raises(ValueError, match="has no option 'latent'"):
        Trainer("tiny-test", {"latent": 3})
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        Trainer("tiny-test", {"steps": 0})
    with pytest.raises(ValueError, match="lr must be a positive number, got 0.0"):
        Trainer("tiny-test", {"lr": 0.0})
    with pytest.raises(ValueError, match="eval_every must be an integer >= 0, got -1"):
        Trainer("tiny-test", {"eval_every": -1})
    with pytest.raises(ValueError, match="hidden must be an integer >= 0, got 2.5"):
        Trainer("tiny-test", {"hidden": 2.5})
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got -1"):
        Trainer("tiny-test", {"seed": -1})
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        Trainer("tiny-test", {"out": tmp_path}, resume=True)


def test_profile_records_the_steps(tmp_path):
    trainer = Trainer("tiny-test", {"out": tmp_path / "run"}, progress=False)
    prof = trainer.profile(2)
    calls = {row.name: row.calls for row in prof.key_averages()}
    assert calls, "the profile recorded no op"
    assert all(n % 2 == 0 for n in calls.values())      # two identical steps
    assert not (tmp_path / "run").exists()

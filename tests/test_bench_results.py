"""tinygen.bench.results: the timers (steps take turns round by round, each call is synced, the
best round's median comes back; counted, not timed) and running a benchmark's child process."""

import pytest

from tinygen.bench import results
from tinygen.bench.results import best_in_turns_ms, best_median_s, keep_best, run_child


def test_steps_take_turns_and_every_call_is_synced():
    log = []
    steps = [lambda: log.append("a"), lambda: log.append("b")]
    times = best_in_turns_ms(steps, rounds=3, calls=2, warmup=1, pause=0.0,
                             sync=lambda: log.append("sync"))
    assert len(times) == 2 and all(t >= 0 for t in times)
    assert log[:3] == ["a", "b", "sync"]                       # warm-up, then one sync
    timed = log[3:]
    assert timed == ["a", "sync", "a", "sync", "b", "sync", "b", "sync"] * 3


def test_best_median_s_is_one_step_in_seconds():
    calls = []
    seconds = best_median_s(lambda: calls.append(1), rounds=4, calls=5, warmup=2)
    assert len(calls) == 2 + 4 * 5
    assert 0 <= seconds < 0.01                               # a list append, in seconds


def test_run_child_returns_the_json_line_and_reports_a_failure(tmp_path):
    script = tmp_path / "child.py"
    script.write_text("import sys, json\nprint('warming up')\n"
                      "if sys.argv[1] == 'fail': raise SystemExit('no such row')\n"
                      "print(json.dumps({'rows': sys.argv[1:], 'stdin': sys.stdin.read()}))\n")
    assert run_child(script, ["a", "b"], stdin="x") == {"rows": ["a", "b"], "stdin": "x"}
    with pytest.raises(RuntimeError, match="child.py fail failed:\n.*no such row"):
        run_child(script, ["fail"])


def test_keep_best_keeps_each_rows_lowest_time_over_runs():
    best = {}
    keep_best(best, {"conv": 18.0, "linear": 4.9})
    assert keep_best(best, {"conv": 16.5, "linear": 5.2, "attention": 40.0}) is best
    assert best == {"conv": 16.5, "linear": 4.9, "attention": 40.0}


def test_machine_names_the_gpu_when_asked(monkeypatch):
    from tinygen import cuda
    monkeypatch.setattr(cuda, "get_device_name", lambda index=0: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(cuda, "get_device_memory", lambda index=0: (1 << 30, 80 * 2**30))
    monkeypatch.setattr(cuda, "runtime_version", lambda: "12.8")
    assert "- GPU: NVIDIA H100 80GB HBM3, 80 GiB, CUDA 12.8\n" in results.machine(gpu=True)
    assert "GPU" not in results.machine()

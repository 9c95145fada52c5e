"""tinygen.bench.results timers: steps take turns round by round, each call is synced, and the
best round's median comes back (counted, not timed)."""

from tinygen.bench.results import best_in_turns_ms, best_median_s


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

"""tg.jit: torch.jit's entry points hand back what they are given, so code written for
TorchScript runs eagerly; saving or loading a TorchScript archive says to use tg.save/tg.load."""

import pytest

import tinygen as tg
from tinygen import nn


def test_script_and_trace_return_the_same_object():
    model = nn.Linear(3, 2)
    x = tg.ones(1, 3)
    assert tg.jit.script(model) is model
    assert tg.jit.trace(model, x) is model
    assert tg.jit.trace(model, example_inputs=(x,), check_trace=False) is model
    assert tg.jit.trace_module(model, {"forward": x}) is model
    assert tg.jit.freeze(model) is model and tg.jit.optimize_for_inference(model) is model

    @tg.jit.script
    def double(t):
        return 2 * t
    assert double(tg.tensor(1.5)).item() == 3.0
    assert tg.compile(double) is double                   # tg.compile passes through too


def test_decorators_pass_through_and_eager_code_paths_run():
    class Net(nn.Module):
        scale: tg.jit.Final[int] = 3

        @tg.jit.ignore
        def helper(self, t):
            return t + 1

        @tg.jit.ignore(drop=True)
        def dropped(self, t):
            return t - 1

        @tg.jit.unused
        def unused(self, t):
            return t * 0

        @tg.jit.export
        def exported(self, t):
            return t * self.scale

        def forward(self, t):
            if tg.jit.is_scripting() or tg.jit.is_tracing():
                raise AssertionError("tinygen never scripts or traces")
            return self.helper(self.dropped(self.exported(t)))

    net = tg.jit.script(Net())
    assert net(tg.tensor([1.0, 2.0])).tolist() == [3.0, 6.0]
    assert net.unused(tg.tensor(5.0)).item() == 0.0
    assert tg.jit.annotate(list, [1]) == [1]


def test_fork_runs_at_once_and_wait_returns_its_value():
    future = tg.jit.fork(lambda a, b=0: a + b, 2, b=3)
    assert future.done() and tg.jit.wait(future) == 5


@pytest.mark.parametrize("call", [lambda p: tg.jit.save(nn.Linear(1, 1), p),
                                  lambda p: tg.jit.load(p)], ids=["save", "load"])
def test_archives_point_to_tg_save_and_load(call, tmp_path):
    with pytest.raises(NotImplementedError, match=r"tg\.save\(model\.state_dict\(\), path\)"):
        call(tmp_path / "model.pt")
    assert not (tmp_path / "model.pt").exists()


def test_jit_flags_match_torch():
    torch = pytest.importorskip("torch")
    assert tg.jit.is_scripting() == torch.jit.is_scripting() is False
    assert tg.jit.is_tracing() == torch.jit.is_tracing() is False
    missing = {name for name in ("script", "trace", "trace_module", "ignore", "unused", "export",
                                 "is_scripting", "is_tracing", "save", "load", "annotate",
                                 "fork", "wait", "freeze", "Final")
               if not hasattr(torch.jit, name)}
    assert not missing                                      # the names exist in torch.jit

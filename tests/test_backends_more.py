"""tinygen.backends beyond cuda/cudnn (cpu, mkl, mkldnn, openmp), the flag contexts and the
attention switches, tg.version and tg.accelerator: values as PyTorch's CPU build gives them where
tinygen's situation is the same, and tinygen's own answers (no MKL, no oneDNN) where it is not."""

import importlib

import pytest

import tinygen as tg
from tinygen import backends, threads

NO_GPU = pytest.mark.skipif(tg.cuda.is_available(), reason="checks the behaviour without a GPU")


def test_cpu_capability_is_one_of_pytorchs_names():
    capability = backends.cpu.get_cpu_capability()
    assert capability in ("AVX512", "AVX2", "DEFAULT")
    features = backends.cpu._numpy_cpu_features()
    if capability == "AVX512":
        assert features["AVX512F"] and features["AVX512BW"]
    if features.get("AVX2") and features.get("FMA3"):
        assert capability != "DEFAULT"


def test_cpu_capability_matches_torch_on_x86():
    torch = pytest.importorskip("torch")
    ours, theirs = backends.cpu.get_cpu_capability(), torch.backends.cpu.get_cpu_capability()
    if theirs not in ("AVX512", "AVX2", "DEFAULT"):
        pytest.skip(f"torch reports {theirs} (not an x86 level)")
    assert ours == theirs


def test_no_mkl_or_onednn():
    assert backends.mkl.is_available() is False and backends.mkldnn.is_available() is False
    assert importlib.import_module("tinygen.backends.mkldnn") is backends.mkldnn


def test_openmp_follows_numbas_threading_layer():
    available = backends.openmp.is_available()
    numba = threads._numba()
    if numba is None:
        assert available is False
    else:
        assert available is (numba.threading_layer() == "omp")


@pytest.mark.parametrize("module, names", [
    (backends.cudnn, ("enabled", "benchmark", "deterministic", "allow_tf32")),
    (backends.mkldnn, ("enabled", "deterministic", "allow_tf32")),
])
def test_flags_context_sets_then_restores(module, names):
    before = {name: getattr(module, name) for name in names}
    with module.flags(**{name: not value for name, value in before.items()}):
        assert {name: getattr(module, name) for name in names} == \
            {name: not value for name, value in before.items()}
    assert {name: getattr(module, name) for name in names} == before


def test_flag_defaults_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs, names in [
            (backends.cudnn, torch.backends.cudnn, ("enabled", "benchmark", "deterministic",
                                                    "allow_tf32")),
            (backends.mkldnn, torch.backends.mkldnn, ("enabled", "deterministic")),
            (backends.cuda.matmul, torch.backends.cuda.matmul, ("allow_tf32",))]:
        for name in names:
            assert getattr(ours, name) == getattr(theirs, name), name
    assert backends.cuda.flash_sdp_enabled() == torch.backends.cuda.flash_sdp_enabled()


def test_attention_switches_read_back():
    for kind in ("flash", "mem_efficient", "math", "cudnn"):
        enable = getattr(backends.cuda, f"enable_{kind}_sdp")
        enabled = getattr(backends.cuda, f"{kind}_sdp_enabled")
        assert enabled() is True
        enable(False)
        try:
            assert enabled() is False
        finally:
            enable(True)


def test_version_module():
    from tinygen import version
    assert version.__version__ == tg.__version__ and version.git_version is None
    assert version.hip is None and version.debug is False
    if tg.cuda.is_available():
        assert version.cuda == tg.cuda.runtime_version()
    else:
        assert version.cuda is None
    with pytest.raises(AttributeError, match="no attribute 'rocm_x'"):
        version.rocm_x


@NO_GPU
def test_version_cuda_is_none_as_torch_cpu():
    torch = pytest.importorskip("torch")
    if torch.version.cuda is not None:
        pytest.skip("torch has CUDA here")
    assert tg.version.cuda is None


@NO_GPU
def test_accelerator_without_a_gpu_matches_torch():
    acc = tg.accelerator
    assert acc.is_available() is False and acc.current_accelerator() is None
    assert acc.device_count() == 0
    calls = [acc.current_device_index, lambda: acc.set_device_index(0), acc.synchronize,
             acc.empty_cache]
    for call in calls:
        with pytest.raises(RuntimeError, match="none is available"):
            call()
    with pytest.raises(RuntimeError, match="none is available"):
        with acc.device_index(0):
            pass
    with acc.device_index(None):
        pass
    torch = pytest.importorskip("torch")
    if torch.accelerator.is_available():
        pytest.skip("torch has an accelerator here")
    assert torch.accelerator.current_accelerator() is None and torch.accelerator.device_count() == 0
    with pytest.raises(RuntimeError, match="none is available"):
        torch.accelerator.current_device_index()


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_accelerator_on_a_gpu():
    acc = tg.accelerator
    assert acc.is_available() and acc.current_accelerator() == tg.device("cuda")
    assert acc.device_count() == tg.cuda.device_count()
    index = acc.current_device_index()
    acc.set_device_index(index)
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    acc.synchronize()
    acc.empty_cache()
    assert tg.cuda.is_available() is tg.backends.cuda.is_built()

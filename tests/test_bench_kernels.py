"""`tinygen bench kernels`: the quick smoke run times every kernel and records its section and
chart; the target check and the RESULTS.md section writer behave on known inputs."""

import pytest

import tinygen as tg
from tinygen import kernels
from tinygen.bench.kernels import TARGETS, Row, misses, summary
from tinygen.bench.results import write_section
from tinygen.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_quick_run_has_a_row_per_kernel_and_writes_results(tmp_path, capsys):
    assert main(["bench", "kernels", "--quick", "--write", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    names = [line.split(" | ")[0].lstrip("| ") for line in out.splitlines()
             if " | small | 4,096 | " in line]
    assert sorted(names) == sorted(set(kernels.NAMES) - {"im2col_strided"})
    assert "copy bandwidth" in out and "### im2col strategies" in out
    results = (tmp_path / "RESULTS.md").read_text()
    assert results.startswith("# Benchmark results")
    assert "## kernels\n" in results and "| softmax | small | 4,096 |" in results
    assert "![kernels](kernels.png)" in results
    assert (tmp_path / "kernels.png").read_bytes().startswith(PNG_SIGNATURE)


def test_misses_names_each_target_missed_at_the_large_size():
    copy_gbps = 10.0
    nbytes = 2 * 4 * 2**22
    good = Row("gelu", "large", 2**22, nbytes, dict(reference=0.1, fused=0.005, torch=0.006))
    slow = Row("softmax", "large", 2**22, nbytes, dict(reference=0.01, fused=0.008, torch=0.004))
    absent = Row("col2im", "large", 2**22, nbytes, dict(reference=0.01, fused=None, torch=0.004))
    small = Row("softmax", "small", 4096, 8 * 4096, dict(reference=1.0, fused=2.0))
    found = misses([good, slow, absent, small], copy_gbps, TARGETS["cpu"])
    assert set(found) == {"softmax", "col2im"}
    assert found["softmax"] == ["1.25x its reference", "42% of copy bandwidth",
                                "2.00x PyTorch's time"]
    assert found["col2im"] == ["no fused kernel"]
    assert "Met by 1 of 3 kernels" in summary([good, slow, absent], copy_gbps, TARGETS["cpu"])
    on_gpu = misses([good, slow], copy_gbps, TARGETS["cuda"])     # faster, within 1.5x torch
    assert on_gpu == {"softmax": ["2.00x PyTorch's time"]}


@pytest.mark.skipif(tg.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_a_gpu_is_a_clear_error(capsys):
    assert main(["bench", "kernels", "--device", "cuda", "--quick"]) == 2
    assert "CuPy or a GPU is not available" in capsys.readouterr().err


def test_write_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "RESULTS.md"
    write_section(path, "## kernels\n\nold\n")
    write_section(path, "## kernels-cuda\n\ngpu\n")
    write_section(path, "## kernels\n\nnew\n### im2col strategies\n\nsub\n")
    text = path.read_text()
    assert "old" not in text and text.count("## kernels\n") == 1
    assert text.index("new") < text.index("sub") < text.index("## kernels-cuda\n\ngpu")

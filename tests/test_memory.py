"""tinygen.memory: freed large blocks stay in the heap, so the next step's block of the same size
costs no page faults; the user's own malloc settings and the opt-out are respected."""

import os
import subprocess
import sys

import pytest

from tinygen import memory

pytestmark = pytest.mark.skipif(not memory._glibc(), reason="glibc's mallopt only")

# Allocate, touch and free a 64 MiB block, then count the page faults of doing it again.
REFAULTS = """
import resource, numpy as np, tinygen
def block():
    a = np.empty(1 << 24, np.float32); a.fill(1.0); del a
block()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def refaults(**env):
    base = {k: v for k, v in os.environ.items() if k not in memory.USER_SETTINGS}
    out = subprocess.run([sys.executable, "-c", REFAULTS], capture_output=True, text=True,
                         check=True, env={**base, **env})
    return int(out.stdout.split()[-1])


def test_a_freed_large_block_is_reused_without_page_faults():
    assert refaults() < 10                          # the block came back from the heap
    assert refaults(TINYGEN_KEEP_FREED_MEMORY="0") > 16      # fresh: 16k pages, or 32 huge


def test_respects_the_users_malloc_settings_and_the_opt_out(monkeypatch):
    for name in memory.USER_SETTINGS:                # the machine's own settings, if any
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TINYGEN_KEEP_FREED_MEMORY", "0")
    assert not memory.keep_freed_memory()
    monkeypatch.delenv("TINYGEN_KEEP_FREED_MEMORY")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert not memory.keep_freed_memory()
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    assert memory.keep_freed_memory()

"""Every kernel of tinygen.kernels at three sizes: plain reference, fused twin (Numba on the CPU,
CuPy on CUDA) and PyTorch, with GB/s beside the machine's copy bandwidth, and the im2col
strategies side by side. The logic lives in ``tinygen/bench/kernels.py``, which
``tinygen bench kernels`` runs too.

    python benchmarks/kernels.py                  # print the markdown tables
    python benchmarks/kernels.py --write          # also update RESULTS.md and kernels.png here
    python benchmarks/kernels.py --device cuda    # the CuPy kernels (section kernels-cuda)
"""

import argparse
import sys
from pathlib import Path

from tinygen.bench import kernels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    kernels.add_arguments(parser, out_dir=Path(__file__).parent)
    return kernels.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

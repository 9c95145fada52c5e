"""``torch.backends``' switches, so that scripts which set them run unchanged.

tinygen has no cuDNN, no TF32 matrix products, no MKL or oneDNN and no Apple GPU: the flags are
kept (a script may read back what it set) and change nothing. ``tinygen.cuda`` says whether a
CUDA GPU is in use; ``backends.cpu`` and ``backends.openmp`` describe the CPU kernels.
"""

from tinygen.backends import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]

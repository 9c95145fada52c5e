"""``torch.backends``' switches, so that scripts which set them run unchanged.

tinygen has no cuDNN, no TF32 matrix products and no Apple GPU: the flags are kept (a script may
read back what it set) and change nothing. ``tinygen.cuda`` says whether a CUDA GPU is in use.
"""

from tinygen.backends import cuda, cudnn, mps  # noqa: F401

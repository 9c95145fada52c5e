"""``torch.backends.mkl``: tinygen calls no Intel MKL (its matrix products go through NumPy's
BLAS, OpenBLAS in NumPy's wheels)."""


def is_available():
    return False

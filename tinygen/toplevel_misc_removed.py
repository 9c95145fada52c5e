"""Names PyTorch removed in 1.9 but still defines, so that old scripts fail with directions:
``torch.solve``, ``torch.lstsq``, ``torch.symeig``, ``torch.eig`` and ``torch.matrix_rank``
raise RuntimeError with PyTorch's text, pointing to ``tinygen.linalg``.
"""

_REMOVED = "This function was deprecated since version 1.9 and is now removed. "


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    raise RuntimeError(
        _REMOVED.rstrip(" ") + "\n"
        "Please use the `tinygen.linalg.matrix_rank` function instead. The parameter "
        "'symmetric' was renamed in `tinygen.linalg.matrix_rank()` to 'hermitian'.")


def solve(input, A, *, out=None):
    raise RuntimeError(
        _REMOVED + "`tinygen.solve` is deprecated in favor of `tinygen.linalg.solve`. "
        "`tinygen.linalg.solve` has its arguments reversed and does not return the LU "
        "factorization.\n\n"
        "To get the LU factorization see `tinygen.lu`, which can be used with "
        "`tinygen.lu_solve` or `tinygen.lu_unpack`.\n"
        "X = tinygen.solve(B, A).solution should be replaced with:\n"
        "X = tinygen.linalg.solve(A, B)")


def lstsq(input, A, *, out=None):
    raise RuntimeError(
        _REMOVED + "`tinygen.lstsq` is deprecated in favor of `tinygen.linalg.lstsq`.\n"
        "`tinygen.linalg.lstsq` has reversed arguments and does not return the QR "
        "decomposition in the returned tuple (although it returns other information about the "
        "problem).\n\n"
        "To get the QR decomposition consider using `tinygen.linalg.qr`.\n\n"
        "The returned solution in `tinygen.lstsq` stored the residuals of the solution in the "
        "last m - n columns of the returned value whenever m > n. In tinygen.linalg.lstsq, "
        "the residuals are in the field 'residuals' of the returned named tuple.\n\n"
        "The unpacking of the solution, as in\n"
        "X, _ = tinygen.lstsq(B, A).solution[:A.size(1)]\n"
        "should be replaced with:\n"
        "X = tinygen.linalg.lstsq(A, B).solution")


def symeig(input, eigenvectors=False, upper=True, *, out=None):
    raise RuntimeError(
        _REMOVED + "The default behavior has changed from using the upper triangular portion "
        "of the matrix by default to using the lower triangular portion.\n\n"
        "L, _ = tinygen.symeig(A, upper=upper) should be replaced with:\n"
        "L = tinygen.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\n"
        "and\n\n"
        "L, V = tinygen.symeig(A, eigenvectors=True) should be replaced with:\n"
        "L, V = tinygen.linalg.eigh(A, UPLO='U' if upper else 'L')")


def eig(self, eigenvectors=False, *, e=None, v=None):
    raise RuntimeError(
        _REMOVED + "`tinygen.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` "
        "rather than real tensors mimicking complex tensors.\n\n"
        "L, _ = tinygen.eig(A) should be replaced with:\n"
        "L_complex = tinygen.linalg.eigvals(A)\n\n"
        "and\n\n"
        "L, V = tinygen.eig(A, eigenvectors=True) should be replaced with:\n"
        "L_complex, V_complex = tinygen.linalg.eig(A)\n\n"
        "(tinygen has no complex dtypes, hence no linalg.eig: for a symmetric A use "
        "tinygen.linalg.eigh.)")

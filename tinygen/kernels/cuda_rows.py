"""CuPy twins of the row kernels of ``reference.py``: softmax, log_softmax, causal softmax,
cross-entropy and layer norm, each reduced over the last axis ("rows").

One CUDA block handles one row: its threads stride over the row, reduce through warp shuffles
and a 32-slot shared buffer (one slot per warp), and write the row back, so a row is read from
global memory a few times (it sits in cache after the first) and written once. The source is one
C++ template, compiled by NVRTC for float and double on first use (``cuda.py`` exposes these
functions beside the elementwise ones; the dispatcher finds them there).
"""

import functools
import math

import numpy as np

from tinygen.kernels.reference import _check_cross_entropy

_SOURCE = r"""
template <typename T> __device__ T neg_inf();
template <> __device__ float neg_inf<float>() { return -__int_as_float(0x7f800000); }
template <> __device__ double neg_inf<double>() {
    return -__longlong_as_double(0x7ff0000000000000LL);
}
template <typename T> __device__ T quiet_nan();
template <> __device__ float quiet_nan<float>() { return __int_as_float(0x7fc00000); }
template <> __device__ double quiet_nan<double>() {
    return __longlong_as_double(0x7ff8000000000000LL);
}

// Sum (or max) of v over the block; every thread receives the result.
template <typename T, bool IS_MAX> __device__ T block_reduce(T v, T* shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    for (int k = 16; k > 0; k >>= 1) {
        T other = __shfl_xor_sync(0xffffffffu, v, k);
        v = IS_MAX ? fmax(v, other) : v + other;
    }
    __syncthreads();                       // shared[0] may still be read from the last call
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? shared[lane] : (IS_MAX ? neg_inf<T>() : (T)0);
        for (int k = 16; k > 0; k >>= 1) {
            T other = __shfl_xor_sync(0xffffffffu, v, k);
            v = IS_MAX ? fmax(v, other) : v + other;
        }
        if (lane == 0) shared[0] = v;
    }
    __syncthreads();
    return shared[0];
}

// Row r of D scores is query r % queries; it sees keys j < r % queries + offset + 1 and the
// rest get 0. A plain (log_)softmax is queries = 1, offset = D - 1: every key visible.
template <typename T>
__global__ void softmax_rows(const T* x, T* y, int D, long long queries, long long offset,
                             T scale, int log_out) {
    __shared__ T shared[32];
    const T* xr = x + (long long)blockIdx.x * D;
    T* yr = y + (long long)blockIdx.x * D;
    long long visible = (long long)blockIdx.x % queries + offset + 1;
    int n = visible < 0 ? 0 : (visible > D ? D : (int)visible);
    T m = neg_inf<T>();
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmax(m, scale * xr[j]);
    m = block_reduce<T, true>(m, shared);
    if (!isfinite(m)) m = 0;               // as reference._row_max: -inf rows stay -inf
    T s = 0;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += exp(scale * xr[j] - m);
    s = block_reduce<T, false>(s, shared);
    if (log_out) {
        T log_s = log(s);
        for (int j = threadIdx.x; j < n; j += blockDim.x) yr[j] = (scale * xr[j] - m) - log_s;
    } else {
        for (int j = threadIdx.x; j < n; j += blockDim.x) yr[j] = exp(scale * xr[j] - m) / s;
    }
    for (int j = n + threadIdx.x; j < D; j += blockDim.x) yr[j] = 0;
}

// grad_x = y (grad_y - sum(grad_y y)), or for log-softmax grad_y - exp(y) sum(grad_y).
template <typename T>
__global__ void softmax_backward_rows(const T* y, const T* gy, T* gx, int D, int log_in) {
    __shared__ T shared[32];
    long long start = (long long)blockIdx.x * D;
    T s = 0;
    for (int j = threadIdx.x; j < D; j += blockDim.x)
        s += log_in ? gy[start + j] : gy[start + j] * y[start + j];
    s = block_reduce<T, false>(s, shared);
    for (int j = threadIdx.x; j < D; j += blockDim.x) {
        T g = gy[start + j], v = y[start + j];
        gx[start + j] = log_in ? g - exp(v) * s : v * (g - s);
    }
}

// loss = logsumexp(x) - x[t], grad = softmax(x) - onehot(t); zeros where t == ignore_index.
template <typename T>
__global__ void cross_entropy_rows(const T* x, const long long* target, T* loss, T* grad,
                                   int C, long long ignore_index) {
    __shared__ T shared[32];
    const T* xr = x + (long long)blockIdx.x * C;
    T* gr = grad + (long long)blockIdx.x * C;
    long long t = target[blockIdx.x];
    if (t == ignore_index) {               // the whole block leaves together
        for (int j = threadIdx.x; j < C; j += blockDim.x) gr[j] = 0;
        if (threadIdx.x == 0) loss[blockIdx.x] = 0;
        return;
    }
    T m = neg_inf<T>();
    for (int j = threadIdx.x; j < C; j += blockDim.x) m = fmax(m, xr[j]);
    m = block_reduce<T, true>(m, shared);
    if (!isfinite(m)) m = 0;
    T s = 0;
    for (int j = threadIdx.x; j < C; j += blockDim.x) s += exp(xr[j] - m);
    T log_s = log(block_reduce<T, false>(s, shared));
    // A target outside [0, C) is bad input, reported by device_checks at the next read: it
    // reads no memory here, and its loss is NaN.
    if (threadIdx.x == 0) loss[blockIdx.x] = (t >= 0 && t < C) ? log_s - (xr[t] - m)
                                                               : quiet_nan<T>();
    for (int j = threadIdx.x; j < C; j += blockDim.x)
        gr[j] = exp((xr[j] - m) - log_s) - (j == t ? (T)1 : (T)0);
}

// y = (x - mean) rstd weight + bias; mean and var by two passes over the cached row.
template <typename T>
__global__ void layer_norm_rows(const T* x, const T* weight, const T* bias, T* y, T* mean,
                                T* rstd, int D, T eps, int has_weight, int has_bias) {
    __shared__ T shared[32];
    const T* xr = x + (long long)blockIdx.x * D;
    T* yr = y + (long long)blockIdx.x * D;
    T s = 0;
    for (int j = threadIdx.x; j < D; j += blockDim.x) s += xr[j];
    T mu = block_reduce<T, false>(s, shared) / D;
    T q = 0;
    for (int j = threadIdx.x; j < D; j += blockDim.x) q += (xr[j] - mu) * (xr[j] - mu);
    T r = (T)1 / sqrt(block_reduce<T, false>(q, shared) / D + eps);
    if (threadIdx.x == 0) {
        mean[blockIdx.x] = mu;
        rstd[blockIdx.x] = r;
    }
    for (int j = threadIdx.x; j < D; j += blockDim.x) {
        T v = (xr[j] - mu) * r;
        if (has_weight) v *= weight[j];
        if (has_bias) v += bias[j];
        yr[j] = v;
    }
}

// grad_x = rstd (g - mean(g) - xhat mean(g xhat)), g = grad_y weight, xhat = (x - mean) rstd.
template <typename T>
__global__ void layer_norm_backward_rows(const T* gy, const T* x, const T* mean, const T* rstd,
                                         const T* weight, T* gx, int D, int has_weight) {
    __shared__ T shared[32];
    long long start = (long long)blockIdx.x * D;
    T mu = mean[blockIdx.x], r = rstd[blockIdx.x];
    T a = 0, b = 0;
    for (int j = threadIdx.x; j < D; j += blockDim.x) {
        T g = has_weight ? gy[start + j] * weight[j] : gy[start + j];
        a += g;
        b += g * (x[start + j] - mu) * r;
    }
    a = block_reduce<T, false>(a, shared) / D;
    b = block_reduce<T, false>(b, shared) / D;
    for (int j = threadIdx.x; j < D; j += blockDim.x) {
        T g = has_weight ? gy[start + j] * weight[j] : gy[start + j];
        gx[start + j] = r * (g - a - (x[start + j] - mu) * r * b);
    }
}
"""
_KERNELS = ("softmax_rows", "softmax_backward_rows", "cross_entropy_rows", "layer_norm_rows",
            "layer_norm_backward_rows")
_CTYPES = {"float32": "float", "float64": "double"}


@functools.cache
def _module():
    import cupy
    names = [f"{kernel}<{ctype}>" for kernel in _KERNELS for ctype in _CTYPES.values()]
    return cupy.RawModule(code=_SOURCE, name_expressions=names)


@functools.cache
def _kernel(name, dtype_name):
    if dtype_name not in _CTYPES:
        raise TypeError(f"CUDA kernels take float32 or float64 arrays, got {dtype_name}")
    return _module().get_function(f"{name}<{_CTYPES[dtype_name]}>")


def _launch(name, dtype, rows, width, *args):
    """One block of 32..512 threads (a whole number of warps) per row."""
    if rows > 0:
        threads = min(512, max(32, -(-width // 32) * 32))
        _kernel(name, np.dtype(dtype).name)((rows,), (threads,), args)


def _rows(x):
    """x as a contiguous (rows, D) array."""
    import cupy
    return cupy.ascontiguousarray(x).reshape(math.prod(x.shape[:-1]), x.shape[-1])


def _softmax(x, queries, offset, scale, log_out):
    import cupy
    rows = _rows(x)
    y = cupy.empty_like(rows)
    D = rows.shape[1]
    _launch("softmax_rows", rows.dtype, rows.shape[0], D, rows, y, np.int32(D),
            np.int64(queries), np.int64(offset), rows.dtype.type(scale), np.int32(log_out))
    return y.reshape(x.shape)


def softmax(x):
    """y = exp(x - max) / sum(exp(x - max)) over the last axis."""
    return _softmax(x, 1, x.shape[-1] - 1, 1.0, False)


def log_softmax(x):
    """y = (x - max) - log(sum(exp(x - max))) over the last axis."""
    return _softmax(x, 1, x.shape[-1] - 1, 1.0, True)


def causal_softmax(scores, scale):
    """softmax(scale * scores) over the keys each query sees (j <= i + S - T), 0 elsewhere."""
    T, S = scores.shape[-2:]
    return _softmax(scores, T, S - T, scale, False)


def _softmax_backward(y, grad_y, log_in):
    import cupy
    rows = _rows(y)
    grad = _rows(grad_y.astype(y.dtype, copy=False))
    grad_x = cupy.empty_like(rows)
    D = rows.shape[1]
    _launch("softmax_backward_rows", rows.dtype, rows.shape[0], D, rows, grad, grad_x,
            np.int32(D), np.int32(log_in))
    return grad_x.reshape(y.shape)


def softmax_backward(y, grad_y):
    """grad_x = y * (grad_y - sum(grad_y * y)): the softmax Jacobian applied to grad_y."""
    return _softmax_backward(y, grad_y, False)


def log_softmax_backward(y, grad_y):
    """grad_x = grad_y - softmax(x) * sum(grad_y), with softmax(x) = exp(y)."""
    return _softmax_backward(y, grad_y, True)


def cross_entropy(logits, target, ignore_index=-100):
    """(loss (N,), grad (N, C)): logsumexp - logit of the target, and softmax - onehot, in one
    pass per row; rows whose target is ignore_index get zeros."""
    import cupy
    N, C = _check_cross_entropy(logits, target, ignore_index)
    logits = cupy.ascontiguousarray(logits)
    target = cupy.ascontiguousarray(target, dtype=cupy.int64)
    loss = cupy.empty(N, logits.dtype)
    grad = cupy.empty_like(logits)
    _launch("cross_entropy_rows", logits.dtype, N, C, logits, target, loss, grad, np.int32(C),
            np.int64(ignore_index))
    return loss, grad


def layer_norm(x, weight, bias, eps):
    """(y, mean, rstd) for rows of x (..., D): y = (x - mean) * rstd * weight + bias."""
    import cupy
    rows = _rows(x)
    N, D = rows.shape
    y = cupy.empty_like(rows)
    mean = cupy.empty(N, rows.dtype)
    rstd = cupy.empty(N, rows.dtype)
    w = rows if weight is None else cupy.ascontiguousarray(weight, dtype=rows.dtype)
    b = rows if bias is None else cupy.ascontiguousarray(bias, dtype=rows.dtype)
    _launch("layer_norm_rows", rows.dtype, N, D, rows, w, b, y, mean, rstd, np.int32(D),
            rows.dtype.type(eps), np.int32(weight is not None), np.int32(bias is not None))
    return y.reshape(x.shape), mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


@functools.cache
def grad_weight_kernel():
    """sum of grad_y * (x - mean) * rstd over the reduced axes: the gradient of a norm's weight
    (layer norm reduces over rows, batch norm over N and L)."""
    import cupy
    return cupy.ReductionKernel("T gy, T x, T mean, T rstd", "T out", "gy * (x - mean) * rstd",
                                "a + b", "out = a", "0", "tinygen_norm_grad_weight")


def layer_norm_backward(grad_y, x, mean, rstd, weight):
    """(grad_x, grad_weight or None, grad_bias): grad_x in one pass per row, the parameter
    gradients as column sums."""
    import cupy
    rows = _rows(x)
    N, D = rows.shape
    grad = _rows(grad_y.astype(rows.dtype, copy=False))
    mean = cupy.ascontiguousarray(mean, dtype=rows.dtype).reshape(N)
    rstd = cupy.ascontiguousarray(rstd, dtype=rows.dtype).reshape(N)
    w = rows if weight is None else cupy.ascontiguousarray(weight, dtype=rows.dtype)
    grad_x = cupy.empty_like(rows)
    _launch("layer_norm_backward_rows", rows.dtype, N, D, grad, rows, mean, rstd, w, grad_x,
            np.int32(D), np.int32(weight is not None))
    grad_weight = None
    if weight is not None:
        grad_weight = grad_weight_kernel()(grad, rows, mean[:, None], rstd[:, None], axis=0)
    return grad_x.reshape(x.shape), grad_weight, grad.sum(axis=0)

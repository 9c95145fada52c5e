"""PyTorch's OpInfo samples for torch.nn.functional run through tinygen: values, dtypes and
float64 gradients must match torch's."""

import types

import pytest

from tests.differential.opinfo import (_run_sample, check_op, op_id, ops_in, ours,
                                       to_tinygen)

torch = pytest.importorskip("torch")

DIVERGES = {}


def _dropout_sdpa(sample):
    return sample.kwargs.get("dropout_p", 0.0) > 0


def _dropout_mha(sample):                  # args[9] is dropout_p
    return sample.args[9] > 0 and sample.kwargs.get("training", True)


def _sparse(sample):
    return bool(sample.kwargs.get("sparse"))


# Samples that draw random numbers (a dropout mask) compare shapes and dtypes only; the
# deterministic samples of the same op compare values and gradients as usual.
RANDOM_SAMPLES = {"nn.functional.scaled_dot_product_attention": _dropout_sdpa,
                  "nn.functional.multi_head_attention_forward": _dropout_mha}
OPTIONS = {
    # Windows placed at random: test_fractional_max_pool_fixed_windows fixes them.
    "nn.functional.fractional_max_pool2d": dict(values=False),
    "nn.functional.fractional_max_pool3d": dict(values=False),
    # torch's backward is only right for log_softmax outputs (pytorch#52241): it returns the
    # derivative projected onto the log-simplex. tinygen's is the exact derivative;
    # test_ctc_loss_grads_through_log_softmax compares the two where they must agree.
    "nn.functional.ctc_loss": dict(grads=False),
    # sparse=True samples: test_sparse_embedding_gradients_diverge
    "nn.functional.embedding": dict(skip=_sparse),
    "nn.functional.embedding_bag": dict(skip=_sparse),
}


@pytest.mark.parametrize("op", ops_in("nn", DIVERGES))
def test_nn_op_matches_torch(op):
    name = op_id(op)
    random = RANDOM_SAMPLES.get(name)
    if random is None:
        check_op(op, **OPTIONS.get(name, {}))
        return
    check_op(op, skip=random)
    check_op(op, values=False, skip=lambda sample: not random(sample))


def _op(name):
    return next(p.values[0] for p in ops_in("nn") if p.id == name)


@pytest.mark.parametrize("name", ["nn.functional.fractional_max_pool2d",
                                  "nn.functional.fractional_max_pool3d"])
def test_fractional_max_pool_fixed_windows(name):
    """With the same ``_random_samples`` both place the same windows: values, indices and
    float64 gradients must agree."""
    op, problems = _op(name), []
    spatial = 2 if name.endswith("2d") else 3
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        for i, sample in enumerate(op.sample_inputs("cpu", dtype, requires_grad=True)):
            x = sample.input
            batch, channels = (1, x.shape[0]) if x.ndim == spatial + 1 else x.shape[:2]
            sample.kwargs["_random_samples"] = torch.rand(batch, channels, spatial, dtype=dtype)
            problem = _run_sample(op, ours(op), sample, dtype == torch.float64, True)
            if problem:
                problems.append(f"{dtype} sample {i}: {problem}")
    assert not problems, "\n".join(problems[:8])


def test_ctc_loss_grads_through_log_softmax():
    """The samples' gradients with respect to logits fed through log_softmax to ctc_loss
    (torch's own gradcheck wrapper for ctc_loss), where torch's backward is exact."""
    op, problems = _op("nn.functional.ctc_loss"), []
    through = types.SimpleNamespace(name=op.name,
                                    op=lambda x, *a, **k: op.op(x.log_softmax(2), *a, **k))
    ours_through = lambda x, *a, **k: ours(op)(x.log_softmax(2), *a, **k)  # noqa: E731
    torch.manual_seed(0)
    for i, sample in enumerate(op.sample_inputs("cpu", torch.float64, requires_grad=True)):
        if i == 4:
            break
        sample.input = sample.input.detach().clone().requires_grad_()
        problem = _run_sample(through, ours_through, sample, True, True)
        if problem:
            problems.append(f"sample {i}: {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.xfail(strict=True, raises=NotImplementedError,
                   reason="sparse=True asks for a sparse COO weight.grad; tinygen's autograd "
                          "accumulates dense gradients only, so it refuses sparse=True")
@pytest.mark.parametrize("name", ["nn.functional.embedding", "nn.functional.embedding_bag"])
def test_sparse_embedding_gradients_diverge(name):
    op = _op(name)
    torch.manual_seed(0)
    sample = next(s for s in op.sample_inputs("cpu", torch.float32) if _sparse(s))
    memo = {}
    args = to_tinygen((sample.input, *sample.args), memo)
    ours(op)(*args, **to_tinygen(sample.kwargs, memo))

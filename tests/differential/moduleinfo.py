"""Run PyTorch's own module test inputs through tinygen.nn: the ModuleInfo database that
PyTorch tests every nn.Module with (torch.testing._internal.common_modules.module_db).

For each ModuleInfo whose class tinygen.nn has, every module input is built on both
libraries from the same constructor arguments; torch's parameters and buffers are loaded
into tinygen's module with load_state_dict(strict=True), so the state_dict keys and shapes
must agree too. Then both run the same forward input, in training and in eval mode, and the
outputs, the buffers after the call (BatchNorm's running statistics) and the float64
gradients of a random weighted sum of the outputs with respect to the inputs and to every
parameter must agree. The module error inputs (bad arguments) must raise the same builtin
error type as torch.

Lazy modules are run once under no_grad on both sides before the state is loaded (their
parameters take their shapes from the first input). At most MAX_INPUTS inputs per mode are
run, spread over the list, and the eval pass only where the ModuleInfo says that training and
eval can differ.

Needs torch and expecttest; the tests skip without them."""

import numpy as np
import pytest

import tinygen as tg
from tests.differential.opinfo import Unsupported, to_tinygen
from tests.helpers import host
from tests.differential.nn_compare import builtin_error

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")
from torch.testing._internal.common_modules import (  # noqa: E402
    ModuleErrorEnum, module_db)

TOLERANCE = 1e-7
MAX_INPUTS = 16


def module_id(info):
    return info.name


def modules_where(select, diverges=None):
    """pytest parameters for the ModuleInfos that `select(class name)` picks and tinygen.nn
    has; those named in `diverges` (name -> reason) are strict xfails."""
    diverges = diverges or {}
    return [pytest.param(info, id=info.name, marks=[pytest.mark.xfail(
                reason=diverges[info.name], strict=True)] if info.name in diverges else [])
            for info in module_db
            if select(info.name) and hasattr(tg.nn, info.module_cls.__name__)]


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _flatten(item)]
    return [out]


def _close(ours, theirs, what):
    """None when tinygen's array equals torch's within the tolerance, else what differs."""
    expected = theirs.numpy(force=True)
    actual = host(ours)
    if actual.shape != expected.shape:
        return f"{what}: shape {actual.shape}, torch {expected.shape}"
    try:
        np.testing.assert_allclose(actual, expected, rtol=TOLERANCE, atol=TOLERANCE,
                                   equal_nan=True)
    except AssertionError as exc:
        return f"{what} differs: " + " ".join(str(exc).split())[:300]
    return None


def _ours(value, memo):
    """to_tinygen, also for what module constructors take: a torch.nn.functional function
    (an activation) becomes tinygen's of that name, a torch layer (TransformerEncoder's
    encoder_layer) its tinygen twin."""
    if isinstance(value, torch.nn.Module):
        return _layer_twin(value)
    name = getattr(value, "__name__", None)
    if isinstance(name, str) and getattr(torch.nn.functional, name, None) is value:
        return getattr(tg.nn.functional, name)
    return to_tinygen(value, memo)


def _constructor_args(cargs, memo):
    return ([_ours(a, memo) for a in cargs.args],
            {k: _ours(v, memo) for k, v in cargs.kwargs.items()})


def _layer_twin(layer):
    """tinygen's Transformer{Encoder,Decoder}Layer built with the options of torch's."""
    if not isinstance(layer, (torch.nn.TransformerEncoderLayer, torch.nn.TransformerDecoderLayer)):
        raise Unsupported(type(layer).__name__)
    attn = layer.self_attn
    return getattr(tg.nn, type(layer).__name__)(
        attn.embed_dim, attn.num_heads, layer.linear1.out_features, layer.dropout.p,
        activation=_ours(layer.activation, {}), layer_norm_eps=layer.norm1.eps,
        batch_first=attn.batch_first, norm_first=layer.norm_first,
        bias=layer.linear1.bias is not None)


def _build(info, module_input, training):
    """torch's module, and tinygen's with torch's state loaded into it."""
    args, kwargs = module_input.constructor_input.args, module_input.constructor_input.kwargs
    torch.manual_seed(0)
    theirs = info.module_cls(*args, **kwargs).to(torch.float64).train(training)
    o_args, o_kwargs = _constructor_args(module_input.constructor_input, {})
    ours = getattr(tg.nn, info.module_cls.__name__)(*o_args, **o_kwargs)
    ours = ours.to(tg.float64).train(training)
    if isinstance(theirs, torch.nn.modules.lazy.LazyModuleMixin):
        fwd, memo = module_input.forward_input, {}
        with torch.no_grad():
            theirs(*fwd.args, **fwd.kwargs)
        with tg.no_grad():
            ours(*to_tinygen(fwd.args, memo), **to_tinygen(fwd.kwargs, memo))
    state = {k: tg.tensor(v.numpy(force=True).copy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    return theirs, ours


def _run_input(info, module_input, training, values):
    """None when tinygen's module agrees with torch's on one input, else what went wrong."""
    try:
        theirs, ours = _build(info, module_input, training)
    except Unsupported:
        return None
    except Exception as exc:
        return f"building raised {type(exc).__name__}: {exc}"[:300]
    fwd = module_input.forward_input
    memo = {}
    try:
        o_args, o_kwargs = to_tinygen(fwd.args, memo), to_tinygen(fwd.kwargs, memo)
    except Unsupported:
        return None
    torch.manual_seed(0)
    t_out = theirs(*fwd.args, **fwd.kwargs)
    try:
        o_out = ours(*o_args, **o_kwargs)
    except Exception as exc:
        return f"forward raised {type(exc).__name__}: {exc}"[:300]
    t_flat, o_flat = _flatten(t_out), _flatten(o_out)
    if len(t_flat) != len(o_flat):
        return f"{len(o_flat)} outputs, torch {len(t_flat)}"
    for i, (o, t) in enumerate(zip(o_flat, t_flat)):
        if isinstance(t, torch.Tensor):
            if not isinstance(o, tg.Tensor):
                return f"output {i} is {type(o).__name__}, torch's a tensor"
            problem = (_close(o, t, f"output {i}") if values else
                       None if tuple(o.shape) == tuple(t.shape) else
                       f"output {i}: shape {tuple(o.shape)}, torch {tuple(t.shape)}")
            if problem:
                return problem
    if not values:
        return None
    t_buffers, o_buffers = dict(theirs.named_buffers()), dict(ours.named_buffers())
    for name, t in t_buffers.items():
        problem = _close(o_buffers[name], t, f"buffer {name}") if name in o_buffers else \
            f"buffer {name} missing"
        if problem:
            return problem
    return _compare_grads(theirs, ours, fwd, memo, t_flat, o_flat)


def _compare_grads(theirs, ours, fwd, memo, t_flat, o_flat):
    rng = np.random.default_rng(0)
    t_loss = o_loss = None
    for o, t in zip(o_flat, t_flat):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.is_floating_point():
            w = rng.standard_normal(tuple(t.shape))
            t_term = (t * torch.tensor(w, dtype=t.dtype)).sum()
            o_term = (o * tg.tensor(w, dtype=o.dtype)).sum()
            t_loss = t_term if t_loss is None else t_loss + t_term
            o_loss = o_term if o_loss is None else o_loss + o_term
    if t_loss is None:
        return None
    t_loss.backward()
    try:
        o_loss.backward()
    except Exception as exc:
        return f"backward raised {type(exc).__name__}: {exc}"[:300]
    leaves = [t for t in _flatten([fwd.args, list(fwd.kwargs.values())])
              if isinstance(t, torch.Tensor) and t.requires_grad]
    pairs = [(f"input {i}", memo[id(t)].grad, t.grad) for i, t in enumerate(leaves)]
    o_params = dict(ours.named_parameters())
    pairs += [(f"grad of {name}", o_params[name].grad, p.grad)
              for name, p in theirs.named_parameters()]
    for what, o, t in pairs:
        if t is None:
            continue
        if o is None:
            return f"{what}: no gradient, torch has one"
        problem = _close(o, t, what)
        if problem:
            return problem
    return None


def check_module(info, values=True, skip=None):
    """Run a ModuleInfo's inputs in training and in eval mode; fail listing the inputs that
    disagree. `values=False` compares only output shapes (random modules); inputs for which
    `skip(module_input)` is true are not run."""
    problems = []
    for training in (True, False) if info.train_and_eval_differ else (True,):
        inputs = info.module_inputs_func(info, device="cpu", dtype=torch.float64,
                                         requires_grad=True, training=training)
        picked = sorted({i * len(inputs) // MAX_INPUTS for i in range(MAX_INPUTS)})
        for i in picked if len(inputs) > MAX_INPUTS else range(len(inputs)):
            module_input = inputs[i]
            if skip is not None and skip(module_input):
                continue
            problem = _run_input(info, module_input, training, values)
            if problem:
                mode = "train" if training else "eval"
                problems.append(f"{mode} input {i} ({module_input.desc}): {problem}")
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:8])


def check_module_errors(info):
    """Each of torch's error inputs for a module must raise the same builtin error type in
    tinygen, at construction or at the forward call as in torch. As in torch's own test, the
    inputs are float32 and the module is used as constructed (NLLLoss's float16 weight must
    stay float16)."""
    if info.module_error_inputs_func is None:
        return
    inputs = info.module_error_inputs_func(info, device="cpu", dtype=torch.float32,
                                           requires_grad=False, training=True)
    for error_input in inputs:
        module_input = error_input.module_error_input
        memo = {}
        expected = builtin_error(error_input.error_type())
        ours_cls = getattr(tg.nn, info.module_cls.__name__)
        if error_input.error_on == ModuleErrorEnum.CONSTRUCTION_ERROR:
            with pytest.raises(expected):
                args, kwargs = _constructor_args(module_input.constructor_input, memo)
                ours_cls(*args, **kwargs)
            continue
        args, kwargs = _constructor_args(module_input.constructor_input, memo)
        ours = ours_cls(*args, **kwargs)
        fwd = module_input.forward_input
        with pytest.raises(expected):
            ours(*to_tinygen(fwd.args, memo), **to_tinygen(fwd.kwargs, memo))

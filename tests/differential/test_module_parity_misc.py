"""Every tinygen.nn module against its torch.nn twin, part 2: the modules without parameters
(activations, pools, padding, dropout, resampling, shape and distance layers) and the losses,
through the harness of part 1. Random modules are compared where they are deterministic
(p=0, or eval mode). Known divergences are skipped with their reason."""

import numpy as np
import pytest

import tinygen as tg
from tests.differential.test_module_parity import X1, X2, X3, check_spec, rand

torch = pytest.importorskip("torch")

R3 = rand((2, 4, 4))
PAIR = rand((3, 4), (3, 4))


def _classes(rng):
    return [rng.standard_normal((3, 4)), rng.integers(0, 4, (3,))]


def _log_probs(rng):
    x = rng.standard_normal((3, 4))
    return [x - np.log(np.exp(x).sum(1, keepdims=True)), rng.integers(0, 4, (3,))]


def _probs(rng):
    return [rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))]


def _signs(rng):
    return [rng.standard_normal((3, 4)), np.sign(rng.standard_normal((3, 4)))]


def _ctc(rng):
    lp = rng.standard_normal((6, 2, 4))
    lp -= np.log(np.exp(lp).sum(-1, keepdims=True))
    return [lp, rng.integers(1, 4, (2, 3)), np.array([6, 5]), np.array([3, 2])]


def _unpool(dims):
    def inputs(rng):
        x = torch.tensor(rng.standard_normal((1, 2) + (4,) * dims))
        pool = getattr(torch.nn.functional, f"max_pool{dims}d")
        out, idx = pool(x, 2, return_indices=True)
        return [out.numpy(), idx.numpy()]
    return inputs


MISC = {
    "Identity": [((), {}, X1), ((3,), dict(foo=1), X1)],
    "Flatten": [((), {}, X2), ((0, 2), {}, X2)],
    "Unflatten": [((1, (2, 2)), {}, X1)],
    "Fold": [(((4, 5), 2), {}, rand((1, 8, 12))),
             (((4, 5), (2, 3)), dict(padding=1, stride=(2, 1)), rand((1, 12, 15)))],
    "Unfold": [((2,), {}, X2), (((2, 3),), dict(dilation=1, padding=1, stride=2), X2)],
    "PixelShuffle": [((2,), {}, X2)], "PixelUnshuffle": [((2,), {}, X2)],
    "ChannelShuffle": [((2,), {}, X2)],
    "Upsample": [((), dict(scale_factor=2, mode="nearest"), X2),
                 ((), dict(size=(3, 5), mode="bilinear", align_corners=True), X2),
                 ((), dict(scale_factor=2.0, mode="linear"), X1)],
    "UpsamplingNearest2d": [((), dict(scale_factor=2), X2), ((), dict(size=5), X2)],
    "UpsamplingBilinear2d": [((), dict(scale_factor=2), X2)],
    "CosineSimilarity": [((), {}, PAIR), ((), dict(dim=0, eps=1e-6), PAIR)],
    "PairwiseDistance": [((), {}, PAIR), ((), dict(p=1.0, keepdim=True), PAIR)],
    "FractionalMaxPool2d": [((2,), dict(output_size=4), None),
                            (((2, 3),), dict(output_ratio=0.5, return_indices=True), None)],
    "FractionalMaxPool3d": [((2,), dict(output_size=2), None),
                            ((2,), dict(output_ratio=0.5, return_indices=True), None)],
    "Softmax2d": [((), {}, X2)],
    "CrossMapLRN2d": [((3,), {}, X2), ((2, 1e-3, 0.5, 2.0), {}, X2)],
    "RReLU": [((), {}, R3, False), ((0.1, 0.2), {}, R3, False)],
}
ACTIVATIONS = {
    "CELU": [(), (0.5,)], "ELU": [(), (0.5,)], "GLU": [(), (1,)], "Hardshrink": [(), (0.3,)],
    "Hardsigmoid": [()], "Hardswish": [()], "Hardtanh": [(), (-0.5, 0.5)],
    "LeakyReLU": [(), (0.2,)], "LogSigmoid": [()], "LogSoftmax": [(1,)], "Softmax": [(1,)],
    "Softmin": [(1,)], "Mish": [()], "ReLU": [()], "ReLU6": [()], "SELU": [()], "SiLU": [()],
    "Sigmoid": [()], "Softplus": [(), (2.0, 10.0)], "Softshrink": [(), (0.3,)],
    "Softsign": [()], "Tanh": [()], "Tanhshrink": [()], "Threshold": [(0.1, 20.0)],
}
MISC.update({n: [(args, {}, R3) for args in cfgs] for n, cfgs in ACTIVATIONS.items()})
MISC["GELU"] = [((), {}, R3), ((), dict(approximate="tanh"), R3)]
for d, x in ((1, rand((2, 3, 8))), (2, rand((2, 3, 8, 8))), (3, rand((1, 2, 4, 4, 4)))):
    MISC[f"MaxPool{d}d"] = [((2,), {}, x), ((2,), dict(return_indices=True), x),
                            ((3,), dict(stride=2, padding=1, ceil_mode=True), x)]
    MISC[f"AvgPool{d}d"] = [((2,), {}, x), ((3,), dict(stride=2, padding=1, ceil_mode=True,
                                                       count_include_pad=False), x)]
    MISC[f"AdaptiveAvgPool{d}d"] = [((3,), {}, x)]
    MISC[f"AdaptiveMaxPool{d}d"] = [((3,), {}, x), ((3,), dict(return_indices=True), x)]
    for kind in ("Circular", "Reflection", "Replication", "Zero"):
        MISC[f"{kind}Pad{d}d"] = [((1,), {}, x), ((tuple(i % 3 for i in range(2 * d)),), {}, x)]
    MISC[f"ConstantPad{d}d"] = [((1, 0.5), {}, x), ((tuple(range(2 * d)), -1.0), {}, x)]
    MISC[f"LPPool{d}d"] = [((2, 2), {}, x), ((1.5, 3), dict(stride=2, ceil_mode=True), x)]
    MISC[f"MaxUnpool{d}d"] = [((2,), {}, _unpool(d))]
for name, x in (("Dropout", X2), ("Dropout1d", X1), ("Dropout2d", X2), ("Dropout3d", X3),
                ("AlphaDropout", X2), ("FeatureAlphaDropout", X2)):
    MISC[name] = [((), {}, x, False), ((0.0,), {}, x), ((0.3,), dict(inplace=True), None)]

LOSSES = {
    "BCELoss": (_probs, dict(reduction="sum")), "BCEWithLogitsLoss": (_probs, {}),
    "L1Loss": (PAIR, dict(reduction="none")), "MSELoss": (PAIR, dict(reduction="sum")),
    "HuberLoss": (PAIR, dict(delta=0.5)), "SmoothL1Loss": (PAIR, dict(beta=0.5)),
    "CrossEntropyLoss": (_classes, dict(label_smoothing=0.1, ignore_index=2)),
    "NLLLoss": (_log_probs, dict(ignore_index=1)),
    "NLLLoss2d": (_log_probs, dict(ignore_index=1)), "KLDivLoss": (_probs, dict(log_target=True)),
    "SoftMarginLoss": (_signs, dict(reduction="sum")), "HingeEmbeddingLoss": (_signs,
                                                                              dict(margin=0.5)),
    "MultiMarginLoss": (_classes, dict(p=2, margin=0.5)),
    "MultiLabelMarginLoss": (lambda r: [r.standard_normal((2, 4)),
                                        np.array([[1, 2, -1, 0], [3, 2, 1, 0]])],
                             dict(reduction="sum")),
    "MultiLabelSoftMarginLoss": (lambda r: [r.standard_normal((3, 4)),
                                            r.integers(0, 2, (3, 4)).astype(float)],
                                 dict(reduction="sum")),
    "MarginRankingLoss": (lambda r: [r.standard_normal(3), r.standard_normal(3),
                                     np.sign(r.standard_normal(3))], dict(margin=0.2)),
    "CosineEmbeddingLoss": (lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4)),
                                       np.sign(r.standard_normal(3))], dict(margin=0.1)),
    "TripletMarginLoss": (rand(*[(3, 4)] * 3), dict(margin=0.5, p=1.0, swap=True)),
    "TripletMarginWithDistanceLoss": (rand(*[(3, 4)] * 3), dict(margin=0.5, swap=True)),
    "PoissonNLLLoss": (_probs, dict(log_input=False, full=True)),
    "GaussianNLLLoss": (lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4)),
                                   r.uniform(0.5, 1, (3, 4))], dict(full=True, eps=1e-4)),
    "CTCLoss": (_ctc, dict(zero_infinity=True)),
}
# Loss reprs are compared only where PyTorch and tinygen print the same (see the skip below).
MISC.update({n: [((), {}, f), ((), kw, f)] for n, (f, kw) in LOSSES.items()})


@pytest.mark.parametrize("name", sorted(set(MISC) - set(LOSSES)))
def test_module_parity(name):
    check_spec(name, MISC[name])


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_parity(name):
    default, other = MISC[name]
    check_spec(name, [default])
    check_spec(name, [other])


def test_softmax_without_dim_known_divergence():
    """torch picks an implicit dim (deprecated); tinygen asks for it (documented choice)."""
    x = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        torch.nn.Softmax()(torch.tensor(x))
    with pytest.raises(ValueError, match="dim is None"):
        tg.nn.Softmax()(tg.tensor(x))


def test_triplet_distance_default_is_a_submodule():
    """Regression: torch registers a PairwiseDistance() child when no function is given."""
    ours = tg.nn.TripletMarginWithDistanceLoss()
    assert isinstance(ours.distance_function, tg.nn.PairwiseDistance)
    assert repr(ours) == repr(torch.nn.TripletMarginWithDistanceLoss())
    fn = tg.nn.TripletMarginWithDistanceLoss(distance_function=lambda a, b: (a - b).abs().sum(-1))
    assert repr(fn) == "TripletMarginWithDistanceLoss()"

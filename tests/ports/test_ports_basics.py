"""PyTorch's beginner tutorials, examples and state_dict recipes, ported by changing the imports
(see ``scripts_basics.py`` and ``scripts_basics_nn.py``).

Each script runs under tinygen and the test checks the script's own claims (y1 == y2 == y3, the
gradients accumulate, the loss goes down, the loaded model equals the saved one, ...); where
PyTorch is importable the same code runs on it too, and the training scripts are compared step
by step in float64 from the same weights and data.
"""

import random

import numpy as np
import pandas as pd      # the data tutorial's CSV reader; it comes with mlxtend (the data extra)
import pytest

import tinygen
import tinygen.nn
import tinygen.nn.functional
import tinygen.optim
import tinygen.utils.data

from tests.ports import scripts_basics as S
from tests.ports import scripts_basics_examples as E
from tests.ports import scripts_basics_nn as N
from tests.ports.test_ports import (TG, _torch_modules, assert_learns, assert_same_losses,
                                    assert_same_params, float64_twins, to)


def lib(name):
    return _torch_modules()[0] if name == "torch" else tinygen


LIBS = ["torch", "tinygen"]


def digits(n, seed=0, dtype=np.float32):
    """Flattened 28x28 'digits' in [0, 1], mostly 0 as MNIST's: ten fixed random strokes (15% of
    the pixels), each pixel dimmed at random, plus faint noise."""
    templates = np.random.default_rng(7).random((10, 784)) < 0.15
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    x = np.clip(templates[y] * rng.uniform(0.5, 1, (n, 784)) + 0.05 * rng.random((n, 784)), 0, 1)
    return x.astype(dtype), y.astype(np.int64)


def npy(t):
    return np.asarray(t.detach().cpu().numpy())


# --- tensorqs_tutorial.py, autogradqs_tutorial.py ----------------------------------------------

@pytest.mark.parametrize("library", LIBS)
def test_tensorqs(library):
    torch = lib(library)
    out = S.tensorqs(torch, np)
    assert out["x_data"].dtype == out["x_np"].dtype == out["x_ones"].dtype == torch.int64
    np.testing.assert_array_equal(npy(out["x_np"]), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(npy(out["x_ones"]), np.ones((2, 2)))
    r = npy(out["x_rand"])
    assert out["x_rand"].dtype == torch.float32 and r.shape == (2, 2) and (0 <= r).all()
    assert tuple(out["rand_tensor"].shape) == (2, 3) and out["zeros_tensor"].sum().item() == 0
    shape, dtype, device = out["attributes"]
    assert tuple(shape) == (3, 4) and dtype == torch.float32 and str(device) == "cpu"
    ones = np.ones((4, 4), np.float32)
    ones[:, 1] = 0
    np.testing.assert_array_equal(npy(out["tensor"]), ones)
    np.testing.assert_array_equal(npy(out["t1"]), np.tile(ones, (1, 3)))
    for y in out["y"]:
        np.testing.assert_array_equal(npy(y), ones @ ones.T)
    for z in out["z"]:
        np.testing.assert_array_equal(npy(z), ones * ones)
    assert out["agg_item"] == 12.0 and type(out["agg_item"]) is float
    np.testing.assert_array_equal(npy(out["added"]), ones + 5)
    for t, n in (out["t_to_n"], out["n_to_t"]):                   # memory is shared both ways
        np.testing.assert_array_equal(npy(t), np.full(5, 2.0))
        np.testing.assert_array_equal(n, np.full(5, 2.0))


def test_out_argument_is_checked():
    a = tinygen.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        tinygen.matmul(a, a, out=tinygen.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
        tinygen.mul(tinygen.ones(2), tinygen.ones(2), out=tinygen.zeros(3))
    x = tinygen.tensor([1.0, 2.0])
    assert tinygen.matmul(input=x, other=x).item() == 5.0


@pytest.mark.parametrize("library", LIBS)
def test_autogradqs(library):
    torch = lib(library)
    torch.manual_seed(0)
    out = S.autogradqs(torch)
    assert out["grad_fns"][0].name().startswith("AddBackward")
    assert out["grad_fns"][1] is not None        # tinygen's is the composite's last op, DivBackward
    z, w = npy(out["z"]), npy(out["w"])
    np.testing.assert_allclose(z, w.sum(0) + npy(out["b"]), rtol=1e-6)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(npy(out["loss"]), np.mean(-np.log(1 - p)), rtol=1e-6)
    g_w, g_b = out["grads"]
    np.testing.assert_allclose(npy(g_b), p / 3, rtol=1e-5)           # dloss/dz = (p - y) / 3
    np.testing.assert_allclose(npy(g_w), np.tile(p / 3, (5, 1)), rtol=1e-5)
    assert out["requires_grad"] == [True, False, False]
    first = 2 * (np.eye(4, 5) + 1)
    np.testing.assert_array_equal(npy(out["first_call"]), first)
    np.testing.assert_array_equal(npy(out["second_call"]), 2 * first)   # gradients accumulate
    np.testing.assert_array_equal(npy(out["after_zeroing"]), first)


# --- data_tutorial.py, transforms_tutorial.py --------------------------------------------------

@pytest.mark.parametrize("library", LIBS)
def test_custom_dataset_with_one_hot_transform(library, tmp_path):
    torch = lib(library)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(70, 1, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=70)
    for i, img in enumerate(images):
        np.save(tmp_path / f"img{i}.npy", img)
    pd.DataFrame({"file": [f"img{i}.npy" for i in range(70)], "label": labels}).to_csv(
        tmp_path / "labels.csv", index=False)

    def read_image(path):
        return torch.from_numpy(np.load(path))

    Dataset = torch.utils.data.Dataset
    CustomImageDataset = S.make_custom_image_dataset(Dataset, pd, read_image)
    target_transform = S.one_hot_target_transform(torch, lambda f: f)
    ds = CustomImageDataset(tmp_path / "labels.csv", tmp_path,
                            transform=lambda img: img.float() / 255,
                            target_transform=target_transform)
    assert len(ds) == 70
    img, label = ds[3]
    np.testing.assert_allclose(npy(img), images[3] / 255, rtol=1e-6)
    assert label.dtype == torch.float32 and npy(label).tolist() == list(np.eye(10)[labels[3]])
    torch.manual_seed(0)
    feat_size, label_size, img, label = S.first_batch(torch.utils.data.DataLoader, ds)
    assert tuple(feat_size) == (64, 1, 28, 28) and tuple(label_size) == (64, 10)
    assert tuple(img.shape) == (28, 28) and npy(label).sum() == 1
    raw = CustomImageDataset(tmp_path / "labels.csv", tmp_path)           # no transforms
    assert raw[5][0].dtype == torch.uint8 and raw[5][1] == labels[5]


# --- buildmodel_tutorial.py, optimization_tutorial.py, saveloadrun_tutorial.py ----------------

def test_buildmodel_under_tinygen():
    tinygen.manual_seed(0)
    out = S.buildmodel(tinygen, tinygen.nn)
    assert out["model"].startswith("NeuralNetwork(\n  (flatten): Flatten(start_dim=1, end_dim=-1)")
    assert out["y_pred"].dtype == tinygen.int64 and tuple(out["y_pred"].shape) == (1,)
    assert [tuple(s) for s in out["sizes"]] == [(3, 28, 28), (3, 784), (3, 20)]
    np.testing.assert_array_equal(npy(out["after_relu"]), np.maximum(npy(out["before_relu"]), 0))
    np.testing.assert_allclose(npy(out["pred_probab"]).sum(1), np.ones(3), rtol=1e-6)
    assert [(n, tuple(s), tuple(v.shape)) for n, s, v in out["params"]][-2:] == [
        ("linear_relu_stack.4.weight", (10, 512), (2, 512)),
        ("linear_relu_stack.4.bias", (10,), (2,))]


def test_buildmodel_prints_as_torch():
    torch, nn = _torch_modules()[:2]
    t_out, g_out = S.buildmodel(torch, nn), S.buildmodel(tinygen, tinygen.nn)
    assert g_out["model"] == t_out["model"]
    assert [(n, tuple(s)) for n, s, _ in g_out["params"]] == \
        [(n, tuple(s)) for n, s, _ in t_out["params"]]


def digit_loaders(torch, n_train=128, n_test=64, dtype=np.float32, batch_size=64):
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset
    out = []
    for n, seed in ((n_train, 0), (n_test, 1)):
        x, y = digits(n, seed, dtype)
        ds = TensorDataset(to(torch, x.reshape(n, 1, 28, 28)), to(torch, y))
        out.append(DataLoader(ds, batch_size=batch_size))
    return out


def test_optimization_under_tinygen(tmp_path):
    tinygen.manual_seed(0)
    model = S.make_neural_network(tinygen.nn)()
    train_dl, test_dl = digit_loaders(tinygen)
    losses, tests = S.optimization(tinygen, tinygen.nn, model, train_dl, test_dl, epochs=8,
                                   learning_rate=0.1)
    assert_learns(losses, 4, 0.85)
    (acc0, loss0), (acc1, loss1) = tests[0], tests[-1]
    assert loss1 < 0.8 * loss0 and acc1 >= acc0 and acc1 > 0.3     # chance: 0.1
    # saveloadrun_tutorial.py: the state_dict path gives the same predictions
    loaded = S.saveloadrun(tinygen, lambda: model, tmp_path / "model_weights.pth")
    assert not loaded.training
    fresh = S.saveloadrun(tinygen, S.make_neural_network(tinygen.nn), tmp_path / "w.pth")
    x, _ = next(iter(test_dl))
    fresh.load_state_dict(tinygen.load(tmp_path / "model_weights.pth"))
    np.testing.assert_array_equal(npy(fresh(x)), npy(model(x)))


def test_optimization_matches_torch():
    T, t_model, g_model = float64_twins(lambda torch, nn, F: S.make_neural_network(nn)())
    t_loaders = digit_loaders(T[0], 64, 32, np.float64)
    t_losses, t_tests = S.optimization(T[0], T[1], t_model, *t_loaders, epochs=1,
                                       learning_rate=0.1)
    g_losses, g_tests = S.optimization(tinygen, tinygen.nn, g_model,
                                       *digit_loaders(tinygen, 64, 32, np.float64),
                                       epochs=1, learning_rate=0.1)
    assert_same_losses(t_losses, g_losses, rtol=1e-10)
    np.testing.assert_allclose(g_tests, t_tests, rtol=1e-10)
    assert_same_params(t_model, g_model, rtol=1e-9)


# --- nn_tutorial.py ------------------------------------------------------------------------------

def mnist_tensors(torch, n=128, dtype=np.float32, seed=0):
    """x_train, y_train as the tutorial makes them: ``map(torch.tensor, ...)`` of arrays."""
    return list(map(torch.tensor, digits(n, seed, dtype)))


def test_nn_from_scratch_under_tinygen():
    tinygen.manual_seed(0)
    x_train, y_train = mnist_tensors(tinygen)
    (preds, loss0, acc0), losses, (weights, bias), accuracy = N.nn_from_scratch(
        tinygen, x_train, y_train, epochs=4)
    assert tuple(preds.shape) == (64, 10) and preds.grad_fn is not None
    # the hand-written log_softmax + nll equal F.cross_entropy on the same logits
    logits = x_train[0:64] @ weights + bias
    p = npy(logits).astype(np.float64)
    logp = p - np.log(np.exp(p).sum(-1, keepdims=True))
    ref = -logp[np.arange(64), npy(y_train[0:64])].mean()
    F = tinygen.nn.functional
    np.testing.assert_allclose(F.cross_entropy(logits, y_train[0:64]).item(), ref, rtol=1e-5)
    assert_learns(losses, 2, 0.5)
    assert accuracy(x_train @ weights + bias, y_train).item() > acc0.item()
    assert weights.is_leaf and weights.requires_grad and not weights.grad.abs().sum().item()


def _nn_stages(torch, nn, F, optim, x_train, y_train, x_valid, y_valid, models, shuffle=True):
    """Every stage after 'from scratch' in order, each from the model ``models`` gives it; returns
    each stage's losses."""
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset
    n, bs, lr, epochs = x_train.shape[0], 64, 0.5, 2
    loss_func = F.cross_entropy
    out = {"logistic": N.fit_manual(torch, models("logistic"), loss_func, x_train, y_train),
           "linear": N.fit_manual(torch, models("linear"), loss_func, x_train, y_train)}
    model = models("linear")
    out["optim"] = N.fit_optim_dataset(model, optim.SGD(model.parameters(), lr=lr), loss_func,
                                       TensorDataset(x_train, y_train), n)
    train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)
    train_dl = DataLoader(train_ds, batch_size=bs, shuffle=shuffle)
    valid_dl = DataLoader(valid_ds, batch_size=bs * 2)
    model = models("linear")
    out["validation"] = N.fit_with_validation(torch, model, optim.SGD(model.parameters(), lr=lr),
                                              loss_func, train_dl, valid_dl)
    if shuffle:
        train_dl, valid_dl = N.get_data(DataLoader, train_ds, valid_ds, bs)
    model = models("linear")
    out["fit"] = N.fit(torch, np, epochs, model, loss_func, optim.SGD(model.parameters(), lr=lr),
                       train_dl, valid_dl)
    lr = 0.1
    for name in ("cnn", "sequential"):
        model = models(name)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        out[name] = N.fit(torch, np, epochs, model, loss_func, opt, train_dl, valid_dl)
    dev, preprocess = N.gpu_preprocess(torch)
    train_dl = N.WrappedDataLoader(train_dl, preprocess)
    valid_dl = N.WrappedDataLoader(valid_dl, preprocess)
    assert len(train_dl) == 2 and str(dev) == "cpu"
    model = models("adaptive")
    model.to(dev)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    out["adaptive"] = N.fit(torch, np, epochs, model, loss_func, opt, train_dl, valid_dl)
    return out


def _make_nn_model(torch, nn, F, name):
    if name in ("logistic", "linear"):
        return N.make_mnist_logistic(torch, nn, linear=name == "linear")()
    if name == "cnn":
        return N.make_mnist_cnn(nn, F)()
    return N.sequential_cnn(nn, adaptive=name == "adaptive")


def test_nn_tutorial_stages_under_tinygen():
    tinygen.manual_seed(0)
    data = mnist_tensors(tinygen) + mnist_tensors(tinygen, n=32, seed=1)
    out = _nn_stages(*TG, *data, models=lambda name: _make_nn_model(*TG[:3], name))
    for name in ("logistic", "linear", "optim", "validation"):
        losses = out[name][0] if name == "validation" else out[name]
        assert len(losses) == 4 and losses[-1] < 0.7 * losses[0], (name, losses)
    for name in ("fit", "cnn", "sequential", "adaptive"):
        assert len(out[name]) == 2 and all(np.isfinite(out[name])), name
    assert out["fit"][1] < out["fit"][0] < np.log(10)


def test_nn_tutorial_stages_match_torch():
    """Each stage's model starts from torch's weights (copied in float64); unshuffled loaders."""
    T = _torch_modules()
    twins = {}

    def models_for(torch_side):
        def make(name):
            if torch_side:
                T[0].manual_seed(len(twins))
                t = _make_nn_model(*T[:3], name).double()
                g = _make_nn_model(*TG[:3], name).double()
                g.load_state_dict({k: tinygen.tensor(v.detach().numpy())
                                   for k, v in t.state_dict().items()})
                twins.setdefault(name, []).append(g)
                return t
            return twins[name].pop(0)
        return make

    t_data = mnist_tensors(T[0], dtype=np.float64) + mnist_tensors(T[0], 32, np.float64, seed=1)
    g_data = mnist_tensors(tinygen, dtype=np.float64) + mnist_tensors(tinygen, 32, np.float64, 1)
    t_out = _nn_stages(*T, *t_data, models=models_for(True), shuffle=False)
    g_out = _nn_stages(*TG, *g_data, models=models_for(False), shuffle=False)
    assert list(g_out) == list(t_out)
    for name in t_out:
        np.testing.assert_allclose(np.ravel(g_out[name][0] if name == "validation" else
                                            g_out[name]),
                                   np.ravel(t_out[name][0] if name == "validation" else
                                            t_out[name]), rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(g_out["validation"][1], t_out["validation"][1], rtol=1e-9)


# --- examples_tensor / examples_autograd / examples_nn -----------------------------------------

@pytest.mark.parametrize("library", LIBS)
def test_polynomial_tensor_equals_autograd(library):
    """The hand-written backward of polynomial_tensor.py is what autograd computes in
    polynomial_autograd.py: from the same seed, the same losses step by step."""
    torch = lib(library)
    runs = []
    for run in (E.polynomial_tensor, E.polynomial_autograd):
        torch.manual_seed(3)
        runs.append(run(torch, steps=30, n=200, dtype=torch.float64))
        assert runs[-1][1][0].dtype == torch.float64
    assert_same_losses(runs[0][0], runs[1][0], rtol=1e-10)
    assert runs[0][0][-1] < 0.5 * runs[0][0][0]


@pytest.mark.parametrize("library", LIBS)
def test_polynomial_autograd_float_grads_are_refused(library):
    """Upstream's current ``a.grad, ... = 0., ...`` fails on PyTorch too, with this TypeError."""
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        E.polynomial_autograd(lib(library), steps=1, n=10, zero_with_floats=True)


@pytest.mark.parametrize("library", LIBS)
def test_polynomial_nn_equals_polynomial_optim(library):
    """Plain SGD in polynomial_optim.py makes the manual updates of polynomial_nn.py."""
    torch = lib(library)
    runs = []
    for use_optim in (False, True):
        torch.manual_seed(0)
        runs.append(E.polynomial_nn(torch, steps=40, n=200, use_optim=use_optim))
    (losses, model, result), (o_losses, _, o_result) = runs
    assert losses[-1] < 0.5 * losses[0] and result.startswith("Result: y = ")
    assert tuple(model[0].weight.shape) == (1, 3)
    assert_same_losses(losses, o_losses, rtol=1e-6)
    assert o_result.startswith("Result: y = ")       # float32 rounding may differ


@pytest.mark.parametrize("dynamic", [False, True])
def test_polynomial_module_and_dynamic_net_match_torch(dynamic):
    torch = _torch_modules()[0]
    lr, momentum = (1e-8, 0.9) if dynamic else (1e-6, 0)
    runs = {}
    for name, T in (("torch", torch), ("tinygen", tinygen)):
        T.manual_seed(0)
        model = E.make_polynomial3(T, dynamic)()
        if name == "tinygen":                              # start from torch's parameters
            with tinygen.no_grad():
                for p, q in zip(model.parameters(), runs["torch"][2]):
                    p.copy_(tinygen.tensor(q))
        start = [npy(p).copy() for p in model.parameters()]
        random.seed(1)                                     # DynamicNet's orders: 3, 4 or 5
        losses, result = E.polynomial_module(T, model, steps=60, n=200, lr=lr, momentum=momentum)
        runs[name] = (losses, result, start)
    assert_same_losses(runs["torch"][0], runs["tinygen"][0], rtol=1e-4)
    assert runs["tinygen"][1].startswith("Result: y = ") and len(runs["tinygen"][2]) == 4 + dynamic
    assert runs["tinygen"][0][-1] < runs["tinygen"][0][0]


# --- recipes --------------------------------------------------------------------------------------

def cifar_loader(torch, n=16, dtype=np.float32):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=n)
    x = rng.standard_normal((n, 3, 32, 32)) * 0.5 + (y / 10)[:, None, None, None]
    ds = torch.utils.data.TensorDataset(to(torch, x.astype(dtype)), to(torch, y))
    return torch.utils.data.DataLoader(ds, batch_size=4, shuffle=False)


def test_recipes_under_tinygen(tmp_path):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    Net = E.make_recipe_net(nn, F)
    net = Net()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    model_rows, optim_rows = E.what_is_state_dict(net, optimizer)
    assert [(k, tuple(s)) for k, s in model_rows][:2] == [("conv1.weight", (6, 3, 5, 5)),
                                                         ("conv1.bias", (6,))]
    assert len(model_rows) == 10 and [k for k, _ in optim_rows] == ["state", "param_groups"]
    assert optim_rows[1][1][0]["params"] == list(range(10))
    losses = E.zeroing_out_gradients(net, nn.CrossEntropyLoss(), optimizer, cifar_loader(torch))
    assert len(losses) == 8 and all(np.isfinite(losses))
    netA, netB = Net(), Net()
    result = E.warmstart(torch, netA, netB, tmp_path / "model.pt")
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    np.testing.assert_array_equal(npy(netB.fc3.weight), npy(netA.fc3.weight))
    optimizerA = optim.SGD(netA.parameters(), lr=0.001, momentum=0.9)
    optimizerB = optimizer
    modelA, modelB, optA, optB = E.save_multiple(torch, optim, Net, netA, net, optimizerA,
                                                 optimizerB, tmp_path / "multi.pt")
    np.testing.assert_array_equal(npy(modelB.conv2.weight), npy(net.conv2.weight))
    assert modelA.training and optB.state_dict()["state"].keys() == optimizer.state_dict()[
        "state"].keys()
    x, _ = next(iter(cifar_loader(torch)))
    np.testing.assert_array_equal(npy(modelB(x)), npy(net(x)))


def test_recipe_training_matches_torch():
    T, t_net, g_net = float64_twins(lambda torch, nn, F: E.make_recipe_net(nn, F)())
    t_opt = T[3].SGD(t_net.parameters(), lr=0.01, momentum=0.9)
    g_opt = tinygen.optim.SGD(g_net.parameters(), lr=0.01, momentum=0.9)
    t_losses = E.zeroing_out_gradients(t_net, T[1].CrossEntropyLoss(), t_opt,
                                       cifar_loader(T[0], dtype=np.float64), epochs=1)
    g_losses = E.zeroing_out_gradients(g_net, tinygen.nn.CrossEntropyLoss(), g_opt,
                                       cifar_loader(tinygen, dtype=np.float64), epochs=1)
    assert_same_losses(t_losses, g_losses, rtol=1e-10)
    assert_same_params(t_net, g_net, rtol=1e-9)
    t_rows, g_rows = E.what_is_state_dict(t_net, t_opt), E.what_is_state_dict(g_net, g_opt)
    assert [(k, tuple(s)) for k, s in g_rows[0]] == [(k, tuple(s)) for k, s in t_rows[0]]
    g_groups, t_groups = g_rows[1][1][1], t_rows[1][1][1]         # param_groups
    assert len(g_groups) == 1 and g_groups[0].items() <= t_groups[0].items()

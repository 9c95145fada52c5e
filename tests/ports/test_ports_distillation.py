"""PyTorch's knowledge distillation tutorial, ported by changing the imports (see
``scripts_distillation.py``), on tiny synthetic CIFAR-like data.

Under tinygen the whole tutorial runs and its own claims hold (same-seed students have equal
first-layer norms, the parameter counts it prints, the modified teacher loads the teacher's
state_dict, every loop's loss goes down); where PyTorch is importable the KD, cosine and MSE loops
run on both from the same float64 weights and data, with dropout off, and are compared step by
step.
"""

import numpy as np
import pytest

import tinygen
import tinygen.nn
import tinygen.optim
import tinygen.utils.data

from tests.ports import scripts_distillation as S
from tests.ports.test_ports import copy_state


def cifar_like(torch, data, n, batch_size, seed=0, dtype=np.float32, shuffle=False):
    """n 3x32x32 normalized images: class k tints one channel and brightens a kth square."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    x = 0.5 * rng.standard_normal((n, 3, 32, 32))
    for i, k in enumerate(y):
        r, c = divmod(int(k), 4)
        x[i, k % 3] += 0.5
        x[i, :, 8 * r:8 * r + 8, 8 * c:8 * c + 8] += 1.5
    ds = data.TensorDataset(torch.tensor(x.astype(dtype)), torch.tensor(y.astype(np.int64)))
    return data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle)


def test_distillation_tutorial_under_tinygen():
    torch, nn, optim, data = tinygen, tinygen.nn, tinygen.optim, tinygen.utils.data
    out = S.distillation(torch, nn, optim, cifar_like(torch, data, 8, 4),
                         cifar_like(torch, data, 8, 8, seed=1), epochs=2)
    a, b = out["norms"]
    assert a == b                                          # same seed, same student
    assert out["total_params"] == ("1,186,986", "267,738")  # as printed upstream
    a, b = out["deep_norms"]
    assert a == b
    for key in ("teacher_losses", "light_losses", "kd_losses", "cosine_losses", "mse_losses"):
        losses = out[key]
        assert len(losses) == 2 and losses[-1] < losses[0], (key, losses)
    for key in ("test_accuracy_deep", "test_accuracy_light_ce", "test_accuracy_light_ce_and_kd",
                "test_accuracy_light_ce_and_cosine_loss", "test_accuracy_light_ce_and_mse_loss"):
        assert out[key] in [100 * k / 8 for k in range(9)], key
    nn_deep, nn_light = out["models"][:2]
    assert not nn_deep.training and nn_deep.features[0].weight.grad is not None


def no_dropout(model):
    for m in model.modules():
        if type(m).__name__ == "Dropout":
            m.p = 0.0
    return model


def twins(T, name):
    """The model class ``name`` built under torch (seed 42) and tinygen with its weights."""
    T[0].manual_seed(42)
    t = no_dropout(S.make_models(T[0], T[1])[name](num_classes=10).double())
    g = no_dropout(S.make_models(tinygen, tinygen.nn)[name](num_classes=10).double())
    copy_state(t, g)
    return t, g


@pytest.mark.parametrize("loop, teacher, student, kwargs", [
    ("train_knowledge_distillation", "DeepNN", "LightNN",
     dict(T=2, soft_target_loss_weight=0.25, ce_loss_weight=0.75)),
    ("train_cosine_loss", "ModifiedDeepNNCosine", "ModifiedLightNNCosine",
     dict(hidden_rep_loss_weight=0.25, ce_loss_weight=0.75)),
    ("train_mse_loss", "ModifiedDeepNNRegressor", "ModifiedLightNNRegressor",
     dict(feature_map_weight=0.25, ce_loss_weight=0.75)),
])
def test_distillation_loops_match_torch(loop, teacher, student, kwargs):
    torch = pytest.importorskip("torch")
    import torch.nn
    import torch.optim
    import torch.utils.data
    T = (torch, torch.nn, torch.optim, torch.utils.data)
    t_teacher, g_teacher = twins(T, teacher)
    t_student, g_student = twins(T, student)
    results = []
    for (lib, nn, optim, data), tch, stu in ((T, t_teacher, t_student),
                                             ((tinygen, tinygen.nn, tinygen.optim,
                                               tinygen.utils.data), g_teacher, g_student)):
        L = S.loops(lib, nn, optim)
        loader = cifar_like(lib, data, 4, 2, dtype=np.float64)
        losses = L[loop](teacher=tch, student=stu, train_loader=loader, epochs=1,
                         learning_rate=0.001, device="cpu", **kwargs)
        results.append(losses)
    np.testing.assert_allclose(results[1], results[0], rtol=1e-8)
    for (name, tp), gp in zip(t_student.named_parameters(), g_student.parameters()):
        np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), rtol=1e-6,
                                   atol=1e-9, err_msg=name)

"""The scoring classifier and its recipe: shapes, gradients, augmentation, and a short run that
learns the synthetic digits."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.models import Classifier
from tinygen.train.recipes.classifier import ClassifierRecipe, random_shift


def test_shapes_and_penultimate_features(device):
    tg.manual_seed(0)
    model = Classifier().to(device)
    x = tg.rand(3, 1, 28, 28, device=device) * 2 - 1
    assert model(x).shape == (3, 10)
    features = model.features(x)
    assert features.shape == (3, 128)
    model.eval()
    with tg.no_grad():                      # in eval mode the head reads exactly the features
        np.testing.assert_allclose(host(model(x)), host(model.head(features)), rtol=1e-5,
                                   atol=1e-6)


def test_state_dict_names():
    names = list(Classifier(channels=(2, 3), hidden=4).state_dict())
    assert names == ["conv.0.weight", "conv.0.bias", "conv.3.weight", "conv.3.bias",
                     "fc.0.weight", "fc.0.bias", "head.weight", "head.bias"]


def test_bad_input_shapes_are_named():
    model = Classifier(channels=(2, 3), hidden=4)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\).*\(2, 28, 28\)"):
        model(tg.zeros(2, 28, 28))
    with pytest.raises(ValueError, match="multiple of 4"):
        Classifier(img_size=30)


def test_gradcheck_tiny_float64(rng):
    tg.manual_seed(0)
    model = Classifier(channels=(2, 3), hidden=4, num_classes=3, dropout=0.0, img_size=8)
    model.double()
    x = tg.tensor(rng.uniform(-1, 1, size=(2, 1, 8, 8)), dtype=tg.float64, requires_grad=True)
    weights = [model.conv[0].weight, model.conv[3].weight, model.fc[0].weight, model.head.bias]
    assert tg.autograd.gradcheck(lambda x, *w: model(x), (x, *weights))


def test_random_shift_moves_each_image_by_its_own_offset():
    images = -np.ones((40, 1, 6, 6), dtype=np.float32)
    images[:, 0, 2, 3] = 1.0                                     # one bright pixel each
    shifted = random_shift(images, 2, np.random.default_rng(0))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    rows, cols = np.nonzero(shifted[:, 0] == 1.0)[1:]
    assert len(rows) == 40                                       # never pushed out of frame
    assert set(rows) <= {0, 1, 2, 3, 4} and set(cols) <= {1, 2, 3, 4, 5}
    assert len(set(zip(rows, cols))) > 10                        # offsets differ per image
    assert np.all(np.sort(shifted.reshape(40, -1), axis=1)[:, :-1] == -1.0)   # background
    assert random_shift(images, 0, np.random.default_rng(0)) is images
    with pytest.raises(ValueError, match="shift"):
        random_shift(images, -1, np.random.default_rng(0))


def make_recipe(mnist_dir, tmp_path, **overrides):
    config = dict(ClassifierRecipe.defaults, seed=0, data_dir=mnist_dir, text=None,
                  out=tmp_path)
    config.update(overrides)
    tg.manual_seed(0)
    recipe = ClassifierRecipe(config, tg.device("cpu"))
    recipe.load_data()
    return recipe


def test_batches_are_scaled_shifted_and_resume_exactly(mnist_dir, tmp_path):
    recipe = make_recipe(mnist_dir, tmp_path, batch_size=32)
    assert recipe.batches_per_epoch == 600 // 32
    stream = recipe.batches(0)
    first = [next(stream) for _ in range(recipe.batches_per_epoch + 2)]
    images, labels, step = first[0]
    assert step == 0 and first[-1][2] == recipe.batches_per_epoch + 1
    assert images.shape == (32, 1, 28, 28) and images.dtype == tg.float32
    assert labels.shape == (32,) and labels.dtype == tg.int64
    assert images.cpu().numpy().min() == -1.0 and images.cpu().numpy().max() <= 1.0
    resumed = next(recipe.batches(recipe.batches_per_epoch + 1))  # the second epoch's 2nd batch
    np.testing.assert_array_equal(resumed[0].cpu().numpy(), first[-1][0].cpu().numpy())
    np.testing.assert_array_equal(resumed[1].cpu().numpy(), first[-1][1].cpu().numpy())


def test_learning_rate_decays_along_a_cosine(mnist_dir, tmp_path):
    recipe = make_recipe(mnist_dir, tmp_path, steps=100, lr=0.01)
    assert recipe.learning_rate(0) == pytest.approx(0.01)
    assert recipe.learning_rate(50) == pytest.approx(0.005)
    assert recipe.learning_rate(100) == pytest.approx(0.0, abs=1e-12)
    recipe.train_step(next(recipe.batches(25)))
    lr = recipe.optimizers["classifier"].param_groups[0]["lr"]
    assert lr == pytest.approx(0.01 * 0.5 * (1 + np.cos(np.pi / 4)))


def test_short_training_beats_chance(mnist_dir, tmp_path):
    recipe = make_recipe(mnist_dir, tmp_path, batch_size=32, width=4, hidden=64, lr=5e-3,
                         dropout=0.0, shift=0)
    before = recipe.evaluate()
    stream = recipe.batches(0)
    for _ in range(60):
        losses = recipe.train_step(next(stream))
    after = recipe.evaluate()
    assert set(losses) == {"loss", "train_accuracy"}
    assert after["test_loss"] < before["test_loss"]
    assert after["test_accuracy"] > 0.5                          # chance is 0.1
    assert recipe.model.training                                 # evaluate restored the mode

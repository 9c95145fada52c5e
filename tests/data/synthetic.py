"""Synthetic 28x28 "digits" for tests: each class a seven-segment pattern, jittered and noisy.

Classes are easy to tell apart (a classifier learns them in a few steps) and images have stroke
structure for a generator to fit, yet the files are tiny and need no network.
"""

import numpy as np

from tinygen.data.idx import write_idx
from tinygen.data.mnist import FILES

# Segments as (row0, row1, col0, col1) boxes on a 28x28 canvas; a, b, ..., g as on a display.
SEGMENTS = {
    "a": (5, 7, 9, 19), "b": (6, 14, 17, 19), "c": (14, 22, 17, 19), "d": (21, 23, 9, 19),
    "e": (14, 22, 9, 11), "f": (6, 14, 9, 11), "g": (13, 15, 9, 19),
}
DIGIT_SEGMENTS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg",
                  "abcdfg"]


def _template(digit):
    image = np.zeros((28, 28))
    for name in DIGIT_SEGMENTS[digit]:
        r0, r1, c0, c1 = SEGMENTS[name]
        image[r0:r1, c0:c1] = 1.0
    return image


TEMPLATES = np.stack([_template(d) for d in range(10)])


def synthetic_digits(n, rng):
    """``n`` images uint8 (n, 28, 28) and labels int64 (n,), classes in turn 0, 1, ..., 9, ...;
    each template shifted by up to 3 pixels, scaled in brightness and sprinkled with noise."""
    labels = np.arange(n, dtype=np.int64) % 10
    images = np.empty((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        shift = rng.integers(-3, 4, size=2)
        image = np.roll(TEMPLATES[label], tuple(shift), axis=(0, 1))
        image = image * rng.uniform(0.7, 1.0) + rng.uniform(0.0, 0.15, size=(28, 28))
        images[i] = np.clip(255 * image, 0, 255).astype(np.uint8)
    return images, labels


def write_mnist_dir(directory, n_train=600, n_test=100, seed=0):
    """Write the four gzipped MNIST IDX files of synthetic digits into ``directory``."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = synthetic_digits(n, rng)
        images_name, labels_name = FILES[split]
        write_idx(directory / f"{images_name}.gz", images)
        write_idx(directory / f"{labels_name}.gz", labels.astype(np.uint8))
    return directory

"""Training: the ``Recipe`` of each model family and the trainer around it (``tinygen train``)."""

from tinygen.train.recipe import Recipe, get_recipe, recipe_names, register
from tinygen.train.trainer import Trainer, train

"""The built-in model families: importing each module registers its recipes by name."""

from tinygen.train.recipes import gan, vae, gpt, classifier

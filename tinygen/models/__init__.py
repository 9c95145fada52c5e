"""Generative models and the scoring classifier, built from tinygen.nn."""

"""Tests of tinygen.optim, one file per source file."""

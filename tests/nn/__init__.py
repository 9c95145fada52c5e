"""Tests of tinygen.nn, one file per source file."""

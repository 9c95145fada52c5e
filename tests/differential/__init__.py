"""Differential tests: tinygen against PyTorch on random small configurations."""

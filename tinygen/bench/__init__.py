"""Benchmarks that ``tinygen bench`` runs and ``benchmarks/*.py`` wrap: each times tinygen against
its references, the machine's own limits and, when it is installed, PyTorch."""

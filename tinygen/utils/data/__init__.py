"""Datasets, samplers, collation and the DataLoader, as ``torch.utils.data``.

``tinygen.data.DataLoader`` is the training recipes' loader (data kept on the device, seeded
per-epoch order, exact resume); both loaders share this package's ``TensorDataset``.
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split)
from .dataset import StackDataset
from .distributed import DistributedSampler
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .sampler import WeightedRandomSampler

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
    "TensorDataset", "default_collate", "default_convert", "get_worker_info", "random_split",
    "DistributedSampler", "StackDataset", "WeightedRandomSampler"]

"""``DistributedSampler`` as in ``torch.utils.data``: each of ``num_replicas`` processes reads
its own slice of the dataset. tinygen has no distributed package, so ``num_replicas`` and
``rank`` must be given (PyTorch would ask its process group). The partition is PyTorch's:
indices padded (or cut, with ``drop_last``) to a multiple of ``num_replicas``, then rank ``r``
takes every ``num_replicas``-th from ``r``. With ``shuffle`` the order is a permutation seeded
by ``seed + epoch``; tinygen's generator draws other permutations than PyTorch's for that seed,
but the same one on every replica, which is what keeps the slices disjoint."""

import math

from tinygen.generator import Generator, rng
from tinygen.utils.data.sampler import Sampler


class DistributedSampler(Sampler):
    """Indices of this ``rank``'s share of ``dataset``; call ``set_epoch`` before each epoch to
    reshuffle."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            raise RuntimeError("Requires distributed package to be available")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = rng("cpu", g).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use ``epoch`` in the shuffle seed, so each epoch has its own order."""
        self.epoch = epoch

"""PyTorch's parametrizations tutorial, ported by changing the imports (same contract as
``scripts.py``). Transcribed from pytorch/tutorials intermediate_source/parametrizations.py (the
torch.linalg.solve version of CayleyMap); prints replaced by returned values, and
NoisyParametrization's print by a call log.
"""


def parametrizations(torch, nn, parametrize):
    """The whole tutorial; returns its named results for the test to check."""
    out = {}

    def symmetric(X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    X = torch.rand(3, 3)
    A = symmetric(X)
    assert torch.allclose(A, A.T)  # A is symmetric
    out["A_by_hand"] = (X, A)

    class LinearSymmetric(nn.Module):
        def __init__(self, n_features):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(n_features, n_features))

        def forward(self, x):
            A = symmetric(self.weight)
            return x @ A

    layer = LinearSymmetric(3)
    out["linear_symmetric"] = (layer, layer(torch.rand(8, 3)))

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    A = layer.weight
    assert torch.allclose(A, A.T)  # A is symmetric
    out["symmetric_layer"] = layer

    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

    cnn = nn.Conv2d(in_channels=5, out_channels=8, kernel_size=3)
    parametrize.register_parametrization(cnn, "weight", Skew())
    out["kernels"] = (cnn.weight[0, 1], cnn.weight[2, 2])

    # Inspecting a parametrized module
    layer = nn.Linear(3, 3)
    unparametrized = f"Unparametrized:\n{layer}"
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrized = f"\nParametrized:\n{layer}"
    out["reprs"] = (unparametrized, parametrized, str(layer.parametrizations),
                    str(layer.parametrizations.weight), str(layer.parametrizations.weight[0]))
    out["named_parameters"] = dict(layer.named_parameters())
    symmetric = Symmetric()
    weight_orig = layer.parametrizations.weight.original
    out["dist_symmetric"] = torch.dist(layer.weight, symmetric(weight_orig))

    # Caching the value of a parametrization
    log = []

    class NoisyParametrization(nn.Module):
        def forward(self, X):
            log.append("Computing the Parametrization")
            return X

    layer = nn.Linear(4, 4)
    parametrize.register_parametrization(layer, "weight", NoisyParametrization())
    foo = layer.weight + layer.weight.T
    bar = layer.weight.sum()
    uncached = len(log)
    with parametrize.cached():
        foo = layer.weight + layer.weight.T
        bar = layer.weight.sum()
    out["calls"] = (uncached, len(log) - uncached, foo, bar)

    # Concatenating parametrizations
    class CayleyMap(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", torch.eye(n))

        def forward(self, X):
            # (I + X)(I - X)^{-1}
            return torch.linalg.solve(self.Id - X, self.Id + X)

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew())
    parametrize.register_parametrization(layer, "weight", CayleyMap(3))
    X = layer.weight
    out["cayley"] = (layer, torch.dist(X.T @ X, torch.eye(3)))  # X is orthogonal

    class MatrixExponential(nn.Module):
        def forward(self, X):
            return torch.matrix_exp(X)

    layer_orthogonal = nn.Linear(3, 3)
    parametrize.register_parametrization(layer_orthogonal, "weight", Skew())
    parametrize.register_parametrization(layer_orthogonal, "weight", MatrixExponential())
    X = layer_orthogonal.weight
    out["expm_orthogonal"] = (layer_orthogonal, torch.dist(X.T @ X, torch.eye(3)))

    layer_spd = nn.Linear(3, 3)
    parametrize.register_parametrization(layer_spd, "weight", Symmetric())
    parametrize.register_parametrization(layer_spd, "weight", MatrixExponential())
    X = layer_spd.weight
    out["spd"] = (X, torch.dist(X, X.T), (torch.linalg.eigvalsh(X) > 0.).all())

    # Initializing parametrizations
    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

        def right_inverse(self, A):
            # We assume that A is skew-symmetric
            # We take the upper-triangular elements, as these are those used in the forward
            return A.triu(1)

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew())
    X = torch.rand(3, 3)
    X = X - X.T                             # X is now skew-symmetric
    layer.weight = X                        # Initialize layer.weight to be X
    out["skew_init"] = (layer, X, torch.dist(layer.weight, X))      # layer.weight == X

    class CayleyMap(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", torch.eye(n))

        def forward(self, X):
            # Assume X skew-symmetric
            # (I + X)(I - X)^{-1}
            return torch.linalg.solve(self.Id - X, self.Id + X)

        def right_inverse(self, A):
            # Assume A orthogonal
            # See https://en.wikipedia.org/wiki/Cayley_transform#Matrix_map
            # (A - I)(A + I)^{-1}
            return torch.linalg.solve(A + self.Id, self.Id - A)

    layer_orthogonal = nn.Linear(3, 3)
    parametrize.register_parametrization(layer_orthogonal, "weight", Skew())
    parametrize.register_parametrization(layer_orthogonal, "weight", CayleyMap(3))
    # Sample an orthogonal matrix with positive determinant
    X = torch.empty(3, 3)
    nn.init.orthogonal_(X)
    if X.det() < 0.:
        X[0].neg_()
    layer_orthogonal.weight = X
    cayley_init = torch.dist(layer_orthogonal.weight, X)  # layer_orthogonal.weight == X
    layer_orthogonal.weight = nn.init.orthogonal_(layer_orthogonal.weight)
    out["cayley_init"] = (X, cayley_init, layer_orthogonal)

    class PruningParametrization(nn.Module):
        def __init__(self, X, p_drop=0.2):
            super().__init__()
            # sample zeros with probability p_drop
            mask = torch.full_like(X, 1.0 - p_drop)
            self.mask = torch.bernoulli(mask)

        def forward(self, X):
            return X * self.mask

        def right_inverse(self, A):
            return A

    layer = nn.Linear(3, 4)
    X = torch.rand_like(layer.weight)
    parametrize.register_parametrization(layer, "weight", PruningParametrization(layer.weight))
    layer.weight = X
    out["pruned"] = (X, layer.parametrizations.weight[0].mask, layer.weight)

    # Removing parametrizations
    for leave in (True, False):
        layer = nn.Linear(3, 3)
        before = layer.weight.detach().clone()
        parametrize.register_parametrization(layer, "weight", Skew())
        skew = layer.weight.detach().clone()
        if leave:
            parametrize.remove_parametrizations(layer, "weight")
        else:
            parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
        out[f"removed_{leave}"] = (before, skew, layer)
    return out

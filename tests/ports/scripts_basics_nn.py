"""PyTorch's "What is torch.nn really?" (beginner_source/nn_tutorial.py), written once against
module objects (the rest of ``scripts_basics.py``; the examples and recipes are in
``scripts_basics_examples.py``).

Same contract as ``scripts.py``: the code is upstream's, run unchanged on PyTorch and on tinygen;
MNIST is replaced by synthetic arrays passed in, prints by returned values, and the step counts
are shrunk. Every stage is here, from raw tensors with ``requires_grad_`` to
``WrappedDataLoader`` and ``nn.AdaptiveAvgPool2d``.
"""

import math


# ---------------------------------------------------------------------------------------------
# nn_tutorial.py
# ---------------------------------------------------------------------------------------------

def nn_from_scratch(torch, x_train, y_train, epochs=2, bs=64, lr=0.5):
    """'Neural net from scratch (no torch.nn)': returns the loss and accuracy of the first batch
    before training, the per-step losses, and (weights, bias)."""
    n, c = x_train.shape

    weights = torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    xb = x_train[0:bs]  # a mini-batch from x
    preds = model(xb)  # predictions

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    loss_func = nll
    yb = y_train[0:bs]

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    start = (preds, loss_func(preds, yb), accuracy(preds, yb))
    losses = []
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)
            losses.append(loss.item())

            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    return start, losses, (weights, bias), accuracy


def make_mnist_logistic(torch, nn, linear=False):
    """Mnist_Logistic: with its own Parameters, or (``linear``) refactored onto nn.Linear."""
    class Mnist_Logistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    class Mnist_Logistic_Linear(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(784, 10)

        def forward(self, xb):
            return self.lin(xb)

    return Mnist_Logistic_Linear if linear else Mnist_Logistic


def fit_manual(torch, model, loss_func, x_train, y_train, epochs=2, bs=64, lr=0.5):
    """The first ``fit()``: updates through ``model.parameters()`` and ``model.zero_grad()``."""
    n = x_train.shape[0]
    losses = []
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)
            losses.append(loss.item())

            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * lr
                model.zero_grad()
    return losses


def fit_optim_dataset(model, opt, loss_func, train_ds, n, epochs=2, bs=64):
    """'Refactor using optim' and '... using Dataset': slices of a TensorDataset."""
    losses = []
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            xb, yb = train_ds[i * bs: i * bs + bs]
            pred = model(xb)
            loss = loss_func(pred, yb)
            losses.append(loss.item())

            loss.backward()
            opt.step()
            opt.zero_grad()
    return losses


def fit_with_validation(torch, model, opt, loss_func, train_dl, valid_dl, epochs=2):
    """'Add validation': returns the train losses and each epoch's mean validation loss."""
    losses, valid = [], []
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            pred = model(xb)
            loss = loss_func(pred, yb)
            losses.append(loss.item())

            loss.backward()
            opt.step()
            opt.zero_grad()

        model.eval()
        with torch.no_grad():
            valid_loss = sum(loss_func(model(xb), yb) for xb, yb in valid_dl)

        valid.append((valid_loss / len(valid_dl)).item())
    return losses, valid


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)

    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()

    return loss.item(), len(xb)


def fit(torch, np, epochs, model, loss_func, opt, train_dl, valid_dl):
    """The final ``fit``; returns each epoch's validation loss."""
    val_losses = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)

        model.eval()
        with torch.no_grad():
            losses, nums = zip(
                *[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl]
            )
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        val_losses.append(val_loss)
    return val_losses


def get_data(DataLoader, train_ds, valid_ds, bs):
    return (
        DataLoader(train_ds, batch_size=bs, shuffle=True),
        DataLoader(valid_ds, batch_size=bs * 2),
    )


def make_mnist_cnn(nn, F):
    class Mnist_CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, 28, 28)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 4)
            return xb.view(-1, xb.size(1))

    return Mnist_CNN


def make_lambda(nn):
    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    return Lambda


def sequential_cnn(nn, adaptive=False):
    """The nn.Sequential CNN: with the view Lambda and AvgPool2d(4), or (``adaptive``) for
    WrappedDataLoader batches, with AdaptiveAvgPool2d(1)."""
    Lambda = make_lambda(nn)

    def preprocess(x):
        return x.view(-1, 1, 28, 28)

    head = [] if adaptive else [Lambda(preprocess)]
    pool = nn.AdaptiveAvgPool2d(1) if adaptive else nn.AvgPool2d(4)
    model = nn.Sequential(
        *head,
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        pool,
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    return model


class WrappedDataLoader:
    def __init__(self, dl, func):
        self.dl = dl
        self.func = func

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        batches = iter(self.dl)
        for b in batches:
            yield (self.func(*b))


def gpu_preprocess(torch):
    """'Using your GPU': the device, and preprocess moving each batch to it."""
    dev = torch.device(
        "cuda") if torch.cuda.is_available() else torch.device("cpu")

    def preprocess(x, y):
        return x.view(-1, 1, 28, 28).to(dev), y.to(dev)

    return dev, preprocess

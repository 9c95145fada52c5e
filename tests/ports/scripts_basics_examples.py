"""PyTorch's polynomial examples and state_dict recipes, written once against module objects
(the rest of ``scripts_basics.py``).

Same contract as ``scripts.py``: the code is upstream's, run unchanged on PyTorch and on tinygen;
CIFAR10 is replaced by synthetic tensors passed in, prints by returned values, and the step
counts are shrunk. Transcribed from pytorch/tutorials:

* beginner_source/examples_tensor/polynomial_tensor.py, examples_autograd/polynomial_autograd.py,
  examples_nn/{polynomial_nn,polynomial_optim,polynomial_module,dynamic_net}.py
* recipes_source/recipes/{what_is_state_dict, zeroing_out_gradients,
  warmstarting_model_using_parameters_from_a_different_model,
  saving_multiple_models_in_one_file}.py (their ``Net``)
"""

import math
import random


# ---------------------------------------------------------------------------------------------
# examples_tensor, examples_autograd, examples_nn: a third order polynomial fits sin(x)
# ---------------------------------------------------------------------------------------------

def polynomial_tensor(torch, steps=200, n=2000, dtype=None, learning_rate=1e-6):
    """Forward and backward written by hand; returns the losses and (a, b, c, d)."""
    dtype = torch.float if dtype is None else dtype
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, n, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), device=device, dtype=dtype)
    b = torch.randn((), device=device, dtype=dtype)
    c = torch.randn((), device=device, dtype=dtype)
    d = torch.randn((), device=device, dtype=dtype)
    losses = []
    for t in range(steps):
        y_pred = a + (b * x) + (c * x.pow(2)) + (d * x.pow(3))
        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)
        grad_y_pred = -2.0 * (y - y_pred)
        grad_a = grad_y_pred.sum()
        grad_b = torch.matmul(input=grad_y_pred, other=x).sum()
        grad_c = torch.matmul(input=grad_y_pred, other=x.pow(2)).sum()
        grad_d = torch.matmul(input=grad_y_pred, other=x.pow(3)).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return losses, (a, b, c, d)


def polynomial_autograd(torch, steps=200, n=2000, dtype=None, zero_with_floats=False):
    """polynomial_autograd.py. Upstream now zeroes with ``a.grad, ... = 0., ...``, which PyTorch
    itself refuses (TypeError); ``zero_with_floats`` runs that line, else the earlier
    ``a.grad = None`` that upstream keeps commented out."""
    dtype = torch.float if dtype is None else dtype
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
        else "cpu"
    torch.set_default_device(device)
    x = torch.linspace(-math.pi, math.pi, n, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), dtype=dtype, requires_grad=True)
    b = torch.randn((), dtype=dtype, requires_grad=True)
    c = torch.randn((), dtype=dtype, requires_grad=True)
    d = torch.randn((), dtype=dtype, requires_grad=True)
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            if zero_with_floats:
                a.grad, b.grad, c.grad, d.grad = 0., 0., 0., 0.
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, (a, b, c, d)


def polynomial_nn(torch, steps=200, n=2000, use_optim=False):
    """polynomial_nn.py, or (``use_optim``) polynomial_optim.py; returns the losses and the
    Result line."""
    x = torch.linspace(-math.pi, math.pi, n)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-6
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate) if use_optim else None
    losses = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if use_optim:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        else:
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
    linear_layer = model[0]
    result = (f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + '
              f'{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
    return losses, model, result


def make_polynomial3(torch, dynamic=False):
    """Polynomial3 of polynomial_module.py, or (``dynamic``) DynamicNet of dynamic_net.py."""
    class Polynomial3(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.randn(()))
            self.b = torch.nn.Parameter(torch.randn(()))
            self.c = torch.nn.Parameter(torch.randn(()))
            self.d = torch.nn.Parameter(torch.randn(()))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                    f'{self.d.item()} x^3')

    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.randn(()))
            self.b = torch.nn.Parameter(torch.randn(()))
            self.c = torch.nn.Parameter(torch.randn(()))
            self.d = torch.nn.Parameter(torch.randn(()))
            self.e = torch.nn.Parameter(torch.randn(()))

        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, random.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

        def string(self):
            return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                    f'{self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?')

    return DynamicNet if dynamic else Polynomial3


def polynomial_module(torch, model, steps=200, n=2000, lr=1e-6, momentum=0):
    """The loop of polynomial_module.py (lr 1e-6) and dynamic_net.py (lr 1e-8, momentum 0.9)."""
    x = torch.linspace(-math.pi, math.pi, n)
    y = torch.sin(x)
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses = []
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, f'Result: {model.string()}'


# ---------------------------------------------------------------------------------------------
# recipes: they all share this Net (upstream forgets to import F; it is passed in here)
# ---------------------------------------------------------------------------------------------

def make_recipe_net(nn, F):
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.flatten(start_dim=1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

    return Net


def what_is_state_dict(net, optimizer):
    """The two printing loops, as lists of what they print."""
    model_rows = [(param_tensor, net.state_dict()[param_tensor].size())
                  for param_tensor in net.state_dict()]
    optim_rows = [(var_name, optimizer.state_dict()[var_name])
                  for var_name in optimizer.state_dict()]
    return model_rows, optim_rows


def zeroing_out_gradients(net, criterion, optimizer, trainloader, epochs=2):
    """Step 5; returns every loss."""
    losses = []
    for epoch in range(epochs):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data

            # zero the parameter gradients
            optimizer.zero_grad()

            # forward + backward + optimize
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            losses.append(loss.item())
    return losses


def warmstart(torch, netA, netB, PATH):
    torch.save(netA.state_dict(), PATH)
    return netB.load_state_dict(torch.load(PATH), strict=False)


def save_multiple(torch, optim, Net, netA, netB, optimizerA, optimizerB, PATH):
    """Steps 4 and 5; returns the loaded models and optimizers."""
    torch.save({
                'modelA_state_dict': netA.state_dict(),
                'modelB_state_dict': netB.state_dict(),
                'optimizerA_state_dict': optimizerA.state_dict(),
                'optimizerB_state_dict': optimizerB.state_dict(),
                }, PATH)

    modelA = Net()
    modelB = Net()
    optimModelA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
    optimModelB = optim.SGD(modelB.parameters(), lr=0.001, momentum=0.9)

    checkpoint = torch.load(PATH)
    modelA.load_state_dict(checkpoint['modelA_state_dict'])
    modelB.load_state_dict(checkpoint['modelB_state_dict'])
    # upstream loads into optimizerA/B again; the fresh optimizers are what a reader resumes
    optimModelA.load_state_dict(checkpoint['optimizerA_state_dict'])
    optimModelB.load_state_dict(checkpoint['optimizerB_state_dict'])

    modelA.eval()
    modelB.eval()
    # - or -
    modelA.train()
    modelB.train()
    return modelA, modelB, optimModelA, optimModelB

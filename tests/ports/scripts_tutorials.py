"""PyTorch tutorial scripts, written once against module objects (the third set of ports).

Same contract as ``scripts.py``: every function takes the framework (``torch``, ``nn``, ``F``,
``optim``) as arguments and uses only what the upstream code writes, so it runs unchanged on
PyTorch and on tinygen. Sizes are shrunk; randomness that the equality tests must control (the
data, the shuffling order) comes in from outside. Transcribed from:

* beginner_source/examples_autograd/polynomial_custom_function.py (LegendrePolynomial3)
* intermediate_source/spatial_transformer_tutorial.py (Net with localization / fc_loc)
* intermediate_source/char_rnn_classification_tutorial.py (CharRNN), in the padded form with
  ``pack_padded_sequence(..., enforce_sorted=False)``

The rest of this set is in ``scripts_sequences.py``.
"""

import math
import random

import numpy as np


# ---------------------------------------------------------------------------------------------
# 1. Defining new autograd Functions
# ---------------------------------------------------------------------------------------------

def make_legendre(torch):
    class LegendrePolynomial3(torch.autograd.Function):
        """
        We can implement our own custom autograd Functions by subclassing
        torch.autograd.Function and implementing the forward and backward passes
        which operate on Tensors.
        """

        @staticmethod
        def forward(ctx, input):
            """
            In the forward pass we receive a Tensor containing the input and return
            a Tensor containing the output. ctx is a context object that can be used
            to stash information for backward computation.
            """
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            """
            In the backward pass we receive a Tensor containing the gradient of the loss
            with respect to the output, and we need to compute the gradient of the loss
            with respect to the input.
            """
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def legendre_fit(torch, steps=300, n=200, learning_rate=1e-4, dtype=None):
    """The tutorial's loop (2000 points and steps upstream); returns the loss of each step and
    (a, b, c, d)."""
    LegendrePolynomial3 = make_legendre(torch)
    dtype = torch.float if dtype is None else dtype
    device = torch.device("cpu")

    # Create Tensors to hold input and outputs.
    x = torch.linspace(-math.pi, math.pi, n, device=device, dtype=dtype)
    y = torch.sin(x)

    # Create random Tensors for weights. For this example, we need
    # 4 weights: y = a + b * P3(c + d * x), these weights need to be initialized
    # not too far from the correct result to ensure convergence.
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

    losses = []
    for t in range(steps):
        # To apply our Function, we use Function.apply method. We alias this as 'P3'.
        P3 = LegendrePolynomial3.apply

        # Forward pass: compute predicted y using operations; we compute
        # P3 using our custom autograd operation.
        y_pred = a + b * P3(c + d * x)

        # Compute and print loss
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())

        # Use autograd to compute the backward pass.
        loss.backward()

        # Update weights using gradient descent
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            # Manually zero the gradients after updating weights
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, (a, b, c, d)


def legendre_result(a, b, c, d):
    return f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)'


def make_my_relu(torch):
    """MyReLU of the older version of the same tutorial (two_layer_net_custom_function.py):
    its forward calls a Tensor method (``clamp``) on its input."""
    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    return MyReLU


# ---------------------------------------------------------------------------------------------
# 2. Spatial transformer networks tutorial
# ---------------------------------------------------------------------------------------------

def make_stn_net(torch, nn, F):
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)

            # Spatial transformer localization-network
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True)
            )

            # Regressor for the 3 * 2 affine matrix
            self.fc_loc = nn.Sequential(
                nn.Linear(10 * 3 * 3, 32),
                nn.ReLU(True),
                nn.Linear(32, 3 * 2)
            )

            # Initialize the weights/bias with identity transformation
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

        # Spatial transformer network forward function
        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)

            grid = F.affine_grid(theta, x.size())
            x = F.grid_sample(x, grid)

            return x

        def forward(self, x):
            # transform the input
            x = self.stn(x)

            # Perform the usual forward pass
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    return Net()


def stn_train(torch, F, optim, model, train_loader, epochs=1, lr=0.01):
    """The tutorial's train(epoch) for ``epochs`` epochs; returns the loss of each step."""
    optimizer = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def stn_test(torch, F, model, test_loader):
    """The tutorial's test(), with ``reduction='sum'`` for the deprecated size_average=False."""
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            output = model(data)

            # sum up batch loss
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            # get the index of the max log-probability
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()

        test_loss /= len(test_loader.dataset)
        return test_loss, correct / len(test_loader.dataset)


def stn_visualize(torch, model, data):
    """visualize_stn() without matplotlib: the input and transformed batches as HWC arrays."""
    with torch.no_grad():
        input_tensor = data.cpu()
        transformed_input_tensor = model.stn(data).cpu()
        return (input_tensor.numpy().transpose((0, 2, 3, 1)),
                transformed_input_tensor.numpy().transpose((0, 2, 3, 1)))


# ---------------------------------------------------------------------------------------------
# 3. Char-RNN name classification, padded and packed
# ---------------------------------------------------------------------------------------------

ALLOWED_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'_"
N_LETTERS = len(ALLOWED_CHARACTERS)


def letterToIndex(letter):
    # return our out-of-vocabulary character if we encounter a letter unknown to our model
    if letter not in ALLOWED_CHARACTERS:
        return ALLOWED_CHARACTERS.find("_")
    else:
        return ALLOWED_CHARACTERS.find(letter)


def lineToTensor(torch, line):
    """Turn a line into a <line_length x 1 x n_letters>, or an array of one-hot letter vectors."""
    tensor = torch.zeros(len(line), 1, N_LETTERS)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


def make_char_rnn(torch, nn, F, hidden_size=16, output_size=3, rnn_type='RNN'):
    class CharRNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(CharRNN, self).__init__()

            self.rnn = getattr(nn, rnn_type)(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensors, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(line_tensors, lengths,
                                                       enforce_sorted=False)
            rnn_out, hidden = self.rnn(packed)
            output = self.h2o(hidden[0])
            output = self.softmax(output)
            return output

    return CharRNN(N_LETTERS, hidden_size, output_size)


def char_rnn_batch(torch, nn, lines):
    """One padded (max_len, batch, n_letters) tensor and the lengths, for the lines."""
    line_tensors = [lineToTensor(torch, line)[:, 0] for line in lines]
    lengths = torch.tensor([len(line) for line in lines])
    return nn.utils.rnn.pad_sequence(line_tensors), lengths


def char_rnn_train(torch, nn, rnn, training_data, n_epoch=10, n_batch_size=4,
                   learning_rate=0.2, criterion=None, seed=0):
    """The tutorial's train(), one padded batch per minibatch instead of a loop over names;
    ``training_data`` holds (label_tensor, text) pairs. Returns the mean loss of each epoch."""
    criterion = nn.NLLLoss() if criterion is None else criterion
    shuffler = random.Random(seed)
    current_loss = 0
    all_losses = []
    rnn.train()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=learning_rate)

    for iter in range(1, n_epoch + 1):
        rnn.zero_grad()  # clear the gradients

        # create some minibatches
        batches = list(range(len(training_data)))
        shuffler.shuffle(batches)
        batches = np.array_split(batches, len(batches) // n_batch_size)

        for idx, batch in enumerate(batches):
            label_tensor = torch.cat([training_data[i][0] for i in batch])
            line_tensors, lengths = char_rnn_batch(torch, nn, [training_data[i][1] for i in batch])
            output = rnn(line_tensors, lengths)
            batch_loss = criterion(output, label_tensor)

            # optimize parameters
            batch_loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()

            current_loss += batch_loss.item()

        all_losses.append(current_loss / len(batches))
        current_loss = 0
    return all_losses


def char_rnn_label_from_output(output, output_labels):
    top_n, top_i = output.topk(1)
    label_i = top_i[0].item()
    return output_labels[label_i], label_i

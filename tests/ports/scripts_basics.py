"""PyTorch's "Learn the Basics" tutorials, written once against module objects.

Same contract as ``scripts.py``: every function takes the framework (``torch``, ``nn``, ``F``,
``optim``, ...) as arguments and runs the upstream code unchanged on PyTorch and on tinygen.
Changes from upstream: the imports, FashionMNIST replaced by small synthetic tensors passed in
from outside, prints replaced by returned values, and iteration counts shrunk. Transcribed from
pytorch/tutorials beginner_source/basics/:

* tensorqs_tutorial.py, autogradqs_tutorial.py, buildmodel_tutorial.py
* data_tutorial.py (the custom Dataset: ``read_image`` reads .npy files, the CSV is real)
* transforms_tutorial.py (the one-hot ``Lambda`` target transform with ``scatter_``)
* optimization_tutorial.py, saveloadrun_tutorial.py (the state_dict path)

The nn_tutorial and the examples/recipes are in ``scripts_basics_nn.py``.
"""

import os


# ---------------------------------------------------------------------------------------------
# tensorqs_tutorial.py
# ---------------------------------------------------------------------------------------------

def tensorqs(torch, np):
    """The whole tutorial; returns its named results for the test to check."""
    out = {}
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)  # retains the properties of x_data
    x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the datatype of x_data
    out.update(x_data=x_data, x_np=x_np, x_ones=x_ones, x_rand=x_rand)

    shape = (2, 3,)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    out.update(rand_tensor=rand_tensor, ones_tensor=ones_tensor, zeros_tensor=zeros_tensor)

    tensor = torch.rand(3, 4)
    out["attributes"] = (tensor.shape, tensor.dtype, tensor.device)
    # We move our tensor to the GPU if available, and if the cuda version is supported
    if torch.cuda.is_available() & (torch.device('cuda').index is not None):
        tensor = tensor.to('cuda')

    tensor = torch.ones(4, 4)
    out["first_row"], out["first_column"], out["last_column"] = (
        tensor[0].clone(), tensor[:, 0].clone(), tensor[..., -1].clone())
    tensor[:, 1] = 0
    out["tensor"] = tensor.clone()
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    out["t1"] = t1

    # This computes the matrix multiplication between two tensors. y1, y2, y3 will have the same
    # value
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(tensor)
    torch.matmul(tensor, tensor.T, out=y3)
    # This computes the element-wise product. z1, z2, z3 will have the same value
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    out.update(y=(y1, y2, y3), z=(z1, z2, z3))

    agg = tensor.sum()
    agg_item = agg.item()
    out["agg_item"] = agg_item
    tensor.add_(5)
    out["added"] = tensor

    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    out["t_to_n"] = (t, n)                      # a change in the tensor reflects in the array
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    out["n_to_t"] = (t, n)                      # and the other way round
    return out


# ---------------------------------------------------------------------------------------------
# data_tutorial.py and transforms_tutorial.py
# ---------------------------------------------------------------------------------------------

def make_custom_image_dataset(Dataset, pd, read_image):
    """The tutorial's CustomImageDataset; ``read_image`` stands in for torchvision.io's."""
    class CustomImageDataset(Dataset):
        def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
            self.img_labels = pd.read_csv(annotations_file)
            self.img_dir = img_dir
            self.transform = transform
            self.target_transform = target_transform

        def __len__(self):
            return len(self.img_labels)

        def __getitem__(self, idx):
            img_path = os.path.join(self.img_dir, self.img_labels.iloc[idx, 0])
            image = read_image(img_path)
            label = self.img_labels.iloc[idx, 1]
            if self.transform:
                image = self.transform(image)
            if self.target_transform:
                label = self.target_transform(label)
            return image, label

    return CustomImageDataset


def one_hot_target_transform(torch, Lambda):
    """transforms_tutorial.py's target transform (``Lambda`` is any callable wrapper)."""
    target_transform = Lambda(lambda y: torch.zeros(
        10, dtype=torch.float).scatter_(dim=0, index=torch.tensor(y), value=1))
    return target_transform


def first_batch(DataLoader, training_data):
    """data_tutorial.py: iterate through the DataLoader."""
    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
    train_features, train_labels = next(iter(train_dataloader))
    img = train_features[0].squeeze()
    label = train_labels[0]
    return train_features.size(), train_labels.size(), img, label


# ---------------------------------------------------------------------------------------------
# buildmodel_tutorial.py and optimization_tutorial.py
# ---------------------------------------------------------------------------------------------

def make_neural_network(nn, final_relu=False):
    """NeuralNetwork of buildmodel_tutorial.py (with a last ReLU) or optimization_tutorial.py."""
    class NeuralNetwork(nn.Module):
        def __init__(self):
            super(NeuralNetwork, self).__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28*28, 512),
                nn.ReLU(),
                nn.Linear(512, 512),
                nn.ReLU(),
                nn.Linear(512, 10),
                *([nn.ReLU()] if final_relu else []),
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    return NeuralNetwork


def buildmodel(torch, nn):
    """buildmodel_tutorial.py from the model on; returns what it prints."""
    out = {}
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model = make_neural_network(nn, final_relu=True)().to(device)
    out["model"] = str(model)
    X = torch.rand(1, 28, 28, device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    out["y_pred"] = y_pred

    input_image = torch.rand(3, 28, 28)
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    layer1 = nn.Linear(in_features=28*28, out_features=20)
    hidden1 = layer1(flat_image)
    out["sizes"] = (input_image.size(), flat_image.size(), hidden1.size())
    out["before_relu"] = hidden1
    hidden1 = nn.ReLU()(hidden1)
    out["after_relu"] = hidden1

    seq_modules = nn.Sequential(
        flatten,
        layer1,
        nn.ReLU(),
        nn.Linear(20, 10)
    )
    input_image = torch.rand(3, 28, 28)
    logits = seq_modules(input_image)
    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
    out["pred_probab"] = pred_probab
    out["params"] = [(name, param.size(), param[:2]) for name, param in model.named_parameters()]
    return out


def train_loop(dataloader, model, loss_fn, optimizer, batch_size=64):
    """optimization_tutorial.py's train_loop; returns the loss of every batch."""
    size = len(dataloader.dataset)
    model.train()
    losses = []
    for batch, (X, y) in enumerate(dataloader):
        # Compute prediction and loss
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        losses.append(loss.item())
        if batch % 100 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            assert current <= size
    return losses


def test_loop(torch, dataloader, model, loss_fn):
    """optimization_tutorial.py's test_loop; returns (accuracy, average loss)."""
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0

    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()

    test_loss /= num_batches
    correct /= size
    return correct, test_loss


def optimization(torch, nn, model, train_dataloader, test_dataloader, epochs=2,
                 learning_rate=1e-3):
    """The tutorial's last block; returns the train losses and (accuracy, loss) per epoch."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    losses, tests = [], []
    for t in range(epochs):
        losses += train_loop(train_dataloader, model, loss_fn, optimizer)
        tests.append(test_loop(torch, test_dataloader, model, loss_fn))
    return losses, tests


# ---------------------------------------------------------------------------------------------
# autogradqs_tutorial.py and saveloadrun_tutorial.py
# ---------------------------------------------------------------------------------------------

def autogradqs(torch):
    """The whole tutorial; returns what it prints."""
    out = {}
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    out.update(x=x, w=w, b=b, z=z, loss=loss, grad_fns=(z.grad_fn, loss.grad_fn))

    loss.backward()
    out["grads"] = (w.grad, b.grad)

    z = torch.matmul(x, w)+b
    out["requires_grad"] = [z.requires_grad]
    with torch.no_grad():
        z = torch.matmul(x, w)+b
    out["requires_grad"].append(z.requires_grad)
    z = torch.matmul(x, w)+b
    z_det = z.detach()
    out["requires_grad"].append(z_det.requires_grad)

    inp = torch.eye(4, 5, requires_grad=True)
    out_ = (inp+1).pow(2).t()
    out_.backward(torch.ones_like(out_), retain_graph=True)
    out["first_call"] = inp.grad.clone()
    out_.backward(torch.ones_like(out_), retain_graph=True)
    out["second_call"] = inp.grad.clone()
    inp.grad.zero_()
    out_.backward(torch.ones_like(out_), retain_graph=True)
    out["after_zeroing"] = inp.grad.clone()
    return out


def saveloadrun(torch, make_model, path):
    """The state_dict path, with ``make_model`` in place of torchvision's vgg16."""
    model = make_model()
    torch.save(model.state_dict(), path)

    model = make_model()
    model.load_state_dict(torch.load(path))
    model.eval()
    return model

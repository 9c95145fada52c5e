"""PyTorch tutorial scripts, written once against module objects (the fourth set, continued).

The contract of ``scripts.py``: the framework (``torch``, ``nn``, ``F``, ``optim``) comes in as
arguments, sizes are shrunk, data comes in from outside. Transcribed from:

* beginner_source/transformer_tutorial.py (TransformerModel, PositionalEncoding, batchify,
  get_batch, train, evaluate); its init_weights as in pytorch/examples word_language_model
  (``nn.init.uniform_`` / ``nn.init.zeros_``)
* beginner_source/fgsm_tutorial.py (Net, fgsm_attack, denorm, test); ``transforms.Normalize``
  is written out as the tensor arithmetic it does
* docs/source/notes/autograd.rst and the Tensor/autograd docs' examples (hooks, retain_grad,
  no_grad, requires_grad_, detach), and notes/amp_examples.rst's gradient penalty (without the
  scaler)
"""

import math


# ---------------------------------------------------------------------------------------------
# 5. Language modeling with nn.TransformerEncoder
# ---------------------------------------------------------------------------------------------

def make_transformer_lm(torch, nn, ntoken, d_model=200, nhead=2, d_hid=200, nlayers=2,
                        dropout=0.2, device='cpu'):
    TransformerEncoder, TransformerEncoderLayer = nn.TransformerEncoder, nn.TransformerEncoderLayer

    class TransformerModel(nn.Module):

        def __init__(self, ntoken: int, d_model: int, nhead: int, d_hid: int,
                     nlayers: int, dropout: float = 0.5):
            super().__init__()
            self.model_type = 'Transformer'
            self.pos_encoder = PositionalEncoding(d_model, dropout)
            encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
            self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)

            self.init_weights()

        def init_weights(self) -> None:
            initrange = 0.1
            nn.init.uniform_(self.embedding.weight, -initrange, initrange)
            nn.init.zeros_(self.linear.bias)
            nn.init.uniform_(self.linear.weight, -initrange, initrange)

        def forward(self, src, src_mask=None):
            """
            Arguments:
                src: Tensor, shape ``[seq_len, batch_size]``
                src_mask: Tensor, shape ``[seq_len, seq_len]``

            Returns:
                output Tensor of shape ``[seq_len, batch_size, ntoken]``
            """
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            if src_mask is None:
                """Generate a square causal mask for the sequence. The masked positions are
                filled with float('-inf'). Unmasked positions are filled with float(0.0).
                """
                src_mask = nn.Transformer.generate_square_subsequent_mask(len(src)).to(device)
            output = self.transformer_encoder(src, src_mask)
            output = self.linear(output)
            return output

    class PositionalEncoding(nn.Module):

        def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)

            position = torch.arange(max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, 1, d_model)
            pe[:, 0, 0::2] = torch.sin(position * div_term)
            pe[:, 0, 1::2] = torch.cos(position * div_term)
            self.register_buffer('pe', pe)

        def forward(self, x):
            """
            Arguments:
                x: Tensor, shape ``[seq_len, batch_size, embedding_dim]``
            """
            x = x + self.pe[:x.size(0)]
            return self.dropout(x)

    return TransformerModel(ntoken, d_model, nhead, d_hid, nlayers, dropout).to(device)


def batchify(data, bsz: int, device='cpu'):
    """Divides the data into ``bsz`` separate sequences, removing extra elements
    that wouldn't cleanly fit.

    Arguments:
        data: Tensor, shape ``[N]``
        bsz: int, batch size

    Returns:
        Tensor of shape ``[N // bsz, bsz]``
    """
    seq_len = data.size(0) // bsz
    data = data[:seq_len * bsz]
    data = data.view(bsz, seq_len).t().contiguous()
    return data.to(device)


def get_batch(source, i: int, bptt=35):
    """
    Arguments:
        source: Tensor, shape ``[full_seq_len, batch_size]``
        i: int

    Returns:
        tuple (data, target), where data has shape ``[seq_len, batch_size]`` and
        target has shape ``[seq_len * batch_size]``
    """
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].reshape(-1)
    return data, target


def transformer_lm_run(torch, nn, model, train_data, val_data, ntokens, epochs=3, lr=5.0,
                       bptt=35):
    """The tutorial's optimizer, StepLR, train() and evaluate() for ``epochs`` epochs; returns
    (the loss of each step, the val loss of each epoch, the lr of each epoch)."""
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    losses, val_losses, lrs = [], [], []

    def train(model) -> None:
        model.train()  # turn on train mode
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i, bptt)
            output = model(data)
            output_flat = output.view(-1, ntokens)
            loss = criterion(output_flat, targets)

            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            losses.append(loss.item())

    def evaluate(model, eval_data) -> float:
        model.eval()  # turn on evaluation mode
        total_loss = 0.
        with torch.no_grad():
            for i in range(0, eval_data.size(0) - 1, bptt):
                data, targets = get_batch(eval_data, i, bptt)
                seq_len = data.size(0)
                output = model(data)
                output_flat = output.view(-1, ntokens)
                total_loss += seq_len * criterion(output_flat, targets).item()
        return total_loss / (len(eval_data) - 1)

    for epoch in range(1, epochs + 1):
        train(model)
        val_losses.append(evaluate(model, val_data))
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.step()
    return losses, val_losses, lrs


# ---------------------------------------------------------------------------------------------
# 6. Adversarial example generation (FGSM)
# ---------------------------------------------------------------------------------------------

def make_fgsm_net(torch, nn, F, c1=32, c2=64, hidden=128, side=28):
    """The tutorial's Net; (32, 64, 128, 28) upstream, where fc1 has 9216 inputs."""
    flat = c2 * ((side - 4) // 2) ** 2

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, c1, 3, 1)
            self.conv2 = nn.Conv2d(c1, c2, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(flat, hidden)
            self.fc2 = nn.Linear(hidden, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    return Net()


def fgsm_attack(torch, image, epsilon, data_grad):
    # Collect the element-wise sign of the data gradient
    sign_data_grad = data_grad.sign()
    # Create the perturbed image by adjusting each pixel of the input image
    perturbed_image = image + epsilon*sign_data_grad
    # Adding clipping to maintain [0,1] range
    perturbed_image = torch.clamp(perturbed_image, 0, 1)
    # Return the perturbed image
    return perturbed_image


def denorm(torch, batch, mean=[0.1307], std=[0.3081], device='cpu'):
    """
    Convert a batch of tensors to their original scale.

    Args:
        batch (torch.Tensor): Batch of normalized tensors.
        mean (torch.Tensor or list): Mean used for normalization.
        std (torch.Tensor or list): Standard deviation used for normalization.

    Returns:
        torch.Tensor: batch of tensors without normalization applied to them.
    """
    if isinstance(mean, list):
        mean = torch.tensor(mean, dtype=batch.dtype).to(device)
    if isinstance(std, list):
        std = torch.tensor(std, dtype=batch.dtype).to(device)

    return batch * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)


def normalize(x, mean=0.1307, std=0.3081):
    """transforms.Normalize((0.1307,), (0.3081,)) on a one-channel batch."""
    return (x - mean) / std


def fgsm_test(torch, F, model, device, test_loader, epsilon):
    """The tutorial's test(): (final accuracy, adversarial examples)."""
    # Accuracy counter
    correct = 0
    adv_examples = []

    # Loop over all examples in test set
    for data, target in test_loader:

        # Send the data and label to the device
        data, target = data.to(device), target.to(device)

        # Set requires_grad attribute of tensor. Important for Attack
        data.requires_grad = True

        # Forward pass the data through the model
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]  # get the index of the max log-probability

        # If the initial prediction is wrong, don't bother attacking, just move on
        if init_pred.item() != target.item():
            continue

        # Calculate the loss
        loss = F.nll_loss(output, target)

        # Zero all existing gradients
        model.zero_grad()

        # Calculate gradients of model in backward pass
        loss.backward()

        # Collect ``datagrad``
        data_grad = data.grad.data

        # Restore the data to its original scale
        data_denorm = denorm(torch, data)

        # Call FGSM Attack
        perturbed_data = fgsm_attack(torch, data_denorm, epsilon, data_grad)

        # Reapply normalization
        perturbed_data_normalized = normalize(perturbed_data)

        # Re-classify the perturbed image
        output = model(perturbed_data_normalized)

        # Check for success
        final_pred = output.max(1, keepdim=True)[1]  # get the index of the max log-probability
        if final_pred.item() == target.item():
            correct += 1
            # Special case for saving 0 epsilon examples
            if epsilon == 0 and len(adv_examples) < 5:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
        else:
            # Save some adv examples for visualization later
            if len(adv_examples) < 5:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))

    # Calculate final accuracy for this epsilon
    final_acc = correct/float(len(test_loader))

    # Return the accuracy and an adversarial example
    return final_acc, adv_examples


# ---------------------------------------------------------------------------------------------
# 7. Autograd mechanics
# ---------------------------------------------------------------------------------------------

def hooks_and_retain_grad(torch):
    """Tensor.register_hook's example, a hook on an intermediate, retain_grad; returns what the
    docs print: (v.grad, x.grad, y.grad, hook saw, y.grad after removing the hook)."""
    v = torch.tensor([0., 0., 0.], requires_grad=True)
    h = v.register_hook(lambda grad: grad * 2)  # double the gradient
    v.backward(torch.tensor([1., 2., 3.]))
    v_grad = v.grad.clone()
    h.remove()  # removes the hook

    seen = []
    x = torch.tensor([1., 2., 3.], requires_grad=True)
    y = x * x
    y.retain_grad()
    hook = y.register_hook(lambda grad: seen.append(grad.clone()) or grad * 10)
    z = (y * torch.tensor([1., 1., 2.])).sum()
    z.backward(retain_graph=True)
    hook.remove()
    x_grad, y_grad = x.grad.clone(), y.grad.clone()
    (y * torch.tensor([1., 1., 2.])).sum().backward()     # no hook now: x.grad accumulates
    return v_grad, x_grad, y_grad, seen[0], y.grad, x.grad


def locally_disabling_grad(torch, nn):
    """no_grad, requires_grad_, detach and freezing as the notes write them; returns a dict
    of the flags they set."""
    out = {}
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        y = x * 2
    out['no_grad'] = y.requires_grad

    @torch.no_grad()
    def doubler(x):
        return x * 2
    out['decorator'] = doubler(x).requires_grad

    out['detach'] = (x * 2).detach().requires_grad
    a = torch.randn(2)
    out['before'] = a.requires_grad
    a.requires_grad_()
    out['requires_grad_'] = a.requires_grad and (a * 2).requires_grad

    # freeze all but the classifier (notes: "Setting requires_grad")
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model.requires_grad_(False)
    for param in model[2].parameters():
        param.requires_grad = True
    model(torch.randn(5, 3)).sum().backward()
    out['frozen_grads'] = [p.grad is not None for p in model.parameters()]
    return out


def gradient_penalty_train(torch, model, loss_fn, optimizer, data):
    """amp_examples.rst's gradient penalty loop (without GradScaler); returns the loss and the
    penalty of each step."""
    history = []
    for input, target in data:
        optimizer.zero_grad()
        output = model(input)
        loss = loss_fn(output, target)

        # Creates gradients
        grad_params = torch.autograd.grad(outputs=loss,
                                          inputs=model.parameters(),
                                          create_graph=True)

        # Computes the penalty term and adds it to the loss
        grad_norm = 0
        for grad in grad_params:
            grad_norm += grad.pow(2).sum()
        grad_norm = grad_norm.sqrt()
        loss = loss + grad_norm

        loss.backward()

        # clip gradients here, if desired

        optimizer.step()
        history.append((loss.item(), grad_norm.item()))
    return history

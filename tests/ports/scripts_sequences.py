"""PyTorch tutorial scripts, the third set of ports continued (see ``scripts_tutorials.py``
for the contract). Transcribed from:

* intermediate_source/seq2seq_translation_tutorial.py (EncoderRNN, BahdanauAttention,
  AttnDecoderRNN, train_epoch, evaluate)
* pytorch/examples reinforcement_learning/reinforce.py (Policy, select_action, finish_episode),
  the action draws passed in from outside
* the torch.optim "Stochastic Weight Averaging" recipe (AveragedModel, SWALR,
  CosineAnnealingLR, update_bn) around blocks run through torch.utils.checkpoint
"""

from collections import deque

import numpy as np


# ---------------------------------------------------------------------------------------------
# 4. Seq2seq translation tutorial (Bahdanau attention decoder)
# ---------------------------------------------------------------------------------------------

SOS_token = 0
EOS_token = 1


def make_seq2seq(torch, nn, F, input_size, output_size, hidden_size=16, MAX_LENGTH=6,
                 dropout_p=0.1, device="cpu"):
    """EncoderRNN and AttnDecoderRNN of the tutorial."""

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super(EncoderRNN, self).__init__()
            self.hidden_size = hidden_size

            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super(BahdanauAttention, self).__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)

            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, keys)

            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super(AttnDecoderRNN, self).__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long,
                                        device=device).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            attentions = []

            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs
                )
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)

                if target_tensor is not None:
                    # Teacher forcing: Feed the target as the next input
                    decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
                else:
                    # Without teacher forcing: use its own predictions as the next input
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()  # detach from history as input

            decoder_outputs = torch.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            attentions = torch.cat(attentions, dim=1)

            return decoder_outputs, decoder_hidden, attentions

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))

            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            input_gru = torch.cat((embedded, context), dim=2)

            output, hidden = self.gru(input_gru, hidden)
            output = self.out(output)

            return output, hidden, attn_weights

    encoder = EncoderRNN(input_size, hidden_size, dropout_p).to(device)
    decoder = AttnDecoderRNN(hidden_size, output_size, dropout_p).to(device)
    return encoder, decoder


def seq2seq_dataloader(torch, input_ids, target_ids, batch_size):
    """get_dataloader's tail: id arrays (int32, EOS then zero padding) into a DataLoader (in
    order here; upstream uses a RandomSampler)."""
    train_data = torch.utils.data.TensorDataset(torch.LongTensor(input_ids),
                                                torch.LongTensor(target_ids))
    return torch.utils.data.DataLoader(train_data, batch_size=batch_size)


def seq2seq_train_epoch(dataloader, encoder, decoder, encoder_optimizer,
                        decoder_optimizer, criterion):
    total_loss = 0
    for data in dataloader:
        input_tensor, target_tensor = data

        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)

        loss = criterion(
            decoder_outputs.view(-1, decoder_outputs.size(-1)),
            target_tensor.view(-1)
        )
        loss.backward()

        encoder_optimizer.step()
        decoder_optimizer.step()

        total_loss += loss.item()

    return total_loss / len(dataloader)


def seq2seq_train(torch, nn, optim, train_dataloader, encoder, decoder, n_epochs,
                  learning_rate=0.001):
    """The tutorial's train() without the plotting; returns the loss of each epoch."""
    losses = []
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=learning_rate)
    criterion = nn.NLLLoss()

    for epoch in range(1, n_epochs + 1):
        loss = seq2seq_train_epoch(train_dataloader, encoder, decoder, encoder_optimizer,
                                   decoder_optimizer, criterion)
        losses.append(loss)
    return losses


def seq2seq_evaluate(torch, encoder, decoder, input_tensor, index2word):
    with torch.no_grad():
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)

        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()

        decoded_words = []
        for idx in decoded_ids:
            if idx.item() == EOS_token:
                decoded_words.append('<EOS>')
                break
            decoded_words.append(index2word[idx.item()])
    return decoded_words, decoder_attn


# ---------------------------------------------------------------------------------------------
# 5. pytorch/examples reinforcement_learning/reinforce.py
# ---------------------------------------------------------------------------------------------

def make_policy(torch, nn, F):
    class Policy(nn.Module):
        def __init__(self):
            super(Policy, self).__init__()
            self.affine1 = nn.Linear(4, 128)
            self.dropout = nn.Dropout(p=0.6)
            self.affine2 = nn.Linear(128, 2)

            self.saved_log_probs = []
            self.rewards = []

        def forward(self, x):
            x = self.affine1(x)
            x = self.dropout(x)
            x = F.relu(x)
            action_scores = self.affine2(x)
            return F.softmax(action_scores, dim=1)

    return Policy()


def reinforce_main(torch, optim, policy, env, episodes, gamma=0.99, lr=1e-2, draws=None):
    """main() of reinforce.py for ``episodes`` episodes. ``draws`` (None: m.sample(), as
    upstream) holds one uniform number per step, turned into the action by the inverse CDF so
    two frameworks take the same actions. Returns each episode's reward and loss."""
    # upstream: from torch.distributions import Categorical
    Categorical = torch.distributions.Categorical
    optimizer = optim.Adam(policy.parameters(), lr=lr)
    eps = np.finfo(np.float32).eps.item()

    def select_action(state):
        state = torch.from_numpy(state).float().unsqueeze(0)
        probs = policy(state)
        m = Categorical(probs)
        if draws is None:
            action = m.sample()
        else:
            action = torch.tensor([int(draws.pop(0) > probs[0, 0].item())])
        policy.saved_log_probs.append(m.log_prob(action))
        return action.item()

    def finish_episode():
        R = 0
        policy_loss = []
        returns = deque()
        for r in policy.rewards[::-1]:
            R = r + gamma * R
            returns.appendleft(R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for log_prob, R in zip(policy.saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        optimizer.zero_grad()
        policy_loss = torch.cat(policy_loss).sum()
        policy_loss.backward()
        optimizer.step()
        del policy.rewards[:]
        del policy.saved_log_probs[:]
        return policy_loss.item()

    running_reward = 10
    history = []
    for i_episode in range(1, episodes + 1):
        state, _ = env.reset()
        ep_reward = 0
        for t in range(1, 10000):  # Don't infinite loop while learning
            action = select_action(state)
            state, reward, done, _, _ = env.step(action)
            policy.rewards.append(reward)
            ep_reward += reward
            if done:
                break

        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        history.append((ep_reward, finish_episode()))
    return history


class StubCartPole:
    """A tiny deterministic stand-in for gym's CartPole (gym's API: reset() -> (state, info),
    step(a) -> (state, reward, terminated, truncated, info)): a point on a line that action 1
    pushes right and action 0 pushes left; the episode ends when it leaves [-1, 1] or after
    ``max_steps``. Starting states come from the env's own seeded NumPy generator."""

    def __init__(self, seed=0, max_steps=40):
        self.rng = np.random.default_rng(seed)
        self.max_steps = max_steps

    def reset(self):
        self.t = 0
        self.state = np.concatenate([self.rng.uniform(-0.3, 0.3, 2), [0.0, 1.0]])
        return self.state.copy(), {}

    def step(self, action):
        x, v = self.state[:2]
        v = v + (0.05 if action == 1 else -0.05)
        x = x + v
        self.t += 1
        self.state = np.array([x, v, self.t / self.max_steps, 1.0])
        done = abs(x) > 1.0 or self.t >= self.max_steps
        return self.state.copy(), 1.0, done, False, {}


# ---------------------------------------------------------------------------------------------
# 6. Activation checkpointing + Stochastic Weight Averaging (torch.optim.swa_utils recipe)
# ---------------------------------------------------------------------------------------------

def make_checkpointed_mlp(torch, nn, F, d_in=8, d_model=16, n_blocks=2, n_out=3):
    """Pre-norm residual MLP blocks, each run through torch.utils.checkpoint in training."""
    checkpoint = torch.utils.checkpoint.checkpoint  # from torch.utils.checkpoint import ...

    class Block(nn.Module):
        def __init__(self, d_model):
            super().__init__()
            self.ln = nn.LayerNorm(d_model)
            self.fc1 = nn.Linear(d_model, 4 * d_model)
            self.fc2 = nn.Linear(4 * d_model, d_model)

        def forward(self, x):
            return x + self.fc2(F.gelu(self.fc1(self.ln(x))))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(d_in, d_model)
            self.bn = nn.BatchNorm1d(d_model)
            self.blocks = nn.ModuleList([Block(d_model) for _ in range(n_blocks)])
            self.head = nn.Linear(d_model, n_out)
            self.use_checkpoint = True

        def forward(self, x):
            x = F.relu(self.bn(self.inp(x)))
            for block in self.blocks:
                if self.use_checkpoint and self.training:
                    x = checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            return self.head(x)

    return Net()


def swa_train(torch, nn, optim, model, loader, epochs=8, swa_start=4, lr=0.1, swa_lr=0.05):
    """The SWA recipe of the torch.optim docs: CosineAnnealingLR until swa_start, then
    AveragedModel.update_parameters + SWALR, then update_bn. Returns the step losses, the lr
    of each epoch and swa_model."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    swa_model = torch.optim.swa_utils.AveragedModel(model)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    swa_scheduler = torch.optim.swa_utils.SWALR(optimizer, swa_lr=swa_lr, anneal_epochs=2)

    losses, lrs = [], []
    for epoch in range(epochs):
        model.train()
        lrs.append(optimizer.param_groups[0]['lr'])
        for input, target in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(input), target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        if epoch > swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()

    # Update bn statistics for the swa_model at the end
    torch.optim.swa_utils.update_bn(loader, swa_model)
    return losses, lrs, swa_model


def swa_predict(torch, swa_model, test_input):
    # Use swa_model to make predictions on test data
    swa_model.eval()
    with torch.no_grad():
        return swa_model(test_input)

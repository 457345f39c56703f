"""Ctrl-C during ``fit``: the first one asks training to stop cleanly, a second one aborts at once.

While :class:`graceful_interrupt` is active in the main thread, SIGINT sets
``requested`` instead of raising ``KeyboardInterrupt`` in the middle of a backward
pass or a checkpoint save; the training loop looks at it after every step. A second
SIGINT raises ``KeyboardInterrupt`` right away (a save in progress still removes its
temporary file). Outside the main thread, or when the program has its own SIGINT
handler, nothing is installed and the loop catches ``KeyboardInterrupt`` instead.
"""

import signal
import sys
import threading

__all__ = ["graceful_interrupt"]


class graceful_interrupt:
    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(
            "\nCtrl-C: stopping after this step (press Ctrl-C again to abort at once)",
            file=sys.stderr,
            flush=True,
        )

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if current is signal.default_int_handler:
                self._previous = current
                signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

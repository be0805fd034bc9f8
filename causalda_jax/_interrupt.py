"""Ctrl-C for the command-line tool: one line, exit status 130, no partial output.

Raising ``KeyboardInterrupt`` through JAX, XLA or a half-finished import prints long
tracebacks and can crash the interpreter at exit. Instead, the first SIGINT removes the
temporary files of the writes in progress, prints one line and leaves with ``os._exit(130)``,
which runs no further Python code. The signal is also caught by a small thread woken through
``signal.set_wakeup_fd``, so a main thread busy in compiled code does not delay the exit.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading

from ._output import discard_pending, written

__all__ = ["exit_on_interrupt", "note_kept"]

INTERRUPTED = 130
_kept: list[str] = []


def note_kept(text: str) -> None:
    """Say what an interrupted run keeps on purpose (for example, finished runs that resume)."""
    _kept.append(text)


def _message() -> str:
    kept = [f"{p} was written before the interrupt" for p in written()] + _kept
    return "interrupted; " + ("; ".join(kept) if kept else "nothing was written")


def exit_on_interrupt() -> None:
    """Install the Ctrl-C behaviour of the ``causalda`` tool in this (main) process."""
    owner = os.getpid()
    once = threading.Lock()

    def stop() -> None:
        if os.getpid() != owner:
            os._exit(INTERRUPTED)
        # Whichever of the handler and the watcher comes second waits here for the exit.
        once.acquire()
        discard_pending()
        if "multiprocessing" in sys.modules:
            for child in sys.modules["multiprocessing"].active_children():
                child.terminate()
        try:
            # A progress bar hides the terminal's cursor; os._exit would leave it hidden.
            show_cursor = "\x1b[?25h\r" if os.isatty(2) else ""
            os.write(2, (show_cursor + _message() + "\n").encode())
        finally:
            os._exit(INTERRUPTED)

    signal.signal(signal.SIGINT, lambda signum, frame: stop())
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            data = reader.recv(64)
            if not data or signal.SIGINT in data:
                break
        if data:
            stop()

    # The sockets live as long as the process; keep them referenced so they are not closed.
    watcher = threading.Thread(target=watch, name="causalda-interrupt", daemon=True)
    watcher.sockets = (reader, writer)
    watcher.start()

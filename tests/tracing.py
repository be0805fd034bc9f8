"""The suite's one retrace guard: count jit traces per function name through ``jax.monitoring``.

JAX records an event each time it traces a function for ``jit`` (the same event that
``jax.log_compiles`` prints), so a test can count the traces of a library function without a
counter inside the library.
"""

import collections
import contextlib

import jax

_TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"


@contextlib.contextmanager
def count_traces():
    """Yield a Counter of function name -> number of jit traces while the block runs."""
    counts: collections.Counter = collections.Counter()

    def listener(event, duration, **meta):
        if event == _TRACE_EVENT:
            counts[meta.get("fun_name")] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield counts
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)

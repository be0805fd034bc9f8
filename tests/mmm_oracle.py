"""Plain-loop references for the marketing-mix transforms."""

import numpy as np


def loop_adstock(x, decay):
    """Geometric carry-over a_t = x_t + decay * a_{t-1}, one week at a time (any trailing shape)."""
    x = np.asarray(x, np.float64)
    out = np.zeros_like(x)
    carry = np.zeros(x.shape[1:])
    for t in range(x.shape[0]):
        carry = x[t] + decay * carry
        out[t] = carry
    return out

"""Brute-force enumeration of the Markov factorization: the independent oracle for `augment`.

Written for clarity, not speed: every one of the n^d index tuples is scored with plain Python
floats in linear space, pruned by its final weight, and merged by value.
"""

import itertools
import math


def kernel_value(u, kernel):
    if kernel == "gaussian":
        return math.exp(-0.5 * u * u)
    return max(0.0, 1.0 - u * u) * 0.75


def brute_force(rows, order, pillows, bandwidths, categorical, theta_eff, kernel="gaussian"):
    """Return {value tuple: weight} over all tuples of training values.

    Args:
        rows: list of n tuples (one per training row), values by column position.
        order: column positions in topological order.
        pillows: {column: [conditioning columns]}.
        bandwidths: {column: h} for continuous columns.
        categorical: set of categorical column positions.
        theta_eff: keep tuples whose weight is >= theta_eff and > 0.
    """
    n = len(rows)
    d = len(rows[0])

    def conditional(var, chosen, i):
        cols = pillows[var]
        if not cols:
            return 1.0 / n

        def k(r):
            out = 1.0
            for c in cols:
                if c in categorical:
                    out *= 1.0 if rows[r][c] == chosen[c] else 0.0
                else:
                    out *= kernel_value((chosen[c] - rows[r][c]) / bandwidths[c], kernel)
            return out

        total = sum(k(r) for r in range(n))
        return k(i) / total if total > 0 else 0.0

    merged = {}
    for combo in itertools.product(range(n), repeat=d):
        chosen = [rows[combo[c]][c] for c in range(d)]
        w = 1.0
        for var in order:
            w *= conditional(var, chosen, combo[var])
        if w > 0 and w >= theta_eff:
            key = tuple(chosen)
            merged[key] = merged.get(key, 0.0) + w
    return merged

"""One augmentation step in plain numpy: the numpy twin's step, and the engine's path for small steps.

Scoring a few thousand candidates costs less in numpy than dispatching a compiled step, so
``augment`` runs its small steps here; ``reference.augment_numpy`` runs every step here.
"""

from __future__ import annotations

import math

import numpy as np

from ._plan import Plan

__all__ = ["log_conditional_weights_numpy", "log_kernel_numpy", "numpy_step"]


def log_kernel_numpy(z: np.ndarray, x: np.ndarray, h: np.ndarray, is_categorical: np.ndarray, kernel: str) -> np.ndarray:
    """``log K_h(z - x)`` over the last axis (c columns), broadcasting the leading axes of ``z`` and ``x``."""
    log_k = np.zeros(np.broadcast_shapes(z.shape, x.shape)[:-1])
    for j in range(z.shape[-1]):
        diff = z[..., j] - x[..., j]
        if is_categorical[j]:
            log_k += np.where(diff == 0, 0.0, -np.inf)
        elif kernel == "gaussian":
            u = diff / h[j]
            log_k -= 0.5 * u * u
        else:
            inside = 1.0 - (diff / h[j]) ** 2
            with np.errstate(divide="ignore"):
                log_k += np.where(inside > 0, np.log(np.maximum(inside, 0.0)), -np.inf)
    return log_k


def log_conditional_weights_numpy(
    z: np.ndarray, x: np.ndarray, h: np.ndarray, is_categorical: np.ndarray, kernel: str
) -> np.ndarray:
    """``log w_i(z_b)`` for query rows ``z`` (b, c) against training rows ``x`` (n, c)."""
    log_k = log_kernel_numpy(z[:, None, :], x[None], h, is_categorical, kernel)
    peak = np.max(log_k, axis=1, keepdims=True)
    finite = np.isfinite(peak)
    shift = np.where(finite, peak, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = shift + np.log(np.sum(np.exp(log_k - shift), axis=1, keepdims=True))
        return np.where(finite, log_k - norm, -np.inf)


def numpy_step(plan: Plan, idx: np.ndarray, lw: np.ndarray, var: int, pillow: tuple[int, ...], block_rows: int):
    """Extend the rows ``idx`` (log-weights ``lw``) by every training value of ``var``; prune."""
    x = plan.table.values
    n = x.shape[0]
    cols = list(pillow)
    new_idx, new_lw = [], []
    for start in range(0, idx.shape[0], block_rows):
        block = idx[start : start + block_rows]
        if cols:
            z = x[block[:, cols], cols]
            log_f = log_conditional_weights_numpy(z, x[:, cols], plan.h[cols], plan.table.is_categorical[cols], plan.kernel)
        else:
            log_f = np.full((block.shape[0], n), -math.log(n))
        cand = lw[start : start + block_rows, None] + log_f
        parent, choice = np.nonzero((cand >= plan.log_threshold) & (cand > -np.inf))
        rows = block[parent]
        rows[:, var] = choice
        new_idx.append(rows)
        new_lw.append(cand[parent, choice])
    if not new_idx:
        return idx[:0], lw[:0]
    return np.concatenate(new_idx), np.concatenate(new_lw)

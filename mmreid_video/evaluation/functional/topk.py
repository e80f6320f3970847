# Copyright (c) mmreid_video contributors. All rights reserved.
"""Rank-n accuracy and mAP@k from top-k lists, for galleries too big for
full mAP."""
from typing import Dict, Sequence

import numpy as np

from mmreid_video.utils.arrays import Labels, as_labels


def _count_keys(g_keys: np.ndarray, q_keys: np.ndarray) -> np.ndarray:
    """How many gallery rows equal each query row (rows of 2-D keys)."""
    _, inverse = np.unique(
        np.concatenate([g_keys, q_keys]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse[:len(g_keys)], minlength=inverse.max() + 1)
    return counts[inverse[len(g_keys):]]


# The n of the R-n reported by default.
DEFAULT_RANKS = (1, 5, 10)


def topk_metrics(indices: np.ndarray,
                 q_pids: Labels,
                 q_camids: Labels,
                 g_pids: Labels,
                 g_camids: Labels,
                 ranks: Sequence[int] = DEFAULT_RANKS) -> Dict[str, float]:
    """R-n and mAP@k of ranked lists from which junk is already removed.

    Positives are gallery items with the query's pid and another camera;
    queries without any are skipped, as in full evaluation. AP@k sums the
    precision at each hit within the list and divides by
    ``min(num_positives, k)``, so with ``k >= G`` it equals full AP.

    Args:
        indices (np.ndarray): (Q, k) gallery rows, best first, -1 padding
            (as :func:`rank_gallery` and ``GalleryIndex.search`` return).
        q_pids, q_camids (array-like): (Q, ) query labels.
        g_pids, g_camids (array-like): (G, ) gallery labels.
        ranks (Sequence[int]): The n of R-n; those > k are left out.
            Defaults to DEFAULT_RANKS, (1, 5, 10).

    Returns:
        dict: ``R{n}`` and ``mAP@{k}`` as fractions, and
        ``num_valid_queries``.
    """
    indices = np.asarray(indices)
    if indices.ndim != 2 or indices.dtype.kind not in 'iu':
        raise ValueError('`indices` must be a (Q, k) integer array of gallery '
                         f'rows, got shape {indices.shape} {indices.dtype}')
    num_q, k = indices.shape
    q_pids = as_labels(q_pids, 'q_pids', num_q)
    q_camids = as_labels(q_camids, 'q_camids', num_q)
    g_pids = as_labels(g_pids, 'g_pids', len(g_pids))
    g_camids = as_labels(g_camids, 'g_camids', len(g_pids))
    if indices.size and indices.max() >= len(g_pids):
        raise ValueError(f'`indices` names gallery row {indices.max()}, but '
                         f'the gallery has {len(g_pids)} labels')
    same_pid = _count_keys(
        np.stack([g_pids, np.zeros_like(g_pids)], 1),
        np.stack([q_pids, np.zeros_like(q_pids)], 1))
    same_cam = _count_keys(
        np.stack([g_pids, g_camids], 1), np.stack([q_pids, q_camids], 1))
    num_pos = same_pid - same_cam
    valid = num_pos > 0
    if not valid.any():
        raise ValueError(f'None of the {len(q_pids)} queries has a gallery '
                         'match (same pid, different camera)')
    idx, num_pos = indices[valid], num_pos[valid]
    hits = (idx >= 0) & (g_pids[np.maximum(idx, 0)] == q_pids[valid, None])
    precision = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    ap = (precision * hits).sum(axis=1) / np.minimum(num_pos, k)
    results = {
        f'R{n}': float(hits[:, :n].any(axis=1).mean())
        for n in ranks if n <= k
    }
    results[f'mAP@{k}'] = float(ap.mean())
    results['num_valid_queries'] = int(valid.sum())
    return results

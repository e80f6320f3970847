# Copyright (c) mmreid_video contributors. All rights reserved.
"""What exact search and the faiss backend share: the exclusion rules as
``rank_gallery`` labels, and exact cosine distances of normalised rows.

Inputs are checked by :mod:`mmreid_video.utils.arrays`, the rule of the
evaluator too.
"""
from typing import Optional, Tuple

import numpy as np

from mmreid_video.utils.arrays import Labels, as_labels


def optional_labels(labels: Optional[Labels], name: str,
                    size: int) -> Optional[np.ndarray]:
    """:func:`~mmreid_video.utils.arrays.as_labels`, passing None on."""
    return None if labels is None else as_labels(labels, name, size)


def check_topk(topk: int) -> int:
    """Validate a list length."""
    if isinstance(topk, bool) or not isinstance(topk, (int, np.integer)) \
            or topk < 1:
        raise ValueError(f'topk must be an integer >= 1, got {topk!r}')
    return int(topk)


def check_exclusion(query_pids: Optional[np.ndarray],
                    query_camids: Optional[np.ndarray], gallery_pids: bool,
                    gallery_camids: bool) -> None:
    """Check that the query labels name one exclusion rule the gallery's
    labels can apply.

    Args:
        query_pids, query_camids (np.ndarray, optional): Query labels.
        gallery_pids, gallery_camids (bool): Whether the gallery has them.
    """
    if query_pids is not None and query_camids is None:
        raise ValueError('query_pids need query_camids: the re-ID rule '
                         'excludes gallery items of the same pid AND camera')
    if query_camids is not None and not gallery_camids:
        raise ValueError('query_camids were given but the gallery has no '
                         'camids')
    if query_pids is not None and not gallery_pids:
        raise ValueError('query_pids were given but the gallery has no pids')


def exclusion_labels(
        q_pids: Optional[np.ndarray], q_camids: Optional[np.ndarray],
        g_pids: Optional[np.ndarray], g_camids: Optional[np.ndarray],
        num_q: int,
        num_g: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels that make ``rank_gallery`` apply the wanted exclusion rule.

    ``rank_gallery`` leaves out gallery items with the query's pid *and*
    camera. Query pids and camids apply that re-ID rule; camids alone
    exclude same-camera items (all pids equal); no labels exclude nothing
    (query and gallery on distinct pids and cameras).

    Args:
        q_pids, q_camids (np.ndarray, optional): Checked query labels.
        g_pids, g_camids (np.ndarray, optional): Checked gallery labels.
        num_q (int): Number of queries.
        num_g (int): Number of gallery items.

    Returns:
        tuple[np.ndarray]: ``q_pids, g_pids, q_camids, g_camids`` for
        ``rank_gallery``.
    """
    check_exclusion(q_pids, q_camids, g_pids is not None, g_camids is not None)
    if q_pids is not None:
        return q_pids, g_pids, q_camids, g_camids
    zeros_q, zeros_g = np.zeros(num_q, np.int64), np.zeros(num_g, np.int64)
    if q_camids is not None:
        return zeros_q, zeros_g, q_camids, g_camids
    return zeros_q, zeros_g + 1, zeros_q, zeros_g + 1


def exact_distances(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Cosine distances of normalised rows, exact to float32 rounding.

    Products of float32 values are exact in float64 and the sum's error is
    far below float32 resolution, so the result does not depend on how a
    BLAS blocks the product (float32 GEMMs differ in the last bit with the
    number of rows): whole galleries and candidate lists get the same
    distances and ties.

    Args:
        query (np.ndarray): Normalised float32 (C, D), or (C, 1, D) with a
            gallery of per-query candidates.
        gallery (np.ndarray): Normalised float32 (M, D), or (C, M, D).

    Returns:
        np.ndarray: float32 (C, M), ``1 - cosine similarity``.
    """
    q64 = query.astype(np.float64)
    if gallery.ndim == 3:
        sim = (q64 @ gallery.astype(np.float64).transpose(0, 2, 1))[:, 0]
        return np.subtract(1.0, sim, out=sim).astype(np.float32)
    out = np.empty((len(query), len(gallery)), np.float32)
    # float64 copies of the gallery are made a block at a time.
    step = max(1, (1 << 20) // gallery.shape[1])
    for start in range(0, len(gallery), step):
        sim = q64 @ gallery[start:start + step].astype(np.float64).T
        out[:, start:start + step] = np.subtract(1.0, sim, out=sim)
    return out

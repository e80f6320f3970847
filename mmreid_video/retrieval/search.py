# Copyright (c) mmreid_video contributors. All rights reserved.
"""Exact search of a gallery held as one descriptor array."""
from typing import Optional, Tuple

import numpy as np
import torch

from mmreid_video.evaluation.functional import rank_gallery
from mmreid_video.utils.arrays import (ArrayLike, Labels, as_descriptors,
                                       check_same_dim)
from ._exact import (check_topk, exact_distances, exclusion_labels,
                     optional_labels)

# Distances (and label pairs) held per block of queries.
_BLOCK_ELEMENTS = 1 << 22


def search(
    query_feats: ArrayLike,
    gallery_feats: ArrayLike,
    topk: int = 10,
    query_pids: Optional[Labels] = None,
    query_camids: Optional[Labels] = None,
    gallery_pids: Optional[Labels] = None,
    gallery_camids: Optional[Labels] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Rank gallery descriptors for each query by cosine distance.

    The lists are those of
    :func:`~mmreid_video.evaluation.functional.rank_gallery`, computed block
    by block so no (Q, G) matrix is held. Distances are exact to float32
    rounding (see :class:`~mmreid_video.retrieval.GalleryIndex`, whose
    exact mode returns the same lists). With query pids and camids the re-ID
    rule applies (gallery items with the query's pid *and* camera are left
    out); with query camids alone same-camera items are left out; without
    labels nothing is. Inputs are checked as the evaluator checks them
    (:mod:`mmreid_video.utils.arrays`).

    Args:
        query_feats (np.ndarray | torch.Tensor): (Q, D) descriptors
            (normalised here; any finite magnitude).
        gallery_feats (np.ndarray | torch.Tensor): (G, D) descriptors.
        topk (int): Number of results per query; at most G are returned.
            Defaults to 10.
        query_pids, query_camids (array-like, optional): (Q, ) int ids.
        gallery_pids, gallery_camids (array-like, optional): (G, ) int ids,
            needed by the matching query labels.

    Returns:
        tuple[Tensor, Tensor]: ``indices`` (Q, k) int64 gallery rows, best
        first (ties in gallery order), and ``distances`` (Q, k) float32,
        ``1 - cosine similarity``; ``k = min(topk, G)``. A list with fewer
        than k items left after exclusion is padded with -1 and inf.
    """
    q = as_descriptors(query_feats, 'query_feats', normalize=True).numpy()
    g = as_descriptors(gallery_feats, 'gallery_feats', normalize=True).numpy()
    check_same_dim(q.shape[1], g.shape[1])
    topk = check_topk(topk)
    num_q, num_g = len(q), len(g)
    q_pids, g_pids, q_cams, g_cams = exclusion_labels(
        optional_labels(query_pids, 'query_pids', num_q),
        optional_labels(query_camids, 'query_camids', num_q),
        optional_labels(gallery_pids, 'gallery_pids', num_g),
        optional_labels(gallery_camids, 'gallery_camids', num_g), num_q, num_g)
    k = min(topk, num_g)
    indices = np.empty((num_q, k), np.int64)
    dists = np.empty((num_q, k), np.float32)
    chunk = max(1, _BLOCK_ELEMENTS // num_g)
    for start in range(0, num_q, chunk):
        rows = slice(start, min(start + chunk, num_q))
        indices[rows], dists[rows] = rank_gallery(
            exact_distances(q[rows], g), k, q_pids[rows], g_pids, q_cams[rows],
            g_cams)
    return torch.from_numpy(indices), torch.from_numpy(dists)

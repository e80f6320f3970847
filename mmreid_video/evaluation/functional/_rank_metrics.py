# Copyright (c) mmreid_video contributors. All rights reserved.
"""mAP, CMC and mINP from the ranks of the positives (:mod:`._rank_kernel`
computes them)."""
from typing import Dict, Optional

import numpy as np


def metrics_from_ranks(ranks: np.ndarray,
                       pos_cnt: np.ndarray,
                       max_rank: int,
                       ap_mode: str,
                       query_index: Optional[np.ndarray] = None,
                       num_queries: Optional[int] = None) -> Dict:
    """mAP, CMC and mINP from the 1-based ranks of the positives.

    Per-query sums run left to right (``cumsum``), like a per-query loop
    over the ranked list, so results match such a loop bit for bit.

    Args:
        ranks (np.ndarray): (num_valid, width) ascending ranks, padded.
        pos_cnt (np.ndarray): Number of positives per query.
        max_rank (int): Length of the CMC curve.
        ap_mode (str): ``'standard'`` or ``'trapezoid'``.
        query_index (np.ndarray, optional): Position of each ranked query
            among ``num_queries`` counted ones; the others have no positive
            and count as AP 0, INP 0 and a miss at every rank (the LS-VID
            MATLAB kit). Defaults to None: every counted query is ranked.
        num_queries (int, optional): Number of counted queries, with
            ``query_index``.

    Returns:
        dict: ``mAP``, ``cmc``, ``mINP``, ``num_valid_queries`` (the ranked
        queries) and the per-query ``AP`` array (of the counted queries).
    """
    hits = np.arange(1, ranks.shape[1] + 1)
    is_hit = hits < pos_cnt[:, None] + 1
    precision = hits / ranks
    if ap_mode == 'standard':
        terms = np.where(is_hit, precision, 0.0)
        ap = np.cumsum(terms, axis=1)[:, -1] / pos_cnt
    else:
        # MARS compute_AP.m: each new hit adds the trapezoid between the
        # previous list position (precision (k-1)/(r-1), or 1 at the top)
        # and this one; non-hit positions add exactly zero.
        ngood = pos_cnt[:, None]
        recall_step = hits / ngood - (hits - 1) / ngood
        old_precision = np.where(ranks > 1,
                                 (hits - 1) / np.maximum(ranks - 1, 1), 1.0)
        terms = np.where(is_hit,
                         recall_step * ((old_precision + precision) / 2), 0.0)
        ap = np.cumsum(terms, axis=1)[:, -1]
    num_valid = len(pos_cnt)
    first = np.minimum(ranks[:, 0], max_rank + 1)
    cmc = np.cumsum(np.bincount(first, minlength=max_rank + 2)[1:max_rank + 1])
    inp = pos_cnt / ranks[:, -1]
    if query_index is not None:
        # Zeros in query order, averaged as a per-query loop would.
        ap_all, inp_all = np.zeros(num_queries), np.zeros(num_queries)
        ap_all[query_index], inp_all[query_index] = ap, inp
        ap, inp = ap_all, inp_all
    return dict(
        mAP=float(np.mean(ap)),
        cmc=cmc / len(ap),
        mINP=float(np.mean(inp)),
        num_valid_queries=num_valid,
        AP=ap)

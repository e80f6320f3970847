# Copyright (c) mmreid_video contributors. All rights reserved.
"""k-reciprocal re-ranking (Zhong et al., "Re-ranking Person
Re-identification with k-reciprocal Encoding", CVPR 2017).

All steps are vectorised over items. Memory at N = Q + G items: one N x N
matrix of normalised distances in ``dist_dtype`` (float16 by default, as
the authors' code stores it), sparse k-reciprocal vectors, and the (Q, G)
float32 result; everything else is chunked.
"""
from typing import Tuple

import numpy as np
import torch
from scipy import sparse

from ._rank_utils import ranges
from .distance import ArrayLike, distance_rows, prepare_features

# (query entry, gallery entry) pairs joined at a time in the Jaccard step.
_JOIN_BUDGET = 1 << 20


def _initial_ranking(
    feats: torch.Tensor, sq: torch.Tensor, num_query: int, k: int, metric: str,
    chunk_size: int, dist_dtype: torch.dtype
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Row-normalised all-pairs distances and each row's k nearest items.

    Returns:
        tuple[torch.Tensor]: the (N, N) normalised distances in
        ``dist_dtype``, the (Q, G) float32 normalised query-gallery block
        and the (N, k) nearest-neighbour indices (self usually first).
    """
    num = len(feats)
    dist_all = torch.empty(num, num, dtype=dist_dtype)
    dist_qg = torch.empty(num_query, num - num_query)
    nearest = torch.empty(num, k, dtype=torch.int64)
    for start in range(0, num, chunk_size):
        rows = slice(start, min(start + chunk_size, num))
        dist = distance_rows(feats[rows], sq[rows], feats, sq, metric)
        # The authors scale by column maxima; distances are symmetric, so
        # that is each row's own maximum. Rankings within a row are kept.
        dist /= dist.max(dim=1, keepdim=True).values.clamp_(min=1e-12)
        nearest[rows] = dist.topk(k, dim=1, largest=False, sorted=True)[1]
        dist_all[rows] = dist
        if start < num_query:
            stop = min(rows.stop, num_query)
            dist_qg[start:stop] = dist[:stop - start, num_query:]
    return dist_all, dist_qg, nearest


def _reciprocal(nearest: torch.Tensor) -> torch.Tensor:
    """k-reciprocal neighbours: j in N(i) with i in N(j); -1 elsewhere."""
    rows = torch.arange(len(nearest))[:, None, None]
    mutual = (nearest[nearest] == rows).any(dim=2)
    return torch.where(mutual, nearest, -1)


def _expanded_sets(nearest: torch.Tensor, k1: int,
                   chunk_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Robust k-reciprocal sets R*(i) as (row, column) pairs.

    A candidate c in R(i, k1) adds its R(c, k1/2) when more than 2/3 of it
    lies in R(i, k1).
    """
    recip = _reciprocal(nearest[:, :k1 + 1])
    half = _reciprocal(nearest[:, :int(np.around(k1 / 2)) + 1])
    rows_out, cols_out = [], []
    for start in range(0, len(recip), chunk_size):
        s = recip[start:start + chunk_size]  # (C, K)
        cand = torch.where((s >= 0)[..., None], half[s.clamp(min=0)],
                           -1)  # (C, K, H)
        inside = ((cand[..., None] == s[:, None, None, :]) &
                  (cand >= 0)[..., None]).any(dim=3).sum(dim=2)
        size = (cand >= 0).sum(dim=2)
        keep = inside > size * (2 / 3)
        merged = torch.cat(
            [s, torch.where(keep[..., None], cand, -1).flatten(1)], dim=1)
        merged = merged.sort(dim=1).values
        first = torch.ones_like(merged, dtype=torch.bool)
        first[:, 1:] = merged[:, 1:] != merged[:, :-1]
        r, c = torch.nonzero(first & (merged >= 0), as_tuple=True)
        rows_out.append((r + start).numpy())
        cols_out.append(merged[r, c].numpy())
    return np.concatenate(rows_out), np.concatenate(cols_out)


def _jaccard_rows(vq: sparse.csr_matrix, vg_csc: sparse.csc_matrix,
                  num_gallery: int) -> np.ndarray:
    """1 - |min(Vq, Vg)| / |max(Vq, Vg)| for a chunk of query rows.

    Only (query, gallery) pairs sharing a non-zero column get a term,
    found by joining each query entry with that column's gallery entries.
    """
    coo = vq.tocoo()
    per_col = np.diff(vg_csc.indptr)
    counts = per_col[coo.col]
    pos = ranges(vg_csc.indptr[coo.col], counts)
    mins = np.minimum(np.repeat(coo.data, counts), vg_csc.data[pos])
    flat = np.repeat(coo.row.astype(np.int64), counts) * num_gallery
    flat += vg_csc.indices[pos]
    overlap = np.bincount(
        flat, weights=mins,
        minlength=vq.shape[0] * num_gallery).reshape(vq.shape[0], num_gallery)
    # With rows summing to one, sum(max) = 2 - sum(min).
    return 1 - overlap / (2 - overlap)


def k_reciprocal_rerank(query_feats: ArrayLike,
                        gallery_feats: ArrayLike,
                        k1: int = 20,
                        k2: int = 6,
                        lambda_value: float = 0.3,
                        metric: str = 'cosine',
                        chunk_size: int = 512,
                        dist_dtype: torch.dtype = torch.float16) -> np.ndarray:
    """Re-ranked query-gallery distances.

    ``d* = (1 - lambda) * d_Jaccard + lambda * d``, where ``d`` is the
    row-normalised original distance and ``d_Jaccard`` compares the
    (query-expanded) k-reciprocal encodings of two items.

    Args:
        query_feats (np.ndarray | torch.Tensor): Query features (Q, D).
        gallery_feats (np.ndarray | torch.Tensor): Gallery features (G, D).
        k1 (int): Size of the k-reciprocal neighbourhood. Defaults to 20.
        k2 (int): Neighbours averaged in local query expansion; 1 disables
            it. Defaults to 6.
        lambda_value (float): Weight of the original distance. Defaults to
            0.3.
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        chunk_size (int): Rows per chunk. Defaults to 512.
        dist_dtype (torch.dtype): Storage type of the N x N distances.
            Defaults to torch.float16.

    Returns:
        np.ndarray: float32 distances of shape (Q, G).
    """
    q, q_sq = prepare_features(query_feats, metric, 'query_feats')
    g, g_sq = prepare_features(gallery_feats, metric, 'gallery_feats')
    num_query, num = len(q), len(q) + len(g)
    if not 1 <= k2 <= k1 < num:
        raise ValueError(f'Re-ranking needs 1 <= k2 <= k1 < Q + G, got '
                         f'k1={k1}, k2={k2}, Q + G={num}')
    if not 0 <= lambda_value <= 1:
        raise ValueError(f'`lambda_value` must be in [0, 1], got '
                         f'{lambda_value}')
    feats, sq = torch.cat([q, g]), torch.cat([q_sq, g_sq])
    del q, g  # one copy of the features is enough
    dist_all, dist_qg, nearest = _initial_ranking(feats, sq, num_query, k1 + 1,
                                                  metric, chunk_size,
                                                  dist_dtype)
    del feats
    rows, cols = _expanded_sets(nearest, k1, chunk_size)
    weight = np.exp(-dist_all[torch.from_numpy(rows),
                              torch.from_numpy(cols)].double().numpy())
    del dist_all
    weight /= np.bincount(rows, weights=weight, minlength=num)[rows]
    vec = sparse.csr_matrix((weight, (rows, cols)), shape=(num, num))
    if k2 > 1:
        # Local query expansion: mean encoding of the k2 nearest items.
        qe_rows = np.repeat(np.arange(num), k2)
        qe = sparse.csr_matrix(
            (np.full(num * k2, 1 / k2),
             (qe_rows, nearest[:, :k2].reshape(-1).numpy())),
            shape=(num, num))
        vec = (qe @ vec).tocsr()
    vg_csc = vec[num_query:].tocsc()
    vq = vec[:num_query]
    # Chunk the queries by the size of their join, which bounds memory.
    coo = vq.tocoo()
    pairs = np.bincount(
        coo.row, weights=np.diff(vg_csc.indptr)[coo.col], minlength=num_query)
    cum = np.cumsum(pairs)
    out = dist_qg.numpy()
    start = 0
    while start < num_query:
        # At least one row, and as many more as fit in the budget.
        stop = max(
            start + 1,
            int(
                np.searchsorted(
                    cum,
                    cum[start] - pairs[start] + _JOIN_BUDGET,
                    side='right')))
        jaccard = _jaccard_rows(vq[start:stop], vg_csc, num - num_query)
        out[start:stop] = (
            jaccard * (1 - lambda_value) + out[start:stop] * lambda_value)
        start = stop
    return out

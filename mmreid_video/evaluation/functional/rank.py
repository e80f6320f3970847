# Copyright (c) mmreid_video contributors. All rights reserved.
"""Exact, vectorised re-ID rank evaluation: mAP, CMC and mINP.

Protocol (as in the MARS / DukeMTMC-VideoReID evaluation code): for each
query, gallery items with the query's pid *and* camera are junk and are
removed from the ranked list; positives are the remaining items with the
query's pid. Gallery items are ranked by ascending distance, ties broken by
gallery order (a stable sort). The counting kernel is in
:mod:`._rank_kernel`.

Every entry point takes ``device``: None ranks where the inputs are (CPU
inputs take the CPU path); a named device (also ``'cpu'``) computes
distances and ranks there, block by block. Given the same distances, all
paths give the same numbers.
"""
import warnings
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from mmreid_video.utils.arrays import as_labels
from ._rank_kernel import RowsFn, positive_ranks, sort_keys
from ._rank_metrics import metrics_from_ranks
from ._rank_utils import match_pairs
from .distance import (ArrayLike, DeviceLike, compute_device,
                       default_chunk_size, distance_rows, prepare_features,
                       to_tensor)

AP_MODES = ('standard', 'trapezoid')
# What a query without a valid match (same pid, other camera) counts as.
NO_POSITIVE_MODES = ('skip', 'zero')


def _evaluate(get_rows: RowsFn, num_g: int, q_pids, g_pids, q_camids, g_camids,
              max_rank: int, ap_mode: str, no_positive: str,
              chunk_size: Optional[int], on_device: bool) -> Dict:
    """Shared checks and driver of the two public entry points."""
    if ap_mode not in AP_MODES:
        raise ValueError(f'`ap_mode` must be one of {AP_MODES}, got '
                         f'{ap_mode!r}')
    if no_positive not in NO_POSITIVE_MODES:
        raise ValueError(f'`no_positive` must be one of {NO_POSITIVE_MODES}, '
                         f'got {no_positive!r}')
    if max_rank < 1:
        raise ValueError(f'`max_rank` must be >= 1, got {max_rank}')
    num_q = len(q_pids)
    if num_q == 0 or num_g == 0:
        raise ValueError(f'Nothing to rank: {num_q} query and {num_g} gallery '
                         'items; both the query and the gallery must be '
                         'non-empty')
    q_pids = as_labels(q_pids, 'q_pids', num_q)
    q_camids = as_labels(q_camids, 'q_camids', num_q)
    g_pids = as_labels(g_pids, 'g_pids', num_g)
    g_camids = as_labels(g_camids, 'g_camids', num_g)
    if chunk_size is None:
        chunk_size = default_chunk_size(num_g)
    if chunk_size < 1:
        raise ValueError(f'`chunk_size` must be >= 1, got {chunk_size}')
    valid, pos_cnt, ranks = positive_ranks(get_rows, q_pids, g_pids, q_camids,
                                           g_camids, chunk_size, on_device)
    num_no_positive = num_q - len(valid)
    if len(valid) == 0:
        raise ValueError(f'None of the {num_q} queries has a valid gallery '
                         'match (same pid, different camera)')
    zero = no_positive == 'zero'
    if num_no_positive:
        warnings.warn(f'{num_no_positive} of {num_q} queries have no valid '
                      'gallery match (same pid, different camera) and ' +
                      ("count as AP 0, INP 0 and a miss at every rank "
                       "(no_positive='zero')" if zero else 'are skipped'))
    if zero:
        results = metrics_from_ranks(ranks, pos_cnt, max_rank, ap_mode, valid,
                                     num_q)
        results['valid_query_indices'] = np.arange(num_q)
    else:
        results = metrics_from_ranks(ranks, pos_cnt, max_rank, ap_mode)
        results['valid_query_indices'] = valid
    results['num_no_positive'] = num_no_positive
    results['num_skipped_queries'] = 0 if zero else num_no_positive
    return results


def evaluate_rank(distmat: ArrayLike,
                  q_pids: ArrayLike,
                  g_pids: ArrayLike,
                  q_camids: ArrayLike,
                  g_camids: ArrayLike,
                  max_rank: int = 20,
                  ap_mode: str = 'standard',
                  chunk_size: Optional[int] = None,
                  device: Optional[DeviceLike] = None,
                  no_positive: str = 'skip') -> Dict:
    """Evaluate a query-gallery distance matrix.

    Args:
        distmat (np.ndarray | torch.Tensor): Distances (Q, G); smaller is
            more similar. float32 (or narrower) takes the fast path; other
            dtypes are compared as they are.
        q_pids, g_pids (array-like): Person ids (Q, ) and (G, ).
        q_camids, g_camids (array-like): Camera ids (Q, ) and (G, ).
        max_rank (int): Length of the CMC curve. Defaults to 20.
        ap_mode (str): ``'standard'`` (non-interpolated AP, the mean of the
            precision at every hit, as papers report) or ``'trapezoid'``
            (the official MARS MATLAB ``compute_AP``). Defaults to
            ``'standard'``.
        chunk_size (int, optional): Queries per block of distances; bounds
            the working memory to about one ``chunk_size x G`` float32
            array. Defaults to None (up to 2048, at most 2**25 values).
        device (str | torch.device, optional): Where to rank. Defaults to
            None (where ``distmat`` is).
        no_positive (str): A query without a valid match (same pid, other
            camera) is left out of the means (``'skip'``), or counts as AP
            0, INP 0 and a miss at every rank of the CMC (``'zero'``, the
            LS-VID MATLAB kit). Defaults to ``'skip'``.

    Returns:
        dict: ``mAP`` (float in [0, 1]), ``cmc`` (np.ndarray of length
        ``max_rank``, fractions), ``mINP`` (float), ``num_valid_queries``
        (queries with a valid match), ``num_no_positive`` (without),
        ``num_skipped_queries`` (left out), per-query ``AP`` and
        ``valid_query_indices`` (the queries ``AP`` refers to: those with
        a valid match, or every query with ``no_positive='zero'``).

    Examples:
        >>> distmat = np.array([[0.1, 0.2, 0.3]], dtype=np.float32)
        >>> res = evaluate_rank(distmat, [1], [2, 1, 1], [0], [1, 1, 1], 3)
        >>> round(res['mAP'], 4), res['cmc'].tolist()
        (0.5833, [0.0, 1.0, 1.0])
    """
    device = compute_device(device, distmat)
    dist = to_tensor(distmat, 'distmat', device)
    if dist.dim() != 2:
        raise ValueError(f'`distmat` must have shape (Q, G), got '
                         f'{tuple(dist.shape)}')
    if dist.shape[0] != len(q_pids):
        raise ValueError(f'`distmat` has {dist.shape[0]} rows but there are '
                         f'{len(q_pids)} query pids')
    return _evaluate(lambda rows: dist[rows], dist.shape[1], q_pids, g_pids,
                     q_camids, g_camids, max_rank, ap_mode, no_positive,
                     chunk_size, device is not None)


def evaluate_rank_by_features(query_feats: ArrayLike,
                              gallery_feats: ArrayLike,
                              q_pids: ArrayLike,
                              g_pids: ArrayLike,
                              q_camids: ArrayLike,
                              g_camids: ArrayLike,
                              metric: str = 'cosine',
                              max_rank: int = 20,
                              ap_mode: str = 'standard',
                              chunk_size: Optional[int] = None,
                              device: Optional[DeviceLike] = None,
                              no_positive: str = 'skip') -> Dict:
    """Like :func:`evaluate_rank`, computing distances chunk by chunk.

    The full (Q, G) matrix never exists; each chunk's distances are ranked
    while they are still in cache. Results equal ``evaluate_rank`` on
    :func:`compute_distance` output.

    Args:
        query_feats (np.ndarray | torch.Tensor): Query features (Q, D).
        gallery_feats (np.ndarray | torch.Tensor): Gallery features (G, D).
        q_pids, g_pids, q_camids, g_camids (array-like): Labels.
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        max_rank (int): Length of the CMC curve. Defaults to 20.
        ap_mode (str): ``'standard'`` or ``'trapezoid'``. Defaults to
            ``'standard'``.
        chunk_size (int, optional): Queries per block of distances.
            Defaults to None (up to 2048, at most 2**25 values).
        device (str | torch.device, optional): Where distances and ranking
            run. Defaults to None (where the features are).
        no_positive (str): ``'skip'`` or ``'zero'``, as in
            :func:`evaluate_rank`. Defaults to ``'skip'``.

    Returns:
        dict: Same keys as :func:`evaluate_rank`.
    """
    device = compute_device(device, query_feats, gallery_feats)
    q, q_sq = prepare_features(query_feats, metric, 'query_feats', device)
    g, g_sq = prepare_features(gallery_feats, metric, 'gallery_feats', device)
    if q.shape[1] != g.shape[1]:
        raise ValueError(f'Query and gallery feature dims differ: '
                         f'{q.shape[1]} vs {g.shape[1]}')
    if len(q) != len(q_pids):
        raise ValueError(f'{len(q)} query features but {len(q_pids)} query '
                         'pids')

    def get_rows(rows: slice) -> torch.Tensor:
        return distance_rows(q[rows], q_sq[rows], g, g_sq, metric)

    return _evaluate(get_rows, len(g), q_pids, g_pids, q_camids, g_camids,
                     max_rank, ap_mode, no_positive, chunk_size, device
                     is not None)


def rank_gallery(
        distmat: ArrayLike,
        topk: int,
        q_pids: ArrayLike,
        g_pids: ArrayLike,
        q_camids: ArrayLike,
        g_camids: ArrayLike,
        chunk_size: int = 256,
        device: Optional[DeviceLike] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Top-k ranked gallery lists with junk removed, ties in gallery order.

    Args:
        distmat (np.ndarray | torch.Tensor): Distances (Q, G), compared as
            float32.
        topk (int): Length of each list.
        q_pids, g_pids, q_camids, g_camids (array-like): Labels; gallery
            items with the query's pid and camera are left out.
        chunk_size (int): Queries per chunk. Defaults to 256.
        device (str | torch.device, optional): Where to rank. Defaults to
            None (where ``distmat`` is).

    Returns:
        tuple[np.ndarray, np.ndarray]: Gallery indices (Q, k) int64 and
        their distances (Q, k) float32, ``k = min(topk, G)``; a list with
        fewer than k valid items is padded with index -1 and distance inf.
    """
    dist = to_tensor(distmat, 'distmat', compute_device(device,
                                                        distmat)).float()
    if dist.dim() != 2:
        raise ValueError(f'`distmat` must have shape (Q, G), got '
                         f'{tuple(dist.shape)}')
    if torch.isnan(dist).any():
        raise ValueError('The distance matrix contains NaN')
    num_q, num_g = dist.shape
    _, g_idx, q_idx, junk = match_pairs(
        as_labels(q_pids, 'q_pids', num_q), as_labels(g_pids, 'g_pids', num_g),
        as_labels(q_camids, 'q_camids', num_q),
        as_labels(g_camids, 'g_camids', num_g))
    k = min(topk, num_g)
    indices = torch.empty(num_q, k, dtype=torch.int64, device=dist.device)
    junk_q = torch.from_numpy(q_idx[junk]).to(dist.device)
    junk_g = torch.from_numpy(g_idx[junk]).to(dist.device)
    fill = torch.iinfo(torch.int64).max
    col = torch.arange(num_g, device=dist.device)
    for start in range(0, num_q, chunk_size):
        stop = min(start + chunk_size, num_q)
        keys = sort_keys(dist[start:stop].contiguous(), col)
        sel = (junk_q >= start) & (junk_q < stop)
        keys[junk_q[sel] - start, junk_g[sel]] = fill
        top_keys, top = keys.topk(k, dim=1, largest=False, sorted=True)
        indices[start:stop] = top.masked_fill_(top_keys == fill, -1)
    dists = dist.gather(1, indices.clamp(min=0))
    dists[indices < 0] = float('inf')
    return indices.cpu().numpy(), dists.cpu().numpy()

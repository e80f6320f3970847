# Copyright (c) mmreid_video contributors. All rights reserved.
"""Exact, vectorised re-ID rank evaluation: mAP, CMC and mINP.

Protocol (as in the MARS / DukeMTMC-VideoReID evaluation code): for each
query, gallery items with the query's pid *and* camera are junk and are
removed from the ranked list; positives are the remaining items with the
query's pid. Gallery items are ranked by ascending distance, ties broken by
gallery order (a stable sort).

Rows are never fully sorted. AP, CMC and mINP only need the rank of each
positive among the valid items, i.e. how many valid items come before it.
float32 distances become unique int64 keys ``(order-preserving float bits
<< 31) | gallery index``, so one ``<`` compares by distance and then by
gallery order; junk gets the largest key. Per query, the items before the
last positive are counted in one pass; when they are few (the usual case
for a trained model), sorting just them places every positive, otherwise
one counting pass per positive does (about nine per MARS query). Work runs
on cache-sized blocks of queries. Other dtypes are compared as they are,
with the same tie rule.
"""
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import (Callable, Dict, Iterator, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch

from .distance import (ArrayLike, default_chunk_size, distance_rows,
                       prepare_features, to_tensor)

AP_MODES = ('standard', 'trapezoid')
# Measured cost of sorting, per element and halving step, in units of one
# element of a counting pass: the two strategies below are chosen per row.
_SORT_COST = 14
RowsFn = Callable[[slice], torch.Tensor]


@contextmanager
def _one_thread() -> Iterator[int]:
    """Run torch ops on one intra-op thread, then restore the setting.

    Ranking is many small ops on cache-sized blocks; with several intra-op
    threads each op waits for all of them, which stalls badly on a shared
    CPU (measured 7x slower under load). Independent blocks on separate
    Python threads use the cores without that barrier.

    Yields:
        int: The previous number of intra-op threads.
    """
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield num_threads
    finally:
        torch.set_num_threads(num_threads)


def _as_1d(x: Union[ArrayLike, Sequence], name: str, size: int) -> np.ndarray:
    """Check a per-item label array and return it as numpy."""
    arr = x.cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.shape != (size, ):
        raise ValueError(f'`{name}` must have shape ({size},), got '
                         f'{arr.shape}')
    return arr


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for each start and count."""
    offsets = np.arange(counts.sum()) - np.repeat(
        np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets


def match_pairs(q_pids: np.ndarray, g_pids: np.ndarray, q_camids: np.ndarray,
                g_camids: np.ndarray) -> Tuple[np.ndarray, np.ndarray,
                                               np.ndarray, np.ndarray]:
    """All (query, gallery) pairs that share a pid, grouped by query.

    Args:
        q_pids, g_pids, q_camids, g_camids (np.ndarray): Labels.

    Returns:
        tuple[np.ndarray]: ``counts`` of same-pid gallery items per query,
        their gallery indices ``g_idx`` (grouped by query, ascending
        gallery order inside a query), the query index of each pair
        ``q_idx`` and ``same_cam`` (True for junk pairs).
    """
    order = np.argsort(g_pids, kind='stable')
    sorted_pids = g_pids[order]
    lo = np.searchsorted(sorted_pids, q_pids, side='left')
    counts = np.searchsorted(sorted_pids, q_pids, side='right') - lo
    g_idx = order[_ranges(lo, counts)]
    q_idx = np.repeat(np.arange(len(q_pids)), counts)
    return counts, g_idx, q_idx, g_camids[g_idx] == q_camids[q_idx]


def _sort_keys(dist: torch.Tensor) -> torch.Tensor:
    """Unique int64 keys ordered by (float32 distance, gallery index)."""
    bits = dist.view(torch.int32)
    index = torch.arange(dist.shape[1], dtype=torch.int64)
    # Bits of non-negative floats are ordered like the floats.
    keys = bits.long().mul_(1 << 31).bitwise_or_(index)
    if bits.min() < 0:
        # Negative floats order reversed in two's complement: flip the
        # magnitude bits; the +1 maps -0.0 onto +0.0 so they tie as floats.
        rows, cols = torch.nonzero(bits < 0, as_tuple=True)
        mono = torch.bitwise_xor(bits[rows, cols], 0x7FFFFFFF).add_(1)
        keys[rows, cols] = mono.long().mul_(1 << 31).bitwise_or_(cols)
    return keys


def _count_per_positive(values: torch.Tensor, pos_v: torch.Tensor,
                        pos_i: Optional[torch.Tensor],
                        pos_cnt: np.ndarray) -> torch.Tensor:
    """Items before each positive, one counting pass per positive.

    Ties in ``values`` are broken by gallery index when ``pos_i`` is given
    (unique keys need no tie-break).
    """
    # Rows by descending count: the rows with a k-th positive are a prefix,
    # so no pass is spent on padding.
    order = torch.from_numpy(np.argsort(-pos_cnt, kind='stable'))
    values, pos_v, cnt = values[order], pos_v[order], pos_cnt[order.numpy()]
    before = torch.zeros(pos_v.shape, dtype=torch.int64)
    col = torch.arange(values.shape[1])
    for k in range(int(cnt.max())):
        m = int(np.count_nonzero(cnt > k))
        rows, v = values[:m], pos_v[:m, k:k + 1]
        before[:m, k] = torch.count_nonzero(rows < v, dim=1)
        if pos_i is not None:
            index = pos_i[order[:m], k:k + 1]
            before[:m, k] += torch.count_nonzero(
                (rows == v) & (col < index), dim=1)
    return before[torch.argsort(order)]


def _count_by_stable_sort(values: torch.Tensor,
                          pos_i: torch.Tensor) -> torch.Tensor:
    """Items before each positive: its position in a stable row sort."""
    order = values.sort(dim=1, stable=True).indices
    position = torch.empty_like(order).scatter_(
        1, order, torch.arange(values.shape[1]).expand_as(order).contiguous())
    return position.gather(1, pos_i.clamp(max=values.shape[1] - 1))


def _count_before_unique(keys: torch.Tensor, pos_keys: torch.Tensor,
                         pos_cnt: np.ndarray) -> torch.Tensor:
    """Items before each positive, for unique int64 sort keys."""
    num_rows = len(pos_cnt)
    last = pos_keys[torch.arange(num_rows), torch.from_numpy(pos_cnt - 1)]
    head = keys < last[:, None]
    num_head = head.sum(dim=1)
    # Usually the last positive is near the top: sorting the few items
    # before it gives the position of every positive. Rows with a long head
    # and few positives take one counting pass per positive instead.
    sort_cost = num_head * torch.log2(num_head + 2.0) * _SORT_COST
    short = sort_cost <= torch.from_numpy(pos_cnt) * keys.shape[1]
    before = torch.empty(pos_keys.shape, dtype=torch.int64)
    if short.any():
        sel = short.nonzero()[:, 0]
        rows, cols = torch.nonzero(head[sel], as_tuple=True)
        counts = num_head[sel]
        slot = torch.arange(len(rows)) - (counts.cumsum(0) - counts)[rows]
        heads = torch.full((len(sel), int(counts.max()) + 1),
                           torch.iinfo(torch.int64).max)
        heads[rows, slot] = keys[sel[rows], cols]
        before[sel] = torch.searchsorted(
            heads.sort(dim=1).values, pos_keys[sel])
    if not short.all():
        sel = (~short).nonzero()[:, 0]
        before[sel] = _count_per_positive(keys[sel], pos_keys[sel], None,
                                          pos_cnt[sel.numpy()])
    return before


def _chunk_ranks(dist: torch.Tensor, pos_g: np.ndarray, pos_cnt: np.ndarray,
                 junk_g: np.ndarray, junk_cnt: np.ndarray) -> torch.Tensor:
    """1-based ranks of the positives among the valid gallery items.

    Args:
        dist (torch.Tensor): Distances of the chunk's queries (C, G); not
            modified.
        pos_g (np.ndarray): Gallery indices of the positives, grouped by
            row in ascending gallery order.
        pos_cnt (np.ndarray): Number of positives per row (C, ), > 0.
        junk_g (np.ndarray): Gallery indices of the junk items, grouped.
        junk_cnt (np.ndarray): Number of junk items per row (C, ).

    Returns:
        torch.Tensor: int64 ranks (C, max(pos_cnt)), ascending per row;
        entries past a row's count are meaningless.
    """
    # A sum is a cheap read-only pass; only a non-finite one needs a look.
    if not torch.isfinite(dist.sum()) and torch.isnan(dist).any():
        raise ValueError('The distance matrix contains NaN')
    num_rows, num_g = dist.shape
    unique_keys = dist.dtype in (torch.float16, torch.bfloat16, torch.float32)
    if unique_keys:
        values, fill = _sort_keys(dist.float().contiguous()), torch.iinfo(
            torch.int64).max
    else:
        # NaN compares false and sorts last: junk never comes before.
        values, fill = dist.to(torch.float64, copy=True), float('inf')
    local = torch.from_numpy(np.repeat(np.arange(num_rows), pos_cnt))
    slot = torch.from_numpy(
        np.arange(len(pos_g)) - np.repeat(np.cumsum(pos_cnt) - pos_cnt,
                                          pos_cnt))
    shape = (num_rows, int(pos_cnt.max()))
    pos_v = torch.full(shape, fill, dtype=values.dtype)
    pos_v[local, slot] = values[local, torch.from_numpy(pos_g)]
    pos_i = torch.full(shape, num_g, dtype=torch.int64)
    pos_i[local, slot] = torch.from_numpy(pos_g)
    # Stable sort by value keeps ascending gallery order inside ties.
    pos_v, perm = torch.sort(pos_v, dim=1, stable=True)
    pos_i = pos_i.gather(1, perm)

    # Junk is pushed behind everything (our own copy of the values).
    junk_rows = torch.from_numpy(np.repeat(np.arange(num_rows), junk_cnt))
    values[junk_rows, torch.from_numpy(junk_g)] = (
        fill if unique_keys else float('nan'))
    if unique_keys:
        before = _count_before_unique(values, pos_v, pos_cnt)
    elif pos_cnt.mean() * 2 > _SORT_COST * np.log2(num_g + 2):
        before = _count_by_stable_sort(values, pos_i)
    else:
        before = _count_per_positive(values, pos_v, pos_i, pos_cnt)
    return before + 1


def _positive_ranks(get_rows: RowsFn, q_pids: np.ndarray,
                    g_pids: np.ndarray, q_camids: np.ndarray,
                    g_camids: np.ndarray, chunk_size: int
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks of every positive of every query that has one.

    Returns:
        tuple[np.ndarray]: indices of the valid queries (ascending), their
        positive counts, and ranks (num_valid, max_count) int64, ascending
        per row and padded with the row's last rank.
    """
    counts, g_idx, q_idx, junk = match_pairs(q_pids, g_pids, q_camids,
                                             g_camids)
    num_q = len(q_pids)
    pos_cnt = np.bincount(q_idx[~junk], minlength=num_q)
    junk_cnt = counts - pos_cnt
    # Pairs stay grouped by query; split them into positives and junk.
    pos_g, junk_g = g_idx[~junk], g_idx[junk]
    pos_ptr = np.concatenate([[0], np.cumsum(pos_cnt)])
    junk_ptr = np.concatenate([[0], np.cumsum(junk_cnt)])

    valid = np.flatnonzero(pos_cnt > 0)
    width = int(pos_cnt.max(initial=0))
    ranks = np.zeros((num_q, max(width, 1)), dtype=np.int64)

    def rank_rows(rows: np.ndarray, dist: torch.Tensor) -> None:
        keep = pos_cnt[rows] > 0
        if not keep.any():
            return
        if not keep.all():
            rows, dist = rows[keep], dist[torch.from_numpy(keep)]
        r = _chunk_ranks(dist, pos_g[_ranges(pos_ptr[rows], pos_cnt[rows])],
                         pos_cnt[rows],
                         junk_g[_ranges(junk_ptr[rows], junk_cnt[rows])],
                         junk_cnt[rows]).numpy()
        ranks[rows, :r.shape[1]] = r

    # Distances come in blocks big enough for an efficient matmul; ranking
    # runs on sub-blocks of ~2 MB of int64 keys, which stay in cache, spread
    # over one Python thread per core (torch ops release the GIL).
    sub_size = min(chunk_size, max(1, (1 << 18) // max(len(g_pids), 1)))
    with _one_thread() as num_threads, ThreadPoolExecutor(
            num_threads) as pool:
        for start in range(0, num_q, chunk_size):
            # The GEMM (numpy BLAS) keeps its own threads.
            block = get_rows(slice(start, min(start + chunk_size, num_q)))
            stop = start + len(block)
            jobs = [
                pool.submit(rank_rows,
                            np.arange(sub, min(sub + sub_size, stop)),
                            block[sub - start:sub - start + sub_size])
                for sub in range(start, stop, sub_size)
            ]
            for job in jobs:
                job.result()
    ranks, pos_cnt = ranks[valid], pos_cnt[valid]
    # Pad with the last rank so mINP can read the final column.
    last = ranks[np.arange(len(valid)), pos_cnt - 1]
    pad = np.arange(ranks.shape[1]) >= pos_cnt[:, None]
    ranks[pad] = np.broadcast_to(last[:, None], ranks.shape)[pad]
    return valid, pos_cnt, ranks


def metrics_from_ranks(ranks: np.ndarray, pos_cnt: np.ndarray,
                       max_rank: int, ap_mode: str) -> Dict:
    """mAP, CMC and mINP from the 1-based ranks of the positives.

    Per-query sums run left to right (``cumsum``), like a per-query loop
    over the ranked list, so results match such a loop bit for bit.

    Args:
        ranks (np.ndarray): (num_valid, width) ascending ranks, padded.
        pos_cnt (np.ndarray): Number of positives per query.
        max_rank (int): Length of the CMC curve.
        ap_mode (str): ``'standard'`` or ``'trapezoid'``.

    Returns:
        dict: ``mAP``, ``cmc``, ``mINP``, ``num_valid_queries`` and the
        per-query ``AP`` array.
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
        old_precision = np.where(ranks > 1, (hits - 1) / np.maximum(
            ranks - 1, 1), 1.0)
        terms = np.where(is_hit,
                         recall_step * ((old_precision + precision) / 2), 0.0)
        ap = np.cumsum(terms, axis=1)[:, -1]
    num_valid = len(pos_cnt)
    first = np.minimum(ranks[:, 0], max_rank + 1)
    cmc = np.cumsum(np.bincount(first, minlength=max_rank + 2)[1:max_rank + 1])
    inp = pos_cnt / ranks[:, -1]
    return dict(
        mAP=float(np.mean(ap)),
        cmc=cmc / num_valid,
        mINP=float(np.mean(inp)),
        num_valid_queries=num_valid,
        AP=ap)


def _evaluate(get_rows: RowsFn, num_g: int, q_pids, g_pids, q_camids,
              g_camids, max_rank: int, ap_mode: str,
              chunk_size: Optional[int]) -> Dict:
    """Shared checks and driver of the two public entry points."""
    if ap_mode not in AP_MODES:
        raise ValueError(f'`ap_mode` must be one of {AP_MODES}, got '
                         f'{ap_mode!r}')
    if max_rank < 1:
        raise ValueError(f'`max_rank` must be >= 1, got {max_rank}')
    num_q = len(q_pids)
    q_pids = _as_1d(q_pids, 'q_pids', num_q)
    q_camids = _as_1d(q_camids, 'q_camids', num_q)
    g_pids = _as_1d(g_pids, 'g_pids', num_g)
    g_camids = _as_1d(g_camids, 'g_camids', num_g)
    if chunk_size is None:
        chunk_size = default_chunk_size(num_g)
    if chunk_size < 1:
        raise ValueError(f'`chunk_size` must be >= 1, got {chunk_size}')
    valid, pos_cnt, ranks = _positive_ranks(get_rows, q_pids, g_pids,
                                            q_camids, g_camids, chunk_size)
    num_skipped = num_q - len(valid)
    if len(valid) == 0:
        raise ValueError(f'None of the {num_q} queries has a valid gallery '
                         'match (same pid, different camera)')
    if num_skipped:
        warnings.warn(f'{num_skipped} of {num_q} queries have no valid '
                      'gallery match (same pid, different camera) and are '
                      'skipped')
    results = metrics_from_ranks(ranks, pos_cnt, max_rank, ap_mode)
    results['num_skipped_queries'] = num_skipped
    results['valid_query_indices'] = valid
    return results


def evaluate_rank(distmat: ArrayLike,
                  q_pids: ArrayLike,
                  g_pids: ArrayLike,
                  q_camids: ArrayLike,
                  g_camids: ArrayLike,
                  max_rank: int = 20,
                  ap_mode: str = 'standard',
                  chunk_size: Optional[int] = None) -> Dict:
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

    Returns:
        dict: ``mAP`` (float in [0, 1]), ``cmc`` (np.ndarray of length
        ``max_rank``, fractions), ``mINP`` (float), ``num_valid_queries``,
        ``num_skipped_queries``, per-query ``AP`` and
        ``valid_query_indices`` (the queries ``AP`` refers to).

    Examples:
        >>> distmat = np.array([[0.1, 0.2, 0.3]], dtype=np.float32)
        >>> res = evaluate_rank(distmat, [1], [2, 1, 1], [0], [1, 1, 1], 3)
        >>> round(res['mAP'], 4), res['cmc'].tolist()
        (0.5833, [0.0, 1.0, 1.0])
    """
    dist = to_tensor(distmat, 'distmat')
    if dist.dim() != 2:
        raise ValueError(f'`distmat` must have shape (Q, G), got '
                         f'{tuple(dist.shape)}')
    if dist.shape[0] != len(q_pids):
        raise ValueError(f'`distmat` has {dist.shape[0]} rows but there are '
                         f'{len(q_pids)} query pids')
    return _evaluate(lambda rows: dist[rows], dist.shape[1],
                     q_pids, g_pids, q_camids, g_camids, max_rank, ap_mode,
                     chunk_size)


def evaluate_rank_by_features(query_feats: ArrayLike,
                              gallery_feats: ArrayLike,
                              q_pids: ArrayLike,
                              g_pids: ArrayLike,
                              q_camids: ArrayLike,
                              g_camids: ArrayLike,
                              metric: str = 'cosine',
                              max_rank: int = 20,
                              ap_mode: str = 'standard',
                              chunk_size: Optional[int] = None) -> Dict:
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

    Returns:
        dict: Same keys as :func:`evaluate_rank`.
    """
    q, q_sq = prepare_features(query_feats, metric, 'query_feats')
    g, g_sq = prepare_features(gallery_feats, metric, 'gallery_feats')
    if q.shape[1] != g.shape[1]:
        raise ValueError(f'Query and gallery feature dims differ: '
                         f'{q.shape[1]} vs {g.shape[1]}')
    if len(q) != len(q_pids):
        raise ValueError(f'{len(q)} query features but {len(q_pids)} query '
                         'pids')

    def get_rows(rows: slice) -> torch.Tensor:
        return distance_rows(q[rows], q_sq[rows], g, g_sq, metric)

    return _evaluate(get_rows, len(g), q_pids, g_pids, q_camids, g_camids,
                     max_rank, ap_mode, chunk_size)


def rank_gallery(distmat: ArrayLike,
                 topk: int,
                 q_pids: ArrayLike,
                 g_pids: ArrayLike,
                 q_camids: ArrayLike,
                 g_camids: ArrayLike,
                 chunk_size: int = 256) -> Tuple[np.ndarray, np.ndarray]:
    """Top-k ranked gallery lists with junk removed, ties in gallery order.

    Args:
        distmat (np.ndarray | torch.Tensor): Distances (Q, G), compared as
            float32.
        topk (int): Length of each list.
        q_pids, g_pids, q_camids, g_camids (array-like): Labels; gallery
            items with the query's pid and camera are left out.
        chunk_size (int): Queries per chunk. Defaults to 256.

    Returns:
        tuple[np.ndarray, np.ndarray]: Gallery indices (Q, k) int64 and
        their distances (Q, k) float32, ``k = min(topk, G)``; a list with
        fewer than k valid items is padded with index -1 and distance inf.
    """
    dist = to_tensor(distmat, 'distmat').float()
    num_q, num_g = dist.shape
    _, g_idx, q_idx, junk = match_pairs(
        _as_1d(q_pids, 'q_pids', num_q), _as_1d(g_pids, 'g_pids', num_g),
        _as_1d(q_camids, 'q_camids', num_q),
        _as_1d(g_camids, 'g_camids', num_g))
    k = min(topk, num_g)
    indices = torch.empty(num_q, k, dtype=torch.int64)
    junk_q, junk_g = torch.from_numpy(q_idx[junk]), torch.from_numpy(
        g_idx[junk])
    fill = torch.iinfo(torch.int64).max
    for start in range(0, num_q, chunk_size):
        stop = min(start + chunk_size, num_q)
        keys = _sort_keys(dist[start:stop].contiguous())
        sel = (junk_q >= start) & (junk_q < stop)
        keys[junk_q[sel] - start, junk_g[sel]] = fill
        top_keys, top = keys.topk(k, dim=1, largest=False, sorted=True)
        indices[start:stop] = top.masked_fill_(top_keys == fill, -1)
    dists = dist.gather(1, indices.clamp(min=0))
    dists[indices < 0] = float('inf')
    return indices.numpy(), dists.numpy()

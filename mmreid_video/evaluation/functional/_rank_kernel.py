# Copyright (c) mmreid_video contributors. All rights reserved.
"""The counting kernel behind :mod:`.rank`: ranks of positives, no sort.

AP, CMC and mINP only need the rank of each positive among the valid items,
i.e. how many valid items come before it, so rows are never fully sorted.
float32 distances become unique int64 keys ``(order-preserving float bits
<< 31) | gallery index``, so one ``<`` compares by distance and then by
gallery order; junk gets the largest key. Per query, the items before the
last positive are counted in one pass; when they are few (the usual case
for a trained model), sorting just them places every positive, otherwise
one counting pass per positive does (about nine per MARS query). Other
dtypes are compared as they are, with the same tie rule.

On CPU, work runs on cache-sized sub-blocks of queries, one Python thread
per core; on another device (or an explicitly named one) each block of
distances is ranked where it is, in one piece. Both give the same ranks.
"""
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .distance import ArrayLike, DeviceLike

# Measured cost of sorting, per element and halving step, in units of one
# element of a counting pass: the two strategies below are chosen per row.
_SORT_COST = 14
# int64 keys per CPU ranking sub-block (2 MB, stays in cache).
_SUB_BLOCK_KEYS = 1 << 18
RowsFn = Callable[[slice], torch.Tensor]


@contextmanager
def one_thread() -> Iterator[int]:
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


def ranking_device(device: Optional[DeviceLike],
                   *arrays: object) -> Optional[torch.device]:
    """The device to rank on; None selects the CPU path.

    Args:
        device (str | torch.device, optional): An explicit device (also
            ``'cpu'``, which runs the device path on the CPU).
        *arrays: Inputs; the first tensor on a non-CPU device decides when
            ``device`` is None.

    Returns:
        torch.device | None: The device, or None for the CPU path.
    """
    if device is not None:
        return torch.device(device)
    for x in arrays:
        if isinstance(x, torch.Tensor) and x.device.type != 'cpu':
            return x.device
    return None


def as_labels(x: Union[ArrayLike, Sequence], name: str,
              size: int) -> np.ndarray:
    """Check a per-item label array (pids or camids) and return it.

    Args:
        x (array-like): The labels.
        name (str): Name used in error messages.
        size (int): Expected length.

    Returns:
        np.ndarray: The labels as a 1-D numpy array.
    """
    arr = x.cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.shape != (size, ):
        raise ValueError(f'`{name}` must have shape ({size},), got '
                         f'{arr.shape}')
    if arr.dtype.kind in 'fc' and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ValueError(f'`{name}` has {len(bad)} NaN/inf entries (first '
                         f'at index {bad[0]}); ids must be finite')
    return arr


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
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
    g_idx = order[ranges(lo, counts)]
    q_idx = np.repeat(np.arange(len(q_pids)), counts)
    return counts, g_idx, q_idx, g_camids[g_idx] == q_camids[q_idx]


def sort_keys(dist: torch.Tensor) -> torch.Tensor:
    """Unique int64 keys ordered by (float32 distance, gallery index).

    Args:
        dist (torch.Tensor): float32 distances (C, G), contiguous.

    Returns:
        torch.Tensor: int64 keys (C, G) on the same device.
    """
    bits = dist.view(torch.int32)
    index = torch.arange(dist.shape[1], dtype=torch.int64, device=dist.device)
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
    device = values.device
    # Rows by descending count: the rows with a k-th positive are a prefix,
    # so no pass is spent on padding.
    order_np = np.argsort(-pos_cnt, kind='stable')
    order = torch.from_numpy(order_np).to(device)
    values, pos_v, cnt = values[order], pos_v[order], pos_cnt[order_np]
    before = torch.zeros(pos_v.shape, dtype=torch.int64, device=device)
    col = torch.arange(values.shape[1], device=device)
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
    arange = torch.arange(values.shape[1], device=values.device)
    position = torch.empty_like(order).scatter_(
        1, order, arange.expand_as(order).contiguous())
    return position.gather(1, pos_i.clamp(max=values.shape[1] - 1))


def _count_before_unique(keys: torch.Tensor, pos_keys: torch.Tensor,
                         pos_cnt: np.ndarray) -> torch.Tensor:
    """Items before each positive, for unique int64 sort keys."""
    device = keys.device
    num_rows = len(pos_cnt)
    cnt = torch.from_numpy(pos_cnt).to(device)
    last = pos_keys[torch.arange(num_rows, device=device), cnt - 1]
    head = keys < last[:, None]
    num_head = head.sum(dim=1)
    # Usually the last positive is near the top: sorting the few items
    # before it gives the position of every positive. Rows with a long head
    # and few positives take one counting pass per positive instead.
    sort_cost = num_head * torch.log2(num_head + 2.0) * _SORT_COST
    short = sort_cost <= cnt * keys.shape[1]
    before = torch.empty(pos_keys.shape, dtype=torch.int64, device=device)
    if short.any():
        sel = short.nonzero()[:, 0]
        rows, cols = torch.nonzero(head[sel], as_tuple=True)
        counts = num_head[sel]
        slot = torch.arange(len(rows), device=device) - (counts.cumsum(0) -
                                                         counts)[rows]
        heads = torch.full((len(sel), int(counts.max()) + 1),
                           torch.iinfo(torch.int64).max,
                           device=device)
        heads[rows, slot] = keys[sel[rows], cols]
        before[sel] = torch.searchsorted(
            heads.sort(dim=1).values, pos_keys[sel])
    if not short.all():
        sel = (~short).nonzero()[:, 0]
        before[sel] = _count_per_positive(keys[sel], pos_keys[sel], None,
                                          pos_cnt[sel.cpu().numpy()])
    return before


def _chunk_ranks(dist: torch.Tensor, pos_g: np.ndarray, pos_cnt: np.ndarray,
                 junk_g: np.ndarray, junk_cnt: np.ndarray) -> torch.Tensor:
    """1-based ranks of the positives of a block of queries.

    Args:
        dist (torch.Tensor): Distances (C, G), on any device.
        pos_g (np.ndarray): Gallery indices of the positives, grouped by
            row, ascending gallery order.
        pos_cnt (np.ndarray): Number of positives per row (C, ), > 0.
        junk_g (np.ndarray): Gallery indices of the junk items, grouped.
        junk_cnt (np.ndarray): Number of junk items per row (C, ).

    Returns:
        torch.Tensor: int64 ranks (C, max(pos_cnt)) on ``dist``'s device,
        ascending per row; entries past a row's count are meaningless.
    """
    device = dist.device

    def on_device(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).to(device)

    # A sum is a cheap read-only pass; only a non-finite one needs a look.
    if not torch.isfinite(dist.sum()) and torch.isnan(dist).any():
        raise ValueError('The distance matrix contains NaN')
    num_rows, num_g = dist.shape
    unique_keys = dist.dtype in (torch.float16, torch.bfloat16, torch.float32)
    if unique_keys:
        values, fill = sort_keys(dist.float().contiguous()), torch.iinfo(
            torch.int64).max
    else:
        # NaN compares false and sorts last: junk never comes before.
        values, fill = dist.to(torch.float64, copy=True), float('inf')
    local = on_device(np.repeat(np.arange(num_rows), pos_cnt))
    slot = on_device(
        np.arange(len(pos_g)) - np.repeat(np.cumsum(pos_cnt) - pos_cnt,
                                          pos_cnt))
    pos_g_t = on_device(pos_g)
    shape = (num_rows, int(pos_cnt.max()))
    pos_v = torch.full(shape, fill, dtype=values.dtype, device=device)
    pos_v[local, slot] = values[local, pos_g_t]
    pos_i = torch.full(shape, num_g, dtype=torch.int64, device=device)
    pos_i[local, slot] = pos_g_t
    # Stable sort by value keeps ascending gallery order inside ties.
    pos_v, perm = torch.sort(pos_v, dim=1, stable=True)
    pos_i = pos_i.gather(1, perm)

    # Junk is pushed behind everything (our own copy of the values).
    junk_rows = on_device(np.repeat(np.arange(num_rows), junk_cnt))
    values[junk_rows, on_device(junk_g)] = (
        fill if unique_keys else float('nan'))
    if unique_keys:
        before = _count_before_unique(values, pos_v, pos_cnt)
    elif pos_cnt.mean() * 2 > _SORT_COST * np.log2(num_g + 2):
        before = _count_by_stable_sort(values, pos_i)
    else:
        before = _count_per_positive(values, pos_v, pos_i, pos_cnt)
    return before + 1


def positive_ranks(get_rows: RowsFn,
                   q_pids: np.ndarray,
                   g_pids: np.ndarray,
                   q_camids: np.ndarray,
                   g_camids: np.ndarray,
                   chunk_size: int,
                   on_device: bool = False
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks of every positive of every query that has one.

    Args:
        get_rows (Callable[[slice], torch.Tensor]): Distances of a slice of
            queries against the whole gallery.
        q_pids, g_pids, q_camids, g_camids (np.ndarray): Labels.
        chunk_size (int): Queries per ``get_rows`` call.
        on_device (bool): Rank each block where ``get_rows`` puts it, in
            one piece, instead of in cache-sized CPU sub-blocks on one
            Python thread per core. Defaults to False.

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
            rows = rows[keep]
            dist = dist[torch.from_numpy(keep).to(dist.device)]
        r = _chunk_ranks(dist, pos_g[ranges(pos_ptr[rows], pos_cnt[rows])],
                         pos_cnt[rows],
                         junk_g[ranges(junk_ptr[rows], junk_cnt[rows])],
                         junk_cnt[rows]).cpu().numpy()
        ranks[rows, :r.shape[1]] = r

    blocks = ((start, get_rows(slice(start, min(start + chunk_size, num_q))))
              for start in range(0, num_q, chunk_size))
    if on_device:
        for start, block in blocks:
            rank_rows(np.arange(start, start + len(block)), block)
    else:
        # Distances come in blocks big enough for an efficient matmul
        # (numpy's BLAS keeps its own threads); ranking runs on sub-blocks
        # that stay in cache (torch ops release the GIL).
        sub_size = min(chunk_size,
                       max(1, _SUB_BLOCK_KEYS // max(len(g_pids), 1)))
        with one_thread() as num_threads, ThreadPoolExecutor(
                num_threads) as pool:
            for start, block in blocks:
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

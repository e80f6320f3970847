# Copyright (c) mmreid_video contributors. All rights reserved.
"""The counting kernel behind :mod:`.rank`: ranks of positives, no sort.

AP, CMC and mINP only need the rank of each positive among the valid items,
i.e. how many valid items come before it, so rows are never fully sorted.
Unique int64 keys ``(order-preserving float32 bits << 31) | gallery index``
order items by distance and then by gallery order. Per query, one float
comparison finds the items up to the last positive (the head), junk left
out; when they are few (the usual case for a trained model), sorting the
keys of just them places every positive, otherwise one counting pass per
positive over the row's keys does (about nine per MARS query). Other dtypes
are compared as they are, with the same tie rule.

On CPU, work runs on sub-blocks of queries, one Python thread
per core; on another device (or an explicitly named one) each block of
distances is ranked where it is, in one piece. Both give the same ranks.
"""
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch

from ._rank_utils import match_pairs, one_thread, ranges

# Measured cost of sorting, per element and halving step, in units of one
# element of a counting pass: the two strategies below are chosen per row.
_SORT_COST = 14
# Distances per CPU ranking sub-block (4 MB float32): measured faster than
# cache-sized 2**18 (fewer per-block ops), still many blocks per thread.
_SUB_BLOCK_SIZE = 1 << 20
RowsFn = Callable[[slice], torch.Tensor]


def sort_keys(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Unique int64 keys ordered by (float32 value, gallery index).

    Args:
        values (torch.Tensor): float32 values, contiguous, any shape.
        index (torch.Tensor): int64 gallery index of each value,
            broadcastable to ``values`` (e.g. ``arange(G)`` for rows).

    Returns:
        torch.Tensor: int64 keys of the shape of ``values``, same device.
    """
    bits = values.view(torch.int32)
    # Bits of non-negative floats are ordered like the floats.
    keys = bits.long().mul_(1 << 31).bitwise_or_(index)
    negative = bits < 0
    if negative.any():
        # Negative floats order reversed in two's complement: flip the
        # magnitude bits; the +1 maps -0.0 onto +0.0 so they tie as floats.
        mono = torch.bitwise_xor(bits[negative], 0x7FFFFFFF).add_(1)
        keys[negative] = mono.long().mul_(1 << 31).bitwise_or_(
            index.expand_as(values)[negative])
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


def _head_entries(dist: torch.Tensor, bound: torch.Tensor,
                  junk_rows: torch.Tensor, junk_g: torch.Tensor,
                  in_numpy: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """(row, column) of the non-junk items with ``dist <= bound``, by row.

    The CPU path runs this in numpy (``in_numpy``), whose comparison and
    nonzero scan (on 8-byte words, most of which are zero) were each ~5x
    faster than torch's on one thread; the device path in torch.
    """
    if not in_numpy:
        head = dist <= bound[:, None]
        head[junk_rows, junk_g] = False
        return torch.nonzero(head, as_tuple=True)
    num_rows, num_g = dist.shape
    size = num_rows * num_g
    buf = np.empty(-(-size // 8) * 8, dtype=bool)
    buf[size:] = False
    head = buf[:size].reshape(num_rows, num_g)
    np.less_equal(dist.numpy(), bound.numpy()[:, None], out=head)
    head[junk_rows.numpy(), junk_g.numpy()] = False
    words = np.flatnonzero(buf.view(np.uint64))
    offsets = np.flatnonzero(buf.view(np.uint8).reshape(-1, 8)[words])
    flat = torch.from_numpy(words[offsets // 8] * 8 + offsets % 8)
    return flat // num_g, flat % num_g


def _count_before_float(dist: torch.Tensor, pos_keys: torch.Tensor,
                        pos_cnt: np.ndarray, junk_rows: torch.Tensor,
                        junk_g: torch.Tensor, in_numpy: bool) -> torch.Tensor:
    """Items before each positive, for float32 distances.

    Only the items up to the last positive (the head) can come before a
    positive; they are found by one float comparison, without building
    keys for the whole block.
    """
    device = dist.device
    num_rows, num_g = dist.shape
    fill = torch.iinfo(torch.int64).max
    cnt = torch.from_numpy(pos_cnt).to(device)
    last = pos_keys[torch.arange(num_rows, device=device), cnt - 1]
    # Items tied with the last positive but after it in gallery order sort
    # after every positive, so ``<=`` may include them.
    bound = dist.gather(1, (last & ((1 << 31) - 1))[:, None])[:, 0]
    rows, cols = _head_entries(dist, bound, junk_rows, junk_g, in_numpy)
    num_head = torch.bincount(rows, minlength=num_rows)
    # Usually the last positive is near the top: sorting the few items
    # before it gives the position of every positive. Rows with a long head
    # and few positives take one counting pass per positive instead.
    sort_cost = num_head * torch.log2(num_head + 2.0) * _SORT_COST
    short = sort_cost <= cnt * num_g
    before = torch.empty(pos_keys.shape, dtype=torch.int64, device=device)
    if short.any():
        sel = short.nonzero()[:, 0]
        if len(sel) < num_rows:
            keep = short[rows]
            row_in_sel = torch.cumsum(short, 0) - 1
            rows, cols = row_in_sel[rows[keep]], cols[keep]
        counts = num_head[sel]
        slot = torch.arange(len(rows), device=device) - (counts.cumsum(0) -
                                                         counts)[rows]
        heads = torch.full((len(sel), int(counts.max()) + 1),
                           fill,
                           device=device)
        heads[rows, slot] = sort_keys(dist[sel[rows], cols].contiguous(),
                                      cols)
        before[sel] = torch.searchsorted(
            heads.sort(dim=1).values, pos_keys[sel])
    if not short.all():
        sel = (~short).nonzero()[:, 0]
        keys = sort_keys(dist[sel].contiguous(),
                         torch.arange(num_g, device=device))
        # Junk is pushed behind everything.
        row_in_sel = torch.full((num_rows, ), -1, device=device)
        row_in_sel[sel] = torch.arange(len(sel), device=device)
        junk_sel = row_in_sel[junk_rows]
        keep = junk_sel >= 0
        keys[junk_sel[keep], junk_g[keep]] = fill
        before[sel] = _count_per_positive(keys, pos_keys[sel], None,
                                          pos_cnt[sel.cpu().numpy()])
    return before


def _chunk_ranks(dist: torch.Tensor, pos_g: np.ndarray, pos_cnt: np.ndarray,
                 junk_g: np.ndarray, junk_cnt: np.ndarray,
                 on_device: bool) -> torch.Tensor:
    """1-based ranks of the positives of a block of queries.

    Args:
        dist (torch.Tensor): Distances (C, G), on any device.
        pos_g (np.ndarray): Gallery indices of the positives, grouped by
            row, ascending gallery order.
        pos_cnt (np.ndarray): Number of positives per row (C, ), > 0.
        junk_g (np.ndarray): Gallery indices of the junk items, grouped.
        junk_cnt (np.ndarray): Number of junk items per row (C, ).
        on_device (bool): Only torch ops (the device path), also on CPU.

    Returns:
        torch.Tensor: int64 ranks (C, max(pos_cnt)) on ``dist``'s device,
        ascending per row; entries past a row's count are meaningless.
    """
    device = dist.device

    def moved(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).to(device)

    # A sum is a cheap read-only pass; only a non-finite one needs a look.
    if not torch.isfinite(dist.sum()) and torch.isnan(dist).any():
        raise ValueError('The distance matrix contains NaN')
    num_rows, num_g = dist.shape
    local = moved(np.repeat(np.arange(num_rows), pos_cnt))
    slot = moved(
        np.arange(len(pos_g)) - np.repeat(np.cumsum(pos_cnt) - pos_cnt,
                                          pos_cnt))
    pos_g_t = moved(pos_g)
    junk_rows = moved(np.repeat(np.arange(num_rows), junk_cnt))
    junk_g_t = moved(junk_g)
    shape = (num_rows, int(pos_cnt.max()))
    if dist.dtype in (torch.float16, torch.bfloat16, torch.float32):
        dist = dist.float().contiguous()
        pos_keys = torch.full(
            shape, torch.iinfo(torch.int64).max, device=device)
        pos_keys[local, slot] = sort_keys(dist[local, pos_g_t], pos_g_t)
        pos_keys = pos_keys.sort(dim=1).values
        return _count_before_float(dist, pos_keys, pos_cnt, junk_rows,
                                   junk_g_t, not on_device) + 1
    # Other dtypes are compared as they are; NaN compares false and sorts
    # last, so junk set to NaN never comes before.
    values = dist.to(torch.float64, copy=True)
    pos_v = torch.full(shape, float('inf'), dtype=values.dtype, device=device)
    pos_v[local, slot] = values[local, pos_g_t]
    pos_i = torch.full(shape, num_g, dtype=torch.int64, device=device)
    pos_i[local, slot] = pos_g_t
    # Stable sort by value keeps ascending gallery order inside ties.
    pos_v, perm = torch.sort(pos_v, dim=1, stable=True)
    pos_i = pos_i.gather(1, perm)
    values[junk_rows, junk_g_t] = float('nan')
    if pos_cnt.mean() * 2 > _SORT_COST * np.log2(num_g + 2):
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
            one piece and with torch ops only, instead of in CPU sub-blocks
            on one Python thread per core. Defaults to False.

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
                         junk_cnt[rows], on_device).cpu().numpy()
        ranks[rows, :r.shape[1]] = r

    blocks = ((start, get_rows(slice(start, min(start + chunk_size, num_q))))
              for start in range(0, num_q, chunk_size))
    if on_device:
        for start, block in blocks:
            rank_rows(np.arange(start, start + len(block)), block)
    else:
        # Distances come in blocks big enough for an efficient matmul
        # (numpy's BLAS keeps its own threads); ranking runs on sub-blocks
        # in parallel (numpy and torch ops release the GIL).
        sub_size = min(chunk_size,
                       max(1, _SUB_BLOCK_SIZE // max(len(g_pids), 1)))
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

# Copyright (c) mmreid_video contributors. All rights reserved.
"""The counting kernel behind :mod:`.rank`: ranks of positives.

AP, CMC and mINP only need the rank of each positive among the valid items,
i.e. how many valid items come before it (by distance, then by gallery
order), so no ranked list is built. Per row:

- One comparison with the distance of the row's last positive finds the
  *head*, the only items that can come before a positive. A trained
  model's heads are short (on MARS-like data at mAP 0.85 the median is
  0.2% of the gallery); they are gathered and sorted on their own. Rows
  whose head is long (a weak model) are sorted whole, a SIMD sort of floats
  in numpy that costs about as much as six counting passes. A cost
  estimate chooses per row.
- In the sorted values, binary search counts the items with a smaller
  value. A positive whose value another item shares (rare outside built
  cases) counts the tied items before it by gallery index in one pass over
  its row; a row with many such positives is ranked by a stable sort
  instead (unique ranks in (value, gallery index) order).
- Junk is counted the same way among the row's junk items and subtracted;
  the distances are only read.

float16, bfloat16 and float32 compare as float32, other dtypes as float64.
The CPU path works in numpy on sub-blocks of about 2**20 distances, one
Python thread per core; the device path (another device, or an explicitly
named one) sorts the rows of each block where it is, with torch. Both give
the same ranks.
"""
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, Tuple

import numpy as np
import torch

from ._rank_ops import Array, NumpyOps, Ops, TorchOps, padded, slots
from ._rank_utils import match_pairs, one_thread, ranges

# Distances per CPU ranking sub-block (4 MB float32): measured faster than
# cache-sized 2**18 (fewer per-block ops), no slower than 2**22.
_SUB_BLOCK_SIZE = 1 << 20
# Measured cost of gathering one head item, in elements of a row sort.
_GATHER_COST = 8
# Elements of the temporaries of one tie-breaking step.
_STEP_SIZE = 1 << 22
# Tied positives of a row above which a stable sort of the row is cheaper
# than one pass per tied positive (measured ~60x a pass).
_TIE_PASSES = 64
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


def _count_sorted(ops: Ops, ordered: Array, pos_v: Array,
                  pos_valid: Array) -> Tuple[Array, Array]:
    """Items of each row with a smaller value than each positive.

    Binary search in the sorted values; a positive whose value another item
    shares is flagged: there the gallery index decides (:func:`_add_ties`).

    Args:
        ops: :class:`NumpyOps` or :class:`TorchOps`.
        ordered: Per row, ascending, the values of every item that can
            come before a positive, the positives among them, padded with
            +inf (R, M).
        pos_v: Value of each positive (R, n).
        pos_valid: False for padding slots (R, n).

    Returns:
        tuple: int64 counts (R, n) and the tied positives (R, n) bool.
    """
    before = ops.searchsorted(ordered, pos_v)
    num_equal = ops.searchsorted(ordered, pos_v, right=True) - before
    return before, pos_valid & (num_equal > 1)


def _rank_counts(ops: Ops, values: Array, pos_i: Array,
                 junk_i: Optional[Array]) -> Array:
    """Valid items before each positive, for rows with many ties.

    A stable sort of a row gives each item a unique rank in (value, gallery
    index) order; a positive's rank counts the items before it, and the
    junk among them is found by binary search in the sorted junk ranks:
    O(G log G) per row, however many ties.

    Args:
        ops: :class:`NumpyOps` or :class:`TorchOps`.
        values: The rows' distances (T, G).
        pos_i: Gallery index of each positive (T, n), padding G.
        junk_i: Gallery index of each junk item (T, m), padding G, or
            None (no junk).

    Returns:
        int64 counts (T, n); padding slots are meaningless.
    """
    num_rows, num_g = values.shape
    before = ops.full(tuple(pos_i.shape), 0, pos_i.dtype)
    step = max(1, _STEP_SIZE // num_g)
    for start in range(0, num_rows, step):
        rows = slice(start, start + step)
        rank = ops.inverse_rows(ops.argsort_rows(values[rows]))
        pos_rank = ops.take_rows(rank, pos_i[rows].clip(max=num_g - 1))
        before[rows] = pos_rank
        if junk_i is not None:
            junk_rank = ops.take_rows(rank, junk_i[rows].clip(max=num_g - 1))
            junk_rank[junk_i[rows] == num_g] = num_g
            before[rows] -= ops.searchsorted(
                ops.sort_rows(junk_rank), pos_rank)
    return before


def _add_ties(ops: Ops, before: Array, tied: Array, values: Array,
              pos_v: Array, pos_i: Array, junk_v: Optional[Array],
              junk_i: Optional[Array]) -> None:
    """Add to ``before`` the valid items that tie with a positive and come
    first by gallery index.

    Each tied positive takes one pass over its row (and its junk); a row
    with more than ``_TIE_PASSES`` of them is ranked by
    :func:`_rank_counts` instead.

    Args:
        ops: :class:`NumpyOps` or :class:`TorchOps`.
        before (Array): Valid items with a smaller value (C, n); updated.
        tied (Array): The positives whose value another item shares (C, n).
        values: Distances (C, G).
        pos_v, pos_i: Value and gallery index of each positive (C, n).
        junk_v, junk_i: Value and gallery index of each junk item (C, m),
            padded with +inf and G, or None (no junk).
    """
    many = tied.sum(1) > _TIE_PASSES
    rows = ops.nonzero(many)[0]
    if len(rows):
        before[rows] = _rank_counts(ops, values[rows], pos_i[rows],
                                    None if junk_i is None else junk_i[rows])
    rows, slots = ops.nonzero(tied & ~many[:, None])
    columns = ops.asarray(np.arange(values.shape[1]))
    step = max(1, _STEP_SIZE // values.shape[1])
    for start in range(0, len(rows), step):
        r, k = rows[start:start + step], slots[start:start + step]
        value, index = pos_v[r, k, None], pos_i[r, k, None]
        before[r, k] += ((values[r] == value) & (columns < index)).sum(1)
        if junk_v is not None:
            before[r, k] -= ((junk_v[r] == value) & (junk_i[r] < index)).sum(1)


def _head_entries(
        values: np.ndarray,
        bound: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The head items of the rows whose head is short (CPU path).

    One comparison finds each row's head (``values <= bound``); the mask is
    then counted and scanned as 8-byte words (one row per whole number of
    words): passes over 1/8 of the elements, most of them zero.

    Args:
        values (np.ndarray): Distances (C, G).
        bound (np.ndarray): Distance of each row's last positive (C, ).

    Returns:
        tuple[np.ndarray]: ``short`` (C, ) bool, and the row and column of
        every head item of the short rows, grouped by row.
    """
    num_rows, num_g = values.shape
    row_words = -(-num_g // 8)
    mask = np.zeros((num_rows, row_words * 8), dtype=bool)
    np.less_equal(values, bound[:, None], out=mask[:, :num_g])
    # Bytes are 0 or 1: the top byte of w * 0x0101..01 is their sum.
    per_word = ((mask.view(np.uint64) * np.uint64(0x0101010101010101)) >>
                np.uint64(56))
    num_head = per_word.sum(axis=1, dtype=np.int64)
    short = num_head <= _short_width(num_head, num_g)
    per_word[~short] = 0
    words = np.flatnonzero(per_word)
    offsets = np.flatnonzero(mask.view(np.uint8).reshape(-1, 8)[words])
    index = words[offsets // 8] * 8 + offsets % 8
    return short, index // (row_words * 8), index % (row_words * 8)


def _short_width(num_head: np.ndarray, num_g: int) -> int:
    """Longest head that is gathered and sorted on its own.

    Short heads are gathered (``_GATHER_COST`` per item) and padded to the
    longest of them, the other rows are sorted whole; the width minimises
    the estimated cost (-1: sort every row whole).
    """
    lengths = np.sort(num_head)
    num_short = np.arange(1, len(lengths) + 1)
    cost = (
        _GATHER_COST * np.cumsum(lengths) + num_short * lengths +
        (len(lengths) - num_short) * num_g)
    best = int(np.argmin(cost))
    return int(lengths[best]) if cost[best] < len(lengths) * num_g else -1


def _count_before(ops: Ops, values: Array, pos_v: Array, pos_cnt: np.ndarray,
                  pos_valid: Array) -> Tuple[Array, Array]:
    """Items (junk included) with a smaller value than each positive.

    Args:
        ops: :class:`NumpyOps` (with the head shortcut) or
            :class:`TorchOps` (every row sorted whole).
        values: Distances (C, G).
        pos_v: Positives' values (C, n), ascending per row, padded with
            +inf.
        pos_cnt (np.ndarray): Positives per row (C, ), > 0.
        pos_valid: False for padding slots (C, n).

    Returns:
        tuple: int64 counts (C, n), padding slots meaningless, and the tied
        positives (C, n) bool (see :func:`_count_sorted`).
    """
    if isinstance(ops, TorchOps):
        return _count_sorted(ops, ops.sort_rows(values), pos_v, pos_valid)
    num_rows = len(values)
    short, rows, cols = _head_entries(values, pos_v[np.arange(num_rows),
                                                    pos_cnt - 1])
    before = np.empty(pos_v.shape, dtype=np.int64)
    tied = np.empty(pos_v.shape, dtype=bool)
    for sel in (np.flatnonzero(short), np.flatnonzero(~short)):
        if len(sel) == 0:
            continue
        if short[sel[0]]:
            head_rows, head_slot = slots(
                np.bincount(rows, minlength=num_rows)[sel])
            ordered = ops.sort_rows(
                padded(ops, head_rows, head_slot, values[rows, cols],
                       (len(sel), int(head_slot.max()) + 1), np.inf))
        else:
            ordered = ops.sort_rows(values[sel])
        # Every item that ties with a positive is in the head.
        before[sel], tied[sel] = _count_sorted(ops, ordered, pos_v[sel],
                                               pos_valid[sel])
    return before, tied


def _chunk_ranks(dist: torch.Tensor, pos_g: np.ndarray, pos_cnt: np.ndarray,
                 junk_g: np.ndarray, junk_cnt: np.ndarray,
                 on_device: bool) -> np.ndarray:
    """1-based ranks of the positives of a block of queries.

    Args:
        dist (torch.Tensor): Distances (C, G), on any device; not modified.
        pos_g (np.ndarray): Gallery indices of the positives, grouped by
            row, ascending gallery order.
        pos_cnt (np.ndarray): Number of positives per row (C, ), > 0.
        junk_g (np.ndarray): Gallery indices of the junk items, grouped
            likewise.
        junk_cnt (np.ndarray): Number of junk items per row (C, ).
        on_device (bool): Torch ops where ``dist`` is (the device path),
            also on CPU; otherwise numpy.

    Returns:
        np.ndarray: int64 ranks (C, max(pos_cnt)), ascending per row;
        entries past a row's count are meaningless.
    """
    # A sum is a cheap read-only pass; only a non-finite one needs a look.
    if not torch.isfinite(dist.sum()) and torch.isnan(dist).any():
        raise ValueError('The distance matrix contains NaN')
    if dist.dtype in (torch.float16, torch.bfloat16, torch.float32):
        values = dist.float().contiguous()
    else:
        values = dist.to(torch.float64).contiguous()
    if on_device:
        ops = TorchOps(dist.device)
    else:
        ops, values = NumpyOps, values.numpy()
    num_rows, num_g = values.shape
    rows, slot = (ops.asarray(a) for a in slots(pos_cnt))
    gallery = ops.asarray(pos_g)
    shape = (num_rows, int(pos_cnt.max()))
    pos_v = padded(ops, rows, slot, values[rows, gallery], shape, np.inf)
    pos_i = padded(ops, rows, slot, gallery, shape, num_g)
    # Positives come in gallery order: a stable sort by value orders them
    # by (value, gallery index), padding last.
    order = ops.argsort_rows(pos_v)
    pos_v, pos_i = ops.take_rows(pos_v, order), ops.take_rows(pos_i, order)
    pos_valid = ops.asarray(np.arange(shape[1]) < pos_cnt[:, None])
    before, tied = _count_before(ops, values, pos_v, pos_cnt, pos_valid)
    junk_v = junk_i = None
    if len(junk_g):
        # Junk is counted among the row's junk items and left out (a tie
        # with junk was flagged above: junk is among the row's items).
        rows, slot = (ops.asarray(a) for a in slots(junk_cnt))
        gallery = ops.asarray(junk_g)
        shape = (num_rows, int(junk_cnt.max()))
        junk_v = padded(ops, rows, slot, values[rows, gallery], shape, np.inf)
        junk_i = padded(ops, rows, slot, gallery, shape, num_g)
        before -= ops.searchsorted(ops.sort_rows(junk_v), pos_v)
    if tied.any():
        _add_ties(ops, before, tied, values, pos_v, pos_i, junk_v, junk_i)
    ranks = before + 1
    return ranks if isinstance(ranks, np.ndarray) else ranks.cpu().numpy()


def positive_ranks(
        get_rows: RowsFn,
        q_pids: np.ndarray,
        g_pids: np.ndarray,
        q_camids: np.ndarray,
        g_camids: np.ndarray,
        chunk_size: int,
        on_device: bool = False) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks of every positive of every query that has one.

    Args:
        get_rows (Callable[[slice], torch.Tensor]): Distances of a slice of
            queries against the whole gallery.
        q_pids, g_pids, q_camids, g_camids (np.ndarray): Labels.
        chunk_size (int): Queries per ``get_rows`` call.
        on_device (bool): Rank each block where ``get_rows`` puts it, in
            one piece and with torch ops, instead of in numpy on CPU
            sub-blocks on one Python thread per core. Defaults to False.

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
                         pos_cnt[rows], junk_g[ranges(junk_ptr[rows],
                                                      junk_cnt[rows])],
                         junk_cnt[rows], on_device)
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

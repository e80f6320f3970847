# Copyright (c) mmreid_video contributors. All rights reserved.
"""Helpers shared by the rank evaluation and re-ranking: query-gallery
pairs by pid, index ranges and the one-thread context of the CPU path
(labels are checked by :func:`mmreid_video.utils.arrays.as_labels`)."""
from contextlib import contextmanager
from typing import Iterator, Tuple

import numpy as np
import torch


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


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for each start and count."""
    offsets = np.arange(counts.sum()) - np.repeat(
        np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets


def match_pairs(
    q_pids: np.ndarray, g_pids: np.ndarray, q_camids: np.ndarray,
    g_camids: np.ndarray
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Rank-evaluation helpers shared by the evaluation tests: a per-query loop
reference and random (tie-heavy) cases."""
import numpy as np


def loop_reference(distmat,
                   q_pids,
                   g_pids,
                   q_camids,
                   g_camids,
                   max_rank,
                   ap_mode,
                   no_positive='skip'):
    """Per-query loop; trapezoid AP is a line-by-line port of the official
    MARS ``compute_AP.m`` (junk skipped with ``continue``). A query without
    a positive is skipped, or with ``no_positive='zero'`` counts AP 0, a
    miss at every rank and INP 0 (the LS-VID kit's ``compute_AP.m``)."""
    cmcs, aps, inps, num_valid = [], [], [], 0
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        good = set(
            np.flatnonzero((g_pids == q_pids[i])
                           & (g_camids != q_camids[i])))
        junk = set(
            np.flatnonzero((g_pids == q_pids[i])
                           & (g_camids == q_camids[i])))
        if not good:
            if no_positive == 'zero':
                aps.append(0.0)
                cmcs.append(np.zeros(max_rank, bool))
                inps.append(0.0)
            continue
        ngood, num_valid = len(good), num_valid + 1
        old_recall, old_precision, ap = 0.0, 1.0, 0.0
        intersect_size, j, hit_sum, first, last = 0, 0, 0.0, None, None
        for n in order:
            if n in junk:
                continue
            flag = n in good
            if flag:
                intersect_size += 1
                first = j + 1 if first is None else first
                last = j + 1
                hit_sum = hit_sum + intersect_size / (j + 1)
            recall = intersect_size / ngood
            precision = intersect_size / (j + 1)
            ap = ap + (recall - old_recall) * ((old_precision + precision) / 2)
            old_recall, old_precision = recall, precision
            j += 1
        aps.append(ap if ap_mode == 'trapezoid' else hit_sum / ngood)
        cmcs.append(np.arange(1, max_rank + 1) >= first)
        inps.append(ngood / last)
    return dict(
        mAP=float(np.mean(aps)),
        cmc=np.sum(cmcs, axis=0) / len(cmcs),
        mINP=float(np.mean(inps)),
        num_valid_queries=num_valid)


def random_case(seed, num_q=37, num_g=83, ties=True):
    rng = np.random.default_rng(seed)
    distmat = rng.random((num_q, num_g)).astype(np.float32) - 0.3
    if ties:
        distmat = np.round(distmat * 8) / 8
    return (distmat, rng.integers(0, 9, num_q), rng.integers(0, 9, num_g),
            rng.integers(0, 3, num_q), rng.integers(0, 3, num_g))

# Copyright (c) mmreid_video contributors. All rights reserved.
"""MARS-like random data and a straightforward per-query reference
evaluator, for ``benchmark_eval.py``."""
from typing import Dict, Tuple

import numpy as np


def mars_like_data(args) -> Tuple[np.ndarray, ...]:
    """Random features with MARS's test-set structure.

    Every id has one query per camera it appears in (2-6 cameras, 1,980
    queries for 625 ids) and gallery tracklets spread over those cameras;
    3,248 distractor tracklets have pid 0 and random cameras.
    """
    rng = np.random.default_rng(args.seed)
    num_ids = args.num_ids
    # Cameras per id: at least 2, the rest spread so queries add up.
    num_cams = np.full(num_ids, 2)
    while num_cams.sum() < args.num_query:
        i = rng.integers(num_ids)
        num_cams[i] = min(num_cams[i] + 1, args.num_cams)
    id_cams = [rng.choice(args.num_cams, n, replace=False) for n in num_cams]
    q_pids = np.repeat(np.arange(1, num_ids + 1), num_cams)
    q_cams = np.concatenate(id_cams)
    num_real = args.num_gallery - args.num_distractors
    owner = np.concatenate(
        [np.arange(num_ids),
         rng.integers(0, num_ids, num_real - num_ids)])
    g_cams = np.array([rng.choice(id_cams[o]) for o in owner])
    g_pids = np.concatenate([owner + 1, np.zeros(args.num_distractors, int)])
    g_cams = np.concatenate(
        [g_cams, rng.integers(0, args.num_cams, args.num_distractors)])
    perm = rng.permutation(args.num_gallery)
    g_pids, g_cams = g_pids[perm], g_cams[perm]
    centres = rng.standard_normal((num_ids + 1, args.dim), dtype=np.float32)
    centres *= np.float32(args.signal)

    def features(pids):
        out = np.empty((len(pids), args.dim), np.float32)
        for start in range(0, len(pids), 8192):  # bounded temporaries
            rows = slice(start, start + 8192)
            out[rows] = rng.standard_normal(out[rows].shape, np.float32)
            out[rows] += centres[pids[rows]]
        return out

    return (features(q_pids), features(g_pids), q_pids, g_pids, q_cams, g_cams)


def reference_distance(qf: np.ndarray, gf: np.ndarray) -> np.ndarray:
    """Cosine distance with plain numpy."""
    qf = qf / np.linalg.norm(qf, axis=1, keepdims=True)
    gf = gf / np.linalg.norm(gf, axis=1, keepdims=True)
    return 1 - qf @ gf.T


def reference_evaluate(distmat,
                       q_pids,
                       g_pids,
                       q_camids,
                       g_camids,
                       max_rank=20,
                       ap_mode='standard') -> Dict:
    """Straightforward per-query evaluation: sort, drop junk, accumulate."""
    all_cmc, all_ap, all_inp = [], [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        same_id = g_pids[order] == q_pids[i]
        keep = ~(same_id & (g_camids[order] == q_camids[i]))
        matches = same_id[keep].astype(np.int64)
        if not matches.any():
            continue
        hits = matches.cumsum()
        cmc = hits[:max_rank] >= 1
        all_cmc.append(np.pad(cmc, (0, max_rank - len(cmc)), mode='edge'))
        num_rel = hits[-1]
        precision = hits / np.arange(1, len(hits) + 1)
        if ap_mode == 'standard':
            ap = np.cumsum(precision * matches)[-1] / num_rel
        else:  # MARS compute_AP.m: trapezoids between list positions
            recall = hits / num_rel
            old_recall = np.concatenate([[0.0], recall[:-1]])
            old_precision = np.concatenate([[1.0], precision[:-1]])
            ap = np.cumsum(
                (recall - old_recall) * ((old_precision + precision) / 2))[-1]
        all_ap.append(ap)
        all_inp.append(num_rel / (np.flatnonzero(matches)[-1] + 1))
    return dict(
        mAP=float(np.mean(all_ap)),
        cmc=np.sum(all_cmc, axis=0) / len(all_cmc),
        mINP=float(np.mean(all_inp)),
        num_valid_queries=len(all_ap))


def same(a: Dict, b: Dict) -> bool:
    """Bit-for-bit equality of the reported numbers."""
    return (a['mAP'] == b['mAP'] and a['mINP'] == b['mINP']
            and np.array_equal(a['cmc'], b['cmc'])
            and a['num_valid_queries'] == b['num_valid_queries'])


def summary(res: Dict) -> Dict:
    return dict(
        mAP=res['mAP'],
        R1=float(res['cmc'][0]),
        R5=float(res['cmc'][4]),
        R10=float(res['cmc'][9]),
        R20=float(res['cmc'][19]),
        mINP=res['mINP'],
        num_valid_queries=int(res['num_valid_queries']))

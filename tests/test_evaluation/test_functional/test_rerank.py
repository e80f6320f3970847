# Copyright (c) mmreid_video contributors. All rights reserved.
import numpy as np
import pytest
import torch

import mmreid_video.evaluation.functional.rerank as rerank_module
from mmreid_video.evaluation.functional import (compute_distance,
                                                evaluate_rank,
                                                k_reciprocal_rerank)


def dense_rerank(qf, gf, k1, k2, lam, metric):
    """Loop-per-item dense re-ranking, step by step as in the paper."""
    feats = np.concatenate([qf, gf])
    num_q, num = len(qf), len(qf) + len(gf)
    dist = compute_distance(feats, feats, metric).astype(np.float64)
    dist = dist / dist.max(axis=1, keepdims=True)
    rank = np.argsort(dist, axis=1, kind='stable')

    def reciprocal(i, k):
        forward = rank[i, :k + 1]
        return [j for j in forward if i in rank[j, :k + 1]]

    vec = np.zeros((num, num))
    for i in range(num):
        recip = reciprocal(i, k1)
        expanded = set(recip)
        for cand in recip:
            cand_set = reciprocal(cand, int(np.around(k1 / 2)))
            if len(set(cand_set) & set(recip)) > 2 / 3 * len(cand_set):
                expanded |= set(cand_set)
        idx = sorted(expanded)
        weight = np.exp(-dist[i, idx])
        vec[i, idx] = weight / weight.sum()
    if k2 > 1:
        vec = np.stack([vec[rank[i, :k2]].mean(axis=0) for i in range(num)])
    jaccard = np.zeros((num_q, num - num_q))
    for i in range(num_q):
        for j in range(num_q, num):
            overlap = np.minimum(vec[i], vec[j]).sum()
            jaccard[i, j - num_q] = 1 - overlap / (2 - overlap)
    return jaccard * (1 - lam) + dist[:num_q, num_q:] * lam


@pytest.mark.parametrize('metric,k2,budget', [('cosine', 3, 1 << 20),
                                              ('euclidean', 1, 50)])
def test_matches_dense_loops(monkeypatch, metric, k2, budget):
    # A small join budget makes the Jaccard step run query by query.
    monkeypatch.setattr(rerank_module, '_JOIN_BUDGET', budget)
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((4, 6))
    qf = centers[rng.integers(0, 4, 9)] + rng.standard_normal((9, 6))
    gf = centers[rng.integers(0, 4, 31)] + rng.standard_normal((31, 6))
    expected = dense_rerank(qf, gf, 5, k2, 0.3, metric)
    for dtype in (torch.float32, torch.float16):
        out = k_reciprocal_rerank(
            qf,
            gf,
            k1=5,
            k2=k2,
            lambda_value=0.3,
            metric=metric,
            chunk_size=7,
            dist_dtype=dtype)
        assert out.shape == (9, 31) and out.dtype == np.float32
        # float32 distances from differently sized matmuls differ slightly.
        atol = 1e-4 if dtype == torch.float32 else 2e-3
        np.testing.assert_allclose(out, expected, atol=atol)


def test_fixes_a_ranking():
    # The query (pid 1) is nearest to b0 (pid 2), which belongs to a tight
    # cluster of pid 2 and has no reciprocal tie to the query; its true
    # matches a0, a1 are slightly farther but share neighbours with it.
    query = np.array([[0.0, 0.0]])
    gallery = np.array([[0.0, 1.0], [1.0, 0.1], [-0.8, 0.0], [-1.5, 0.0],
                        [-1.6, 0.3], [-1.6, -0.3]])
    g_pids = np.array([1, 1, 2, 2, 2, 2])
    labels = ([1], g_pids, [0], np.ones(6, dtype=int))
    dist = compute_distance(query, gallery, 'euclidean')
    assert np.argmin(dist[0]) == 2
    before = evaluate_rank(dist, *labels)
    reranked = k_reciprocal_rerank(
        query, gallery, k1=3, k2=1, lambda_value=0.3, metric='euclidean')
    after = evaluate_rank(reranked, *labels)
    assert np.argmin(reranked[0]) in (0, 1)
    assert before['cmc'][0] == 0 and after['cmc'][0] == 1
    assert after['mAP'] == pytest.approx(1.0)
    assert before['mAP'] < 0.6


def test_bad_arguments():
    feats = np.eye(4)
    with pytest.raises(ValueError, match='k1'):
        k_reciprocal_rerank(feats[:2], feats[2:], k1=5)
    with pytest.raises(ValueError, match='lambda_value'):
        k_reciprocal_rerank(feats[:2], feats[2:], k1=2, k2=1, lambda_value=2)

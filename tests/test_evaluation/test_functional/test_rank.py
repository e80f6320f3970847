# Copyright (c) mmreid_video contributors. All rights reserved.
import warnings

import numpy as np
import pytest
import torch
from fixture_rank import loop_reference, random_case

import mmreid_video.evaluation.functional._rank_kernel as rank_kernel
from mmreid_video.evaluation.functional import (compute_distance,
                                                evaluate_rank,
                                                evaluate_rank_by_features,
                                                rank_gallery)


def toy():
    # Query 0 (pid 1, cam 0): g2 is junk (same pid and camera) although it
    # is the closest; the valid list is g0 (miss), g1 (hit), g3, g4 (hit).
    # Query 1 (pid 3, cam 0): g3 (pid 3, cam 1) is first.
    distmat = np.array([[0.1, 0.2, 0.05, 0.3, 0.4], [0.5, 0.6, 0.7, 0.1, 0.9]],
                       dtype=np.float32)
    return (distmat, np.array([1, 3]), np.array([2, 1, 1, 3, 1]),
            np.array([0, 0]), np.array([1, 1, 0, 1, 2]))


def test_hand_computed_standard():
    num_threads = torch.get_num_threads()
    res = evaluate_rank(*toy(), max_rank=5)
    # Ranking runs on one thread; the global setting is restored.
    assert torch.get_num_threads() == num_threads
    # AP: (1/2 + 2/4) / 2 = 0.5 and 1; INP: 2/4 and 1/1.
    assert res['mAP'] == pytest.approx(0.75)
    np.testing.assert_allclose(res['cmc'], [0.5, 1, 1, 1, 1])
    assert res['mINP'] == pytest.approx(0.75)
    assert res['num_valid_queries'] == 2
    np.testing.assert_allclose(res['AP'], [0.5, 1.0])


def test_hand_computed_trapezoid():
    res = evaluate_rank(*toy(), max_rank=5, ap_mode='trapezoid')
    # Query 0: hit at 2 adds 0.5 * (0/1 + 1/2) / 2 = 1/8, hit at 4 adds
    # 0.5 * (1/3 + 2/4) / 2 = 5/24; AP = 1/3. Query 1: 1 * (1 + 1) / 2.
    np.testing.assert_allclose(res['AP'], [1 / 3, 1.0])
    assert res['mAP'] == pytest.approx(2 / 3)
    np.testing.assert_allclose(res['cmc'], [0.5, 1, 1, 1, 1])


def test_same_id_same_camera_excluded():
    distmat, q_pids, g_pids, q_camids, g_camids = toy()
    # Were g2 a valid match, query 0 would be perfect at rank 1.
    res = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids + 5)
    assert res['AP'][0] == pytest.approx((1 / 1 + 2 / 3 + 3 / 5) / 3)
    assert res['cmc'][0] == 1.0


def test_query_without_valid_match_is_skipped():
    distmat, q_pids, g_pids, q_camids, g_camids = toy()
    # Query 2 (pid 2, cam 1) only has g0, in its own camera.
    distmat = np.vstack([distmat, distmat[:1]])
    with pytest.warns(UserWarning, match='1 of 3 queries have no valid'):
        res = evaluate_rank(distmat, np.append(q_pids, 2), g_pids,
                            np.append(q_camids, 1), g_camids)
    assert res['num_valid_queries'] == 2
    assert res['num_skipped_queries'] == 1
    assert res['mAP'] == pytest.approx(0.75)
    np.testing.assert_array_equal(res['valid_query_indices'], [0, 1])
    with pytest.raises(ValueError, match='None of the 1 queries'):
        evaluate_rank(distmat[2:], [2], g_pids, [1], g_camids)


def with_unmatched_query():
    # toy() plus query 2 (pid 2, cam 1): its only same-pid item g0 is in its
    # own camera (junk), so it has no valid match.
    distmat, q_pids, g_pids, q_camids, g_camids = toy()
    return (np.vstack([distmat, distmat[:1]]), np.append(q_pids, 2), g_pids,
            np.append(q_camids, 1), g_camids)


def test_query_without_valid_match_counts_zero():
    case = with_unmatched_query()
    with pytest.warns(UserWarning, match='1 of 3 queries .* count as AP 0'):
        res = evaluate_rank(*case, max_rank=5, no_positive='zero')
    # AP 1/2, 1 and 0; first hits at ranks 2, 1 and never; INP 2/4, 1, 0.
    np.testing.assert_allclose(res['AP'], [0.5, 1.0, 0.0])
    assert res['mAP'] == pytest.approx(0.5)
    np.testing.assert_allclose(res['cmc'], [1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert res['mINP'] == pytest.approx(0.5)
    assert (res['num_valid_queries'], res['num_no_positive'],
            res['num_skipped_queries']) == (2, 1, 0)
    np.testing.assert_array_equal(res['valid_query_indices'], [0, 1, 2])
    # Trapezoid AP (the LS-VID kit): 1/3, 1 and 0.
    with pytest.warns(UserWarning):
        res = evaluate_rank(
            *case,
            max_rank=5,
            ap_mode='trapezoid',
            no_positive='zero',
            device='cpu')
    assert res['mAP'] == pytest.approx(4 / 9)
    with pytest.warns(UserWarning, match='are skipped'):
        res = evaluate_rank(*case, max_rank=5)
    assert (res['num_no_positive'], res['num_skipped_queries']) == (1, 1)
    # A query set without any valid match is refused in both modes.
    with pytest.raises(ValueError, match='None of the 1 queries'):
        evaluate_rank(
            *(x[2:] if i in (0, 1, 3) else x for i, x in enumerate(case)),
            no_positive='zero')
    with pytest.raises(ValueError, match="`no_positive` must be one of"):
        evaluate_rank(*case, no_positive='drop')


@pytest.mark.parametrize('ap_mode', ['standard', 'trapezoid'])
def test_no_positive_zero_matches_loop_reference(ap_mode):
    case = list(random_case(6, num_q=60, num_g=40))
    case[1][::7] = 99  # a pid the gallery lacks
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = loop_reference(*case, 10, ap_mode, no_positive='zero')
        assert ref['num_valid_queries'] == 51  # 9 without a match
        for device in (None, 'cpu'):
            res = evaluate_rank(
                *case, 10, ap_mode, device=device, no_positive='zero')
            assert res['mAP'] == ref['mAP'] and res['mINP'] == ref['mINP']
            np.testing.assert_array_equal(res['cmc'], ref['cmc'])
            assert res['num_valid_queries'] == ref['num_valid_queries']
        qf = np.random.default_rng(0).standard_normal((60, 8))
        gf = np.random.default_rng(1).standard_normal((40, 8))
        fused = evaluate_rank_by_features(
            qf, gf, *case[1:], ap_mode=ap_mode, no_positive='zero')
        dense = evaluate_rank(
            compute_distance(qf, gf),
            *case[1:],
            ap_mode=ap_mode,
            no_positive='zero')
        _assert_same_results(fused, dense)


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int64])
def test_ties_broken_by_gallery_order(dtype):
    g_pids, g_camids = np.array([2, 1, 2, 1]), np.array([1, 1, 1, 1])
    distmat = np.zeros((1, 4), dtype=dtype)
    res = evaluate_rank(distmat, [1], g_pids, [0], g_camids)
    # Stable order g0, g1, g2, g3: hits at 2 and 4.
    assert res['mAP'] == pytest.approx((1 / 2 + 2 / 4) / 2)
    res = evaluate_rank(distmat, [1], g_pids[::-1], [0], g_camids)
    assert res['mAP'] == pytest.approx((1 / 1 + 2 / 3) / 2)


def test_negative_zero_ties_with_zero():
    distmat = np.array([[0.0, -0.0, 0.0]], dtype=np.float32)
    res = evaluate_rank(distmat, [1], [2, 1, 2], [0], [1, 1, 1])
    assert res['cmc'][0] == 0.0 and res['cmc'][1] == 1.0
    res = evaluate_rank(-distmat, [1], [2, 1, 2], [0], [1, 1, 1])
    assert res['cmc'][0] == 0.0 and res['cmc'][1] == 1.0


def test_nan_rejected():
    distmat = np.array([[0.1, np.nan]], dtype=np.float32)
    with pytest.raises(ValueError, match='NaN'):
        evaluate_rank(distmat, [1], [1, 2], [0], [1, 1])


def _assert_same_results(a, b):
    assert a['mAP'] == b['mAP'] and a['mINP'] == b['mINP']
    np.testing.assert_array_equal(a['cmc'], b['cmc'])
    np.testing.assert_array_equal(a['AP'], b['AP'])
    np.testing.assert_array_equal(a['valid_query_indices'],
                                  b['valid_query_indices'])


@pytest.mark.parametrize('ap_mode', ['standard', 'trapezoid'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_loop_reference_exactly(ap_mode, seed):
    case = random_case(seed)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = loop_reference(*case, max_rank=10, ap_mode=ap_mode)
        for dist in (case[0], case[0].astype(np.float64),
                     torch.from_numpy(case[0])):
            before = np.array(dist, copy=True)
            res = evaluate_rank(dist, *case[1:], 10, ap_mode)
            np.testing.assert_array_equal(np.asarray(dist), before)
            assert res['mAP'] == ref['mAP']
            assert res['mINP'] == ref['mINP']
            np.testing.assert_array_equal(res['cmc'], ref['cmc'])
            assert res['num_valid_queries'] == ref['num_valid_queries']


@pytest.mark.parametrize('width', [-1, 3, None, 10**9])
def test_head_and_whole_row_paths_agree(monkeypatch, width):
    # Per block, rows whose head (items up to the last positive) is at most
    # `width` long are gathered and sorted alone, the others sorted whole:
    # -1 sorts every row whole, 10**9 gathers every head, None lets the
    # cost estimate choose. All exact, also for other dtypes.
    if width is not None:
        monkeypatch.setattr(rank_kernel, '_short_width',
                            lambda num_head, num_g: width)
    case = random_case(4, num_q=40, num_g=150)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = loop_reference(*case, max_rank=10, ap_mode='standard')
        for dist in (case[0], case[0].astype(np.float64)):
            res = evaluate_rank(dist, *case[1:], 10, chunk_size=7)
            assert res['mAP'] == ref['mAP']
            # device='cpu' runs the code a GPU runs (whole blocks ranked
            # where the distances are, torch ops only): same numbers.
            for chunk_size in (7, None):
                _assert_same_results(
                    evaluate_rank(
                        dist,
                        *case[1:],
                        10,
                        chunk_size=chunk_size,
                        device='cpu'), res)
            np.testing.assert_array_equal(res['cmc'], ref['cmc'])
        # float16 -> float32 keeps the order and the ties.
        half = case[0].astype(np.float16)
        res = evaluate_rank(half, *case[1:], 10)
        assert res['mAP'] == loop_reference(half, *case[1:], 10,
                                            'standard')['mAP']


@pytest.mark.parametrize('num_q,num_g,chunk_sizes', [(50, 200, (1, 7, None)),
                                                     (24, 30000, (7, 20))])
def test_chunked_equals_unchunked(monkeypatch, num_q, num_g, chunk_sizes):
    # With 30000 gallery items, ranking sub-blocks (8 rows) straddle the
    # distance blocks of 7 and 20 rows.
    monkeypatch.setattr(rank_kernel, '_SUB_BLOCK_SIZE', 1 << 18)
    case = random_case(3, num_q=num_q, num_g=num_g)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        full = evaluate_rank(*case, chunk_size=10**6)
        for chunk_size in chunk_sizes:
            res = evaluate_rank(*case, chunk_size=chunk_size)
            assert res['mAP'] == full['mAP']
            assert res['mINP'] == full['mINP']
            np.testing.assert_array_equal(res['cmc'], full['cmc'])
            np.testing.assert_array_equal(res['AP'], full['AP'])


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_by_features_equals_dense(metric):
    rng = np.random.default_rng(0)
    qf, gf = rng.standard_normal((30, 16)), rng.standard_normal((90, 16))
    labels = (rng.integers(0, 6, 30), rng.integers(0, 6, 90),
              rng.integers(0, 2, 30), rng.integers(0, 2, 90))
    dense = evaluate_rank(
        compute_distance(qf, gf, metric), *labels, ap_mode='trapezoid')
    for chunk_size in (4, None):
        res = evaluate_rank_by_features(
            qf,
            gf,
            *labels,
            metric=metric,
            ap_mode='trapezoid',
            chunk_size=chunk_size)
        assert res['mAP'] == pytest.approx(dense['mAP'], abs=1e-12)
        np.testing.assert_allclose(res['cmc'], dense['cmc'])


def test_bad_arguments():
    distmat, q_pids, g_pids, q_camids, g_camids = toy()
    with pytest.raises(ValueError, match='ap_mode'):
        evaluate_rank(*toy(), ap_mode='11point')
    with pytest.raises(ValueError, match='g_pids'):
        evaluate_rank(distmat, q_pids, g_pids[:3], q_camids, g_camids)
    with pytest.raises(ValueError, match='shape'):
        evaluate_rank(distmat[0], q_pids, g_pids, q_camids, g_camids)


def test_rank_gallery():
    distmat, q_pids, g_pids, q_camids, g_camids = toy()
    distmat[1, 4] = 0.1  # ties with g3; g3 comes first
    idx, dist = rank_gallery(distmat, 5, q_pids, g_pids, q_camids, g_camids)
    np.testing.assert_array_equal(idx, [[0, 1, 3, 4, -1], [3, 4, 0, 1, 2]])
    assert np.isinf(dist[0, 4])
    np.testing.assert_allclose(dist[1, :2], [0.1, 0.1])
    idx, _ = rank_gallery(
        distmat, 2, q_pids, g_pids, q_camids, g_camids, chunk_size=1)
    np.testing.assert_array_equal(idx, [[0, 1], [3, 4]])


def test_device_path_float16_and_rank_gallery():
    case = random_case(5, num_q=40, num_g=150)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        half = case[0].astype(np.float16)
        _assert_same_results(
            evaluate_rank(half, *case[1:], 10, device='cpu'),
            evaluate_rank(half, *case[1:], 10))
    idx, dists = rank_gallery(*case[:1], 12, *case[1:])
    dev_idx, dev_dists = rank_gallery(
        *case[:1], 12, *case[1:], chunk_size=9, device='cpu')
    np.testing.assert_array_equal(dev_idx, idx)
    np.testing.assert_array_equal(dev_dists, dists)


def test_device_path_by_features():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((8, 32))
    q_pids, g_pids = rng.integers(0, 8, 60), rng.integers(0, 8, 300)
    qf = centres[q_pids] + 0.5 * rng.standard_normal((60, 32))
    gf = centres[g_pids] + 0.5 * rng.standard_normal((300, 32))
    labels = (q_pids, g_pids, rng.integers(0, 3, 60), rng.integers(0, 3, 300))
    for metric in ('cosine', 'euclidean'):
        cpu = evaluate_rank_by_features(qf, gf, *labels, metric=metric)
        dev = evaluate_rank_by_features(
            torch.from_numpy(qf),
            gf,
            *labels,
            metric=metric,
            chunk_size=16,
            device='cpu')
        _assert_same_results(dev, cpu)
        assert cpu['mAP'] > 0.5  # clustered: most positives rank early
    # The dense matrix from the device path ranks the same.
    dist = compute_distance(qf, gf, device='cpu', as_numpy=False)
    assert isinstance(dist, torch.Tensor) and dist.shape == (60, 300)
    _assert_same_results(
        evaluate_rank(dist, *labels, device='cpu'),
        evaluate_rank_by_features(qf, gf, *labels))


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_rejected(bad):
    rng = np.random.default_rng(0)
    qf, gf = rng.standard_normal((5, 4)), rng.standard_normal((7, 4))
    labels = (np.arange(5), np.arange(7), np.zeros(5), np.ones(7))
    bad_q = qf.copy()
    bad_q[3, 1] = bad
    for device in (None, 'cpu'):
        with pytest.raises(
                ValueError, match=r'`query_feats` has NaN/inf .* row 3'):
            evaluate_rank_by_features(bad_q, gf, *labels, device=device)
        with pytest.raises(ValueError, match=r'`gallery` has NaN/inf'):
            compute_distance(qf, np.vstack([gf, bad_q]), device=device)
    bad_pids = labels[1].astype(np.float64)
    bad_pids[2] = bad
    with pytest.raises(ValueError, match=r'`g_pids` has 1 NaN/inf .* 2'):
        evaluate_rank_by_features(qf, gf, labels[0], bad_pids, *labels[2:])
    bad_cams = labels[2].copy()
    bad_cams[0] = bad
    with pytest.raises(ValueError, match=r'`q_camids` has 1 NaN/inf'):
        rank_gallery(
            compute_distance(qf, gf), 3, labels[0], labels[1], bad_cams,
            labels[3])
    dist = compute_distance(qf, gf)
    dist[1, 2] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        rank_gallery(dist, 3, *labels)

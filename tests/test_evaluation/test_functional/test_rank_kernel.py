# Copyright (c) mmreid_video contributors. All rights reserved.
"""Edge cases of the counting kernel (functional/_rank_kernel.py): the head
shortcut, whole-row sorts, ties resolved by gallery index, junk subtracted,
padding with +inf, every dtype, on the CPU (numpy) and device (torch)
paths."""
import warnings

import numpy as np
import pytest
import torch
from fixture_rank import loop_reference

import mmreid_video.evaluation.functional._rank_kernel as rank_kernel
from mmreid_video.evaluation.functional import evaluate_rank

PATHS = (None, 'cpu')  # numpy sub-blocks; torch ops (the GPU's code)


def assert_like_loop(dist, labels, max_rank=10, ap_mode='standard'):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = loop_reference(
            np.asarray(dist), *labels, max_rank, ap_mode, no_positive='zero')
        for device in PATHS:
            res = evaluate_rank(
                dist,
                *labels,
                max_rank,
                ap_mode,
                device=device,
                no_positive='zero')
            assert res['mAP'] == ref['mAP'], device
            assert res['mINP'] == ref['mINP'], device
            np.testing.assert_array_equal(res['cmc'], ref['cmc'])
            assert res['num_valid_queries'] == ref['num_valid_queries']


def test_tied_junk_is_left_out():
    # One row, all distances equal: gallery order decides. g0 is junk (same
    # pid and camera) and comes first; left out, the positives g1 and g3
    # rank 1 and 3 around the negative g2.
    labels = ([1], [1, 1, 2, 1], [0], [0, 1, 1, 2])
    for dtype in (np.float16, np.float32, np.float64, np.int64):
        res = evaluate_rank(np.full((1, 4), 3, dtype), *labels, max_rank=4)
        np.testing.assert_allclose(res['AP'], [(1 / 1 + 2 / 3) / 2])
        np.testing.assert_array_equal(res['cmc'], [1, 1, 1, 1])
        assert res['mINP'] == pytest.approx(2 / 3)


def test_tied_positives_and_negatives_by_gallery_order():
    # g2 (negative) ties with the positive g3 and comes first; the positive
    # g0 ties with the later negative g4 and comes first; g1 is far.
    dist = np.array([[0.5, 0.9, 0.2, 0.2, 0.5]], np.float32)
    labels = ([1], [1, 2, 2, 1, 3], [0], [1, 1, 1, 1, 1])
    for device in PATHS:
        res = evaluate_rank(dist, *labels, max_rank=5, device=device)
        # Order g2, g3 (hit 2), g0 (hit 3), g4, g1.
        np.testing.assert_allclose(res['AP'], [(1 / 2 + 2 / 3) / 2])
        np.testing.assert_array_equal(res['cmc'], [0, 1, 1, 1, 1])


def test_infinite_distances_and_padding():
    # +inf distances tie with the +inf padding of the kernel's arrays: the
    # positive g3 at +inf still comes after g1 (+inf, earlier) and before
    # g4 (+inf, later); -inf comes first.
    dist = np.array([[np.inf, np.inf, -np.inf, np.inf, np.inf, 0.0]],
                    np.float32)
    labels = ([1], [2, 2, 3, 1, 2, 1], [0], [1, 1, 1, 1, 1, 0])
    for dtype in (np.float32, np.float64):
        for device in PATHS:
            res = evaluate_rank(
                dist.astype(dtype), *labels, max_rank=5, device=device)
            # g5 is junk; order g2, g0, g1, g3 (hit at 4), g4.
            np.testing.assert_allclose(res['AP'], [1 / 4])
            np.testing.assert_array_equal(res['cmc'], [0, 0, 0, 1, 1])


def test_max_rank_beyond_the_gallery_and_distractors():
    # Two gallery items; a CMC of 20 stays flat after them. Pid 0 items
    # (MARS distractors) are ordinary negatives.
    # Query 0 (pid 5) finds g1 second, query 1 (pid 0) finds g0 first.
    dist = np.array([[0.1, 0.3], [0.1, 0.2]], np.float32)
    res = evaluate_rank(dist, [5, 0], [0, 5], [0, 0], [1, 1], max_rank=20)
    assert res['cmc'].shape == (20, )
    np.testing.assert_array_equal(res['cmc'], [0.5] + [1.0] * 19)
    np.testing.assert_allclose(res['AP'], [0.5, 1.0])


@pytest.mark.parametrize('tie_passes', [0, 64])
@pytest.mark.parametrize('width', [-1, 10**9, None])
@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
def test_tie_heavy_cases_match_loop(monkeypatch, tie_passes, width, dtype):
    # Few distinct values (and +-inf, -0.0), gallery sizes around the 8-item
    # words of the head mask, rows with heads gathered (width 10**9),
    # sorted whole (-1) or chosen; tied positives counted by one pass each
    # (64) or their rows ranked by a stable sort (0), in steps of 16
    # elements.
    if width is not None:
        monkeypatch.setattr(rank_kernel, '_short_width',
                            lambda num_head, num_g: width)
    monkeypatch.setattr(rank_kernel, '_TIE_PASSES', tie_passes)
    monkeypatch.setattr(rank_kernel, '_STEP_SIZE', 16)
    rng = np.random.default_rng(7)
    for num_g in (1, 5, 8, 13, 61):
        dist = (rng.integers(-2, 3, (12, num_g)) / 2).astype(dtype)
        dist[rng.random(dist.shape) < 0.1] = np.inf
        dist[rng.random(dist.shape) < 0.05] = -np.inf
        dist[dist == 0] *= -1  # -0.0 ties with 0.0
        labels = (rng.integers(0, 4, 12), rng.integers(0, 4, num_g),
                  rng.integers(0, 2, 12), rng.integers(0, 2, num_g))
        # At least query 0 has a valid match.
        labels[1][0], labels[3][0] = labels[0][0], 1 - labels[2][0]
        assert_like_loop(dist, labels)


def test_integer_and_tensor_inputs_match_loop():
    rng = np.random.default_rng(3)
    dist = rng.integers(0, 6, (20, 40))
    labels = (rng.integers(0, 5, 20), rng.integers(0, 5, 40),
              rng.integers(0, 2, 20), rng.integers(0, 2, 40))
    assert_like_loop(dist, labels, ap_mode='trapezoid')
    assert_like_loop(torch.from_numpy(dist.astype(np.float32)), labels)


def test_long_and_short_heads_in_one_block():
    # Clustered rows (short heads) and random rows (heads of most of the
    # gallery) in the same sub-block: the cost estimate splits them.
    rng = np.random.default_rng(5)
    num_q, num_g = 30, 400
    g_pids = rng.integers(0, 10, num_g)
    q_pids = rng.integers(0, 10, num_q)
    dist = rng.random((num_q, num_g)).astype(np.float32) + 1
    near = q_pids[::2, None] == g_pids[None]
    dist[::2][near] -= 1  # even rows: every positive comes first
    widths = []
    short_width = rank_kernel._short_width

    def spy(num_head, num_g):
        widths.append(short_width(num_head, num_g))
        return widths[-1]

    mp = pytest.MonkeyPatch()
    mp.setattr(rank_kernel, '_short_width', spy)
    try:
        assert_like_loop(dist, (q_pids, g_pids, rng.integers(
            0, 3, num_q), rng.integers(0, 3, num_g)))
    finally:
        mp.undo()
    assert 0 < widths[0] < num_g

# Copyright (c) mmreid_video contributors. All rights reserved.
"""topk_metrics: R-n and mAP@k of ranked lists, checked inputs."""
import numpy as np
import pytest

from mmreid_video.evaluation.functional import topk_metrics


def test_hand_computed_lists():
    # Query 0 (pid 1, cam 0): positives are rows 1 and 3 (row 0 is junk,
    # already left out of the list); query 1 has no positive and is skipped.
    g_pids, g_cams = np.array([1, 1, 2, 1]), np.array([0, 1, 1, 2])
    indices = np.array([[2, 1, 3], [0, 1, -1]])
    res = topk_metrics(indices, [1, 5], [0, 0], g_pids, g_cams, ranks=(1, 2))
    assert res['R1'] == 0 and res['R2'] == 1
    assert res['mAP@3'] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert res['num_valid_queries'] == 1


def test_bad_lists_are_refused():
    g = np.zeros(4, np.int64)
    with pytest.raises(ValueError, match=r'\(Q, k\) integer array'):
        topk_metrics(np.zeros((2, 3)), [0, 0], [0, 0], g, g)
    with pytest.raises(ValueError, match='row 4, but the gallery has 4'):
        topk_metrics(np.array([[4]]), [0], [0], g, g)
    with pytest.raises(ValueError, match='None of the 1 queries'):
        topk_metrics(np.array([[0]]), [0], [0], g, g)

# Copyright (c) mmreid_video contributors. All rights reserved.
"""retrieval.search: numpy and tensors alike, input checks, exclusion rules."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmreid_video.evaluation.functional import compute_distance, rank_gallery
from mmreid_video.retrieval import search


def test_numpy_and_tensors_alike():
    rng = np.random.default_rng(0)
    q, g = rng.standard_normal((5, 8)), rng.standard_normal((30, 8))
    ref = search(torch.from_numpy(q), torch.from_numpy(g), 7)
    for qa, ga in [(q, g), (q.astype(np.float32), torch.from_numpy(g)),
                   (torch.from_numpy(q).half(), g.astype(np.float16))]:
        idx, dist = search(qa, ga, 7)
        assert idx.dtype == torch.int64 and dist.dtype == torch.float32
        if qa.dtype in (np.float64, np.float32):
            assert torch.equal(idx, ref[0])
    expected = rank_gallery(
        compute_distance(q, g), 7, np.zeros(5), np.ones(30), np.zeros(5),
        np.ones(30))
    np.testing.assert_array_equal(ref[0].numpy(), expected[0])
    np.testing.assert_allclose(ref[1].numpy(), expected[1], atol=1e-6)


def test_exclusion_rules():
    g = np.eye(4, dtype=np.float32)[[0, 0, 1, 0]]
    q = np.eye(4, dtype=np.float32)[:1]
    pids, cams = np.array([1, 2, 1, 1]), np.array([0, 0, 1, 1])
    # re-ID rule: row 0 (pid 1, cam 0) is left out
    idx, dist = search(q, g, 4, [1], [0], pids, cams)
    assert idx.tolist() == [[1, 3, 2, -1]]
    assert torch.isinf(dist[0, 3])
    # camera rule: rows 0 and 1 (cam 0) are left out
    idx, _ = search(q, g, 4, query_camids=[0], gallery_camids=cams)
    assert idx.tolist() == [[3, 2, -1, -1]]
    assert search(q, g, 4)[0].tolist() == [[0, 1, 3, 2]]


@pytest.mark.parametrize('bad, error, message', [
    (np.ones((2, 3, 4), np.float32), ValueError, r'\(N, D\)'),
    (np.ones((0, 4), np.float32), ValueError, 'non-empty'),
    (np.ones((2, 4), bool), TypeError, 'real numbers'),
    (np.ones((2, 4), np.complex64), TypeError, 'real numbers'),
    (np.array([[1, 2, 3, np.nan]]), ValueError, 'NaN/inf .* row 0'),
    (np.array([[1, 2, 3, 4], [1, np.inf, 3, 4]]), ValueError, 'row 1'),
    ([[1.0, 2.0, 3.0, 4.0]], TypeError, 'numpy array or a torch tensor'),
])
def test_bad_descriptors(bad, error, message):
    g = np.ones((3, 4), np.float32)
    with pytest.raises(error, match=f'query_feats.*{message}|{message}'):
        search(bad, g)
    with pytest.raises(error, match=message):
        search(g, bad)


def test_bad_labels():
    q, g = np.ones((2, 4)), np.ones((3, 4))
    with pytest.raises(ValueError, match=r'gallery_camids.*\(3,\)'):
        search(q, g, query_camids=[0, 1], gallery_camids=[0, 1])
    with pytest.raises(ValueError, match='query_pids.*not integer ids'):
        search(q, g, 2, [0.5, 1], [0, 1], [0, 0, 0], [0, 0, 0])
    with pytest.raises(TypeError, match='gallery_pids.*integer ids'):
        search(q, g, 2, [0, 1], [0, 1], ['a', 'b', 'c'], [0, 0, 0])
    with pytest.raises(ValueError, match='gallery has no camids'):
        search(q, g, query_camids=[0, 1])
    with pytest.raises(ValueError, match='dims differ: 4 vs 5'):
        search(q, np.ones((3, 5)))


def test_integer_and_whole_float_inputs_are_numbers():
    """Integer descriptors and whole-number float ids (MATLAB doubles) are
    accepted, as the evaluator accepts them."""
    g = np.array([[3, 0], [0, 2], [1, 1]])
    idx, _ = search(
        np.array([[5, 1]]), g, 3, [1.0], [0.0], [1., 2., 3.], [1., 1., 1.])
    assert idx.tolist() == [[0, 2, 1]]


def test_planted_match_ranks_first():
    gen = torch.Generator().manual_seed(0)
    gallery = torch.randn(50, 16, generator=gen)
    query = torch.randn(3, 16, generator=gen)
    planted = [7, 31, 0]
    for q, g in enumerate(planted):
        # Same direction, other scale: distance 0 after normalisation.
        gallery[g] = 3 * query[q] + 0.01 * torch.randn(16, generator=gen)
    indices, dists = search(query, gallery, topk=5)
    assert indices.shape == (3, 5)
    assert indices[:, 0].tolist() == planted
    assert (dists[:, 0] < 1e-3).all() and (dists[:, 1:] > 0.1).all()
    # Sorted ascending, and equal to 1 - cosine similarity.
    assert (dists.diff(dim=1) >= 0).all()
    expected = 1 - F.cosine_similarity(query[1:2], gallery[indices[1]], dim=1)
    torch.testing.assert_close(dists[1], expected, atol=1e-6, rtol=0)


def test_ties_and_topk():
    gallery = torch.tensor([[1., 0.], [0., 1.], [2., 0.]])
    indices, dists = search(torch.tensor([[1., 0.]]), gallery, topk=10)
    # Equal distances keep gallery order; k is capped at the gallery.
    assert indices.tolist() == [[0, 2, 1]]
    torch.testing.assert_close(dists, torch.tensor([[0., 0., 1.]]))
    with pytest.raises(ValueError, match='topk'):
        search(gallery, gallery, topk=0)

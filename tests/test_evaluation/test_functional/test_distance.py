# Copyright (c) mmreid_video contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmreid_video.evaluation.functional import (compute_distance,
                                                iter_distance_chunks)


def test_cosine_and_euclidean_values():
    query = np.array([[3.0, 4.0], [1.0, 0.0]])
    gallery = np.array([[0.0, 2.0], [6.0, 8.0]])
    cos = compute_distance(query, gallery)
    assert cos.dtype == np.float32 and cos.shape == (2, 2)
    np.testing.assert_allclose(
        cos, [[1 - 0.8, 0.0], [1.0, 1 - 0.6]], atol=1e-6)
    euc = compute_distance(
        torch.from_numpy(query), gallery, 'euclidean', as_numpy=False)
    assert isinstance(euc, torch.Tensor)
    np.testing.assert_allclose(
        euc.numpy(), [[np.sqrt(13), 5.0], [np.sqrt(5), np.sqrt(89)]],
        rtol=1e-6)


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_chunks_cover_all_rows(metric):
    rng = np.random.default_rng(0)
    query, gallery = rng.standard_normal((10, 5)), rng.standard_normal((7, 5))
    full = compute_distance(query, gallery, metric, chunk_size=100)
    chunked = compute_distance(query, gallery, metric, chunk_size=3)
    np.testing.assert_allclose(chunked, full, atol=1e-6)
    slices = [
        rows for rows, _ in iter_distance_chunks(query, gallery, metric, 4)
    ]
    assert slices == [slice(0, 4), slice(4, 8), slice(8, 10)]


def test_errors():
    with pytest.raises(ValueError, match='Unknown distance metric'):
        compute_distance(np.eye(2), np.eye(2), 'manhattan')
    with pytest.raises(ValueError, match='dims differ'):
        compute_distance(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match=r'shape \(N, D\)'):
        compute_distance(np.ones(3), np.eye(3))
    with pytest.raises(TypeError, match='numpy array or a torch tensor'):
        compute_distance([[1.0]], np.eye(1))
    with pytest.raises(ValueError, match='empty'):
        compute_distance(np.zeros((0, 2)), np.eye(2))

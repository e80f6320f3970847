# Copyright (c) mmreid_video contributors. All rights reserved.
"""utils.arrays: one rule for descriptors and ids, the same at every entry
point (evaluator, metric, search, GalleryIndex, shard files)."""
import re

import numpy as np
import pytest
import torch

from mmreid_video.evaluation import (VideoReIDMetric, compute_distance,
                                     evaluate_rank, evaluate_rank_by_features,
                                     k_reciprocal_rerank, rank_gallery,
                                     topk_metrics)
from mmreid_video.retrieval import GalleryIndex, search
from mmreid_video.retrieval.feature_shards import read_shard
from mmreid_video.utils.arrays import as_descriptors, as_labels

RNG = np.random.default_rng(0)
Q = RNG.standard_normal((5, 4)).astype(np.float32)
G = RNG.standard_normal((12, 4)).astype(np.float32)
Q_PIDS, Q_CAMS = np.arange(5), np.zeros(5, np.int64)
G_PIDS, G_CAMS = np.arange(12) % 6, np.ones(12, np.int64)


def _error(fn):
    """The error of ``fn`` as (type, message with every `name` blanked)."""
    with pytest.raises((TypeError, ValueError)) as info:
        fn()
    return type(info.value), re.sub(r'`[^`]*`', '`X`', str(info.value))


def _descriptor_entry_points(bad, tmp_path):
    """Every public callable that takes descriptors, fed ``bad`` as the
    query (or the rows added / stored)."""
    index = GalleryIndex(4)
    index.add(G)
    n = len(bad)
    labels = (np.arange(n), np.arange(12), np.zeros(n), np.ones(12))

    def shard():
        arrays = dict(
            feats=bad,
            indices=np.arange(n),
            pids=np.zeros(n),
            camids=np.zeros(n),
            is_query=np.ones(n, bool),
            is_gallery=np.ones(n, bool),
            tracklet_ids=np.array(['t'] * n))
        np.savez(tmp_path / 's.npz', **arrays)
        read_shard(str(tmp_path / 's.npz'))

    return dict(
        compute_distance=lambda: compute_distance(bad, G),
        evaluate_rank_by_features=lambda: evaluate_rank_by_features(
            bad, G, *labels),
        k_reciprocal_rerank=lambda: k_reciprocal_rerank(bad, G, k1=2, k2=1),
        search=lambda: search(bad, G),
        gallery_index_add=lambda: GalleryIndex(4).add(bad),
        gallery_index_search=lambda: index.search(bad),
        read_shard=shard)


@pytest.mark.parametrize('name, bad', [
    ('1-D', np.ones(4, np.float32)),
    ('3-D', np.ones((2, 3, 4), np.float32)),
    ('no rows', np.ones((0, 4), np.float32)),
    ('bool', np.ones((3, 4), bool)),
    ('complex', np.ones((3, 4), np.complex64)),
    ('strings', np.full((3, 4), 'a')),
    ('NaN in row 1', np.array([[1, 2, 3, 4], [1, np.nan, 3, 4]])),
    ('-inf in row 2', np.array([[1, 2, 3, 4]] * 2 + [[1, 2, -np.inf, 4]])),
    ('inf tensor', torch.tensor([[np.inf, 1., 1., 1.]])),
])
def test_bad_descriptors_are_refused_alike_everywhere(name, bad, tmp_path):
    errors = {
        where: _error(fn)
        for where, fn in _descriptor_entry_points(bad, tmp_path).items()
        if not (where == 'read_shard' and isinstance(bad, torch.Tensor))
    }
    assert len(set(errors.values())) == 1, errors


@pytest.mark.parametrize(
    'row',
    [
        np.array([1, np.nan, 3, 4]),
        np.ones(4, bool),
        np.array([1e300, 1, 1, 1]),  # float64 beyond float32: a stored vector
    ])
def test_the_metric_refuses_a_sample_descriptor_alike(row):
    sample = dict(
        pred_feature=torch.as_tensor(row),
        pid=1,
        camid=0,
        is_query=True,
        is_gallery=False,
        sample_idx=7)
    with pytest.raises((TypeError, ValueError),
                       match='`pred_feature of sample_idx 7`') as info:
        VideoReIDMetric().process(None, [sample])
    expected = _error(lambda: as_descriptors(row[None], 'x'))
    assert (type(info.value), re.sub(r'`[^`]*`', '`X`',
                                     str(info.value))) == expected


def test_descriptor_messages_name_the_argument_and_row():
    with pytest.raises(
            ValueError,
            match=r'`q` has NaN/inf values in 1 of 3 '
            r'rows \(first: row 2\)'):
        as_descriptors(np.array([[1.], [2.], [np.nan]]), 'q')
    with pytest.raises(ValueError, match=r'`q` has dimension 3, expected 4'):
        as_descriptors(np.ones((2, 3)), 'q', dim=4)
    with pytest.raises(
            TypeError,
            match='`q` must be a numpy array or a '
            'torch tensor, got list'):
        as_descriptors([[1.0]], 'q')
    # Without normalising, float64 beyond float32 cannot be kept.
    with pytest.raises(ValueError, match='beyond float32.* row 1'):
        as_descriptors(np.array([[1.], [1e300]]), 'q')


@pytest.mark.parametrize('scale, dtype', [(1, np.float32), (1e19, np.float32),
                                          (1e-30, np.float32),
                                          (1e300, np.float64),
                                          (1e-300, np.float64)])
def test_any_finite_magnitude_ranks_by_cosine(scale, dtype):
    """1e19 overflowed float32 sums of squares (zero vectors), 1e-30
    underflowed them and float64 1e300 became inf/NaN in float32: each
    row is scaled by a power of two before it is normalised."""
    q, g = Q.astype(dtype) * scale, G.astype(dtype) * scale
    ref_dist = compute_distance(Q, G)
    dist = compute_distance(q, g)
    np.testing.assert_allclose(dist, ref_dist, atol=1e-6)
    order = np.argsort(ref_dist, axis=1, kind='stable')
    assert (np.argsort(dist, axis=1, kind='stable') == order).all()
    assert (search(q, g, 12)[0].numpy() == order).all()
    index = GalleryIndex(4)
    index.add(g)
    assert (index.search(q, 12)[0].numpy() == order).all()
    ref = evaluate_rank_by_features(Q, G, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS)
    got = evaluate_rank_by_features(q, g, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS)
    assert got['mAP'] == pytest.approx(ref['mAP'], abs=1e-9)
    # Unit rows, never zero or NaN.
    unit = as_descriptors(q, 'q', normalize=True)
    torch.testing.assert_close(unit.norm(dim=1), torch.ones(len(q)))


def test_normal_rows_normalise_bit_identically_to_f_normalize():
    """Scaling only rows far from 1 keeps every other result unchanged."""
    x = torch.from_numpy(G)
    ref = torch.nn.functional.normalize(x, dim=1)
    assert torch.equal(as_descriptors(G, 'g', normalize=True), ref)
    mixed = torch.cat([x, x * 2.0**100, torch.zeros(1, 4)])
    out = as_descriptors(mixed, 'g', normalize=True)
    assert torch.equal(out[:12], ref) and torch.equal(out[12:24], ref)
    assert not out[24].any()  # an all-zero row stays zero


def test_numbers_of_any_width_are_descriptors():
    ref = compute_distance(Q, G)
    for q in (Q.astype(np.float16), torch.from_numpy(Q).bfloat16(),
              Q.astype('>f8')):
        np.testing.assert_allclose(compute_distance(q, G), ref, atol=1e-2)
    ints = np.array([[3, 0], [0, 2]])
    assert as_descriptors(ints, 'q').dtype == torch.float32
    np.testing.assert_array_equal(
        compute_distance(ints, ints), compute_distance(ints * 1., ints * 1.))


def _label_entry_points(bad):
    """Every public callable that takes ids, fed ``bad`` as gallery pids."""
    dist = compute_distance(Q, G)
    return dict(
        evaluate_rank=lambda: evaluate_rank(dist, Q_PIDS, bad, Q_CAMS, G_CAMS),
        evaluate_rank_by_features=lambda: evaluate_rank_by_features(
            Q, G, Q_PIDS, bad, Q_CAMS, G_CAMS),
        rank_gallery=lambda: rank_gallery(dist, 3, Q_PIDS, bad, Q_CAMS, G_CAMS
                                          ),
        search=lambda: search(Q, G, 3, Q_PIDS, Q_CAMS, bad, G_CAMS),
        gallery_index_add=lambda: GalleryIndex(4).add(G, bad, G_CAMS),
        topk_metrics=lambda: topk_metrics(
            np.zeros((5, 3), np.int64), Q_PIDS, Q_CAMS, bad, G_CAMS),
    )


@pytest.mark.parametrize('name, bad', [
    ('fraction', np.r_[1.5, np.arange(11.)]),
    ('NaN', np.r_[np.nan, np.arange(11.)]),
    ('inf', np.r_[np.arange(11.), np.inf]),
    ('bool', np.ones(12, bool)),
    ('strings', np.array(['a'] * 12)),
    ('wrong length', np.arange(11)),
    ('2-D', np.arange(12).reshape(12, 1)),
    ('beyond int64', np.full(12, 2**64 - 1, np.uint64)),
])
def test_bad_ids_are_refused_alike_everywhere(name, bad):
    if name == 'wrong length':  # topk_metrics takes G from the pids
        errors = {
            k: _error(fn)
            for k, fn in _label_entry_points(bad).items()
            if k != 'topk_metrics'
        }
    else:
        errors = {k: _error(fn) for k, fn in _label_entry_points(bad).items()}
    assert len(set(errors.values())) == 1, errors


def test_whole_number_ids_of_any_type_are_accepted_alike():
    """Ids read from MATLAB files are doubles: whole floats are ids."""
    ref = evaluate_rank_by_features(Q, G, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS)
    ref_idx = search(Q, G, 5, Q_PIDS, Q_CAMS, G_PIDS, G_CAMS)[0]
    for pids in (G_PIDS.astype(np.float64), G_PIDS.astype(np.uint8),
                 torch.from_numpy(G_PIDS), list(G_PIDS)):
        res = evaluate_rank_by_features(Q, G, Q_PIDS, pids, Q_CAMS, G_CAMS)
        assert res['mAP'] == ref['mAP']
        idx = search(Q, G, 5, Q_PIDS, Q_CAMS, pids, G_CAMS)[0]
        assert torch.equal(idx, ref_idx)
        assert as_labels(pids, 'p', 12).dtype == np.int64

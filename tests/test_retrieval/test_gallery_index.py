# Copyright (c) mmreid_video contributors. All rights reserved.
"""GalleryIndex: exact lists equal rank_gallery, exclusion rules, files,
input checks (faiss specifics in test_backends/test_faiss.py)."""
import os

import numpy as np
import pytest
import torch
from fixture_descriptors import clustered, tied_data

from mmreid_video.evaluation.functional import (compute_distance,
                                                evaluate_rank, rank_gallery)
from mmreid_video.retrieval import GalleryIndex, IndexFileError, search


@pytest.mark.parametrize('seed', [0, 1])
def test_exact_equals_rank_gallery_with_ties(seed):
    q, g, q_pids, g_pids, q_cams, g_cams = tied_data(seed)
    index = GalleryIndex(16, block_size=7)
    index.add(g[:100], g_pids[:100], g_cams[:100])
    index.add(torch.from_numpy(g[100:]), g_pids[100:], g_cams[100:])
    dist = compute_distance(q, g)
    for topk in (1, 10, 300):
        # re-ID rule
        ref = rank_gallery(dist, topk, q_pids, g_pids, q_cams, g_cams)
        idx, d = index.search(q, topk, q_pids, q_cams)
        np.testing.assert_array_equal(idx.numpy(), ref[0])
        np.testing.assert_array_equal(d.numpy(), ref[1])
        api = search(q, g, topk, q_pids, q_cams, g_pids, g_cams)
        np.testing.assert_array_equal(api[0].numpy(), ref[0])
        # no labels: nothing excluded, ties in gallery order
        ref = rank_gallery(dist, topk, np.zeros(40), np.ones(300),
                           np.zeros(40), np.ones(300))
        np.testing.assert_array_equal(index.search(q, topk)[0].numpy(), ref[0])
    assert (np.diff(ref[1], axis=1) == 0).sum() > 1000  # many ties


def test_same_camera_exclusion():
    q, g, _, g_pids, q_cams, g_cams = tied_data(3)
    index = GalleryIndex(16)
    index.add(g, camids=g_cams)
    idx, d = index.search(q, 50, query_camids=q_cams)
    assert (idx >= 0).all()
    assert (g_cams[idx.numpy()] != q_cams[:, None]).all()
    np.testing.assert_array_equal(
        idx.numpy(),
        search(q, g, 50, query_camids=q_cams, gallery_camids=g_cams)[0])
    # every other camera's items, then padding
    idx, d = index.search(q[:1], 300, query_camids=q_cams[:1])
    num_other = (g_cams != q_cams[0]).sum()
    assert (idx[0, :num_other] >= 0).all() and (idx[0, num_other:] == -1).all()
    assert torch.isinf(d[0, num_other:]).all()
    with pytest.raises(ValueError, match='no pids'):
        index.search(q, 5, query_pids=np.zeros(40, int), query_camids=q_cams)
    with pytest.raises(ValueError, match='query_pids need query_camids'):
        index.search(q, 5, query_pids=np.zeros(40, int))


def test_exact_on_float_data_and_topk_metrics():
    feats, pids, cams = clustered(0)
    q, g = feats[::6], np.delete(feats, np.s_[::6], 0)
    q_pids, g_pids = pids[::6], np.delete(pids, np.s_[::6])
    q_cams, g_cams = cams[::6], np.delete(cams, np.s_[::6])
    index = GalleryIndex(32)
    index.add(g, g_pids, g_cams)
    idx, d = index.search(q, 20, q_pids, q_cams)
    ref = search(q, g, 20, q_pids, q_cams, g_pids, g_cams)
    np.testing.assert_array_equal(idx.numpy(), ref[0].numpy())
    np.testing.assert_array_equal(d.numpy(), ref[1].numpy())
    # with the whole list, mAP@k is full mAP and R1 is CMC rank 1
    res = index.evaluate(q, q_pids, q_cams, topk=len(g))
    full = evaluate_rank(
        compute_distance(q, g), q_pids, g_pids, q_cams, g_cams)
    assert res[f'mAP@{len(g)}'] == pytest.approx(full['mAP'], abs=1e-9)
    assert res['R1'] == pytest.approx(full['cmc'][0])
    assert res['R10'] == pytest.approx(full['cmc'][9])
    short = index.evaluate(q, q_pids, q_cams, topk=5)
    assert set(short) == {'R1', 'R5', 'mAP@5', 'num_valid_queries'}
    assert 0 < short['mAP@5'] <= 1


@pytest.mark.parametrize('mode', ['exact', 'compressed'])
def test_save_load_round_trip_and_merge(tmp_path, mode):
    feats, pids, cams = clustered(2)
    params = dict(nlist=8, pq_m=4, shortlist=30) if mode == 'compressed' \
        else {}
    one = GalleryIndex(32, mode, **params)
    one.add(feats, pids, cams)
    shards = []
    for part in np.array_split(np.arange(len(feats)), 3):
        shard = GalleryIndex(32, mode, **params)
        shard.add(feats[part], pids[part], cams[part])
        shard.save(tmp_path / f'shard{part[0]}.gidx')
        shards.append(GalleryIndex.load(tmp_path / f'shard{part[0]}.gidx'))
    merged = GalleryIndex.merge(shards)
    q = feats[:25] + 0.1
    ref = one.search(q, 15, pids[:25], cams[:25])
    for other in (merged, ):
        got = other.search(q, 15, pids[:25], cams[:25])
        np.testing.assert_array_equal(got[0].numpy(), ref[0].numpy())
        np.testing.assert_array_equal(got[1].numpy(), ref[1].numpy())
    path = tmp_path / 'one.gidx'
    one.save(path)
    loaded = GalleryIndex.load(path)
    assert loaded.ntotal == len(feats) and loaded.params == one.params
    np.testing.assert_array_equal(loaded.pids, pids)
    got = loaded.search(q, 15, pids[:25], cams[:25])
    np.testing.assert_array_equal(got[0].numpy(), ref[0].numpy())
    # adding to a loaded index keeps working
    loaded.add(feats[:5], pids[:5], cams[:5])
    assert loaded.ntotal == len(feats) + 5
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith('.')] == []


def test_bad_files_name_the_file(tmp_path):
    feats, pids, cams = clustered(3)
    index = GalleryIndex(32)
    index.add(feats, pids, cams)
    path = tmp_path / 'g.gidx'
    index.save(path)
    data = path.read_bytes()
    bad = tmp_path / 'bad.gidx'
    for content, message in [
        (data[:len(data) // 2], 'truncated'), (data[:10], 'truncated'),
        (b'not an index' * 10, 'not a GalleryIndex'),
        (data[:5000] + bytes([data[5000] ^ 1]) + data[5001:], 'corrupt')
    ]:
        bad.write_bytes(content)
        with pytest.raises(IndexFileError, match=f'bad.gidx.*{message}'):
            GalleryIndex.load(bad)
    with pytest.raises(FileNotFoundError, match='missing.gidx'):
        GalleryIndex.load(tmp_path / 'missing.gidx')


def test_input_checks():
    index = GalleryIndex(8)
    with pytest.raises(ValueError, match='empty'):
        index.search(np.ones((1, 8), np.float32))
    with pytest.raises(ValueError, match='dimension 4, expected 8'):
        index.add(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match='NaN/inf values .* row 1'):
        index.add(np.array([[1.] * 8, [np.nan] * 8], np.float32))
    with pytest.raises(TypeError, match='real numbers'):
        index.add(np.ones((2, 8), bool))
    with pytest.raises(ValueError, match=r'shape \(2,\)'):
        index.add(np.ones((2, 8), np.float32), pids=[1, 2, 3])
    with pytest.raises(ValueError, match='`pids` has 1 NaN/inf'):
        index.add(np.ones((2, 8), np.float32), pids=np.array([1.5, np.nan]))
    with pytest.raises(ValueError, match='`camids` .* not integer ids'):
        index.add(np.ones((2, 8), np.float32), camids=np.array([1.5, 2]))
    index.add(np.ones((2, 8), np.float32), pids=[1, 2], camids=[0, 0])
    with pytest.raises(ValueError, match='same labels'):
        index.add(np.ones((2, 8), np.float32))
    with pytest.raises(ValueError, match='topk'):
        index.search(np.ones((1, 8), np.float32), topk=0)
    with pytest.raises(TypeError, match='Unknown exact GalleryIndex'):
        GalleryIndex(8, nlist=4)
    with pytest.raises(ValueError, match='mode must be'):
        GalleryIndex(8, 'hnsw')
    with pytest.raises(ValueError, match="backend must be one of .*'faiss'"):
        GalleryIndex(8, backend='annoy')
    with pytest.raises(ValueError, match='CPU only'):
        GalleryIndex(8, 'compressed', pq_m=2, use_gpu=True)
    with pytest.raises(ValueError, match='needs >= 16 descriptors'):
        small = GalleryIndex(8, 'compressed', nlist=16, pq_m=2, pq_bits=4)
        small.add(np.random.rand(5, 8))
        small.search(np.random.rand(1, 8))


def test_docs_snippet_runs(tmp_path, monkeypatch):
    doc = os.path.join(
        os.path.dirname(__file__), '..', '..', 'docs', 'retrieval.md')
    with open(doc) as f:
        text = f.read()
    snippet = text.split('```python\n')[1].split('```')[0]
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(snippet, doc, 'exec'), scope)
    merged = scope['merged']
    assert merged.ntotal == 5000 and scope['indices'].shape == (4, 10)
    assert (tmp_path / 'gallery.gidx').exists()
    # Joined with the template's training, not trained again.
    assert merged.backend.training_id == scope['template'].backend.training_id
    assert merged.backend._ivf.ntotal == 5000

# Copyright (c) mmreid_video contributors. All rights reserved.
"""The faiss backend: compressed recall, trained templates, merging encoded
shards without training or encoding again."""
import os

import numpy as np
import pytest
from fixture_descriptors import clustered

from mmreid_video.retrieval import GalleryIndex
from mmreid_video.retrieval.backends import (BACKENDS, GalleryBackend,
                                             get_backend)
from mmreid_video.retrieval.backends._ivf import training_id
from mmreid_video.retrieval.backends.faiss import FaissBackend

PARAMS = dict(nlist=16, pq_m=8, nprobe=4, shortlist=40)


@pytest.mark.slow  # trains IVF-PQ quantizers
@pytest.mark.parametrize('pq_bits', [4, 8])  # fast-scan and IndexIVFPQ
def test_compressed_recall_and_exclusion(tmp_path, pq_bits):
    feats, pids, cams = clustered(1, num_ids=100, per_id=20)
    index = GalleryIndex(
        32,
        'compressed',
        nlist=16,
        pq_m=8,
        pq_bits=pq_bits,
        nprobe=4,
        shortlist=40,
        vectors_dir=str(tmp_path))
    index.add(feats, pids, cams)
    exact = GalleryIndex(32)
    exact.add(feats, pids, cams)
    q = feats[::10] + 0.05
    got = index.search(q, 10, pids[::10], cams[::10])[0].numpy()
    ref = exact.search(q, 10, pids[::10], cams[::10])[0].numpy()
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, ref)])
    assert recall >= 0.9
    same = (pids[got] == pids[::10, None]) & (cams[got] == cams[::10, None])
    assert not same.any()
    assert index.memory_bytes() < 0.5 * exact.memory_bytes()
    assert os.listdir(tmp_path) == []  # the descriptor file is unlinked
    fast_scan = type(index.backend._ivf).__name__ == 'IndexIVFPQFastScan'
    assert fast_scan == (pq_bits == 4)


@pytest.mark.parametrize('dim, pq_m', [(512, 128), (2048, 128), (64, 64),
                                       (100, 100), (1000, 125), (7, 7)])
def test_default_pq_m_is_the_largest_divisor_up_to_128(dim, pq_m):
    index = GalleryIndex(dim, 'compressed', nlist=4)
    assert index.params['pq_m'] == pq_m
    if dim == 64:  # the default builds and searches
        feats, pids, cams = clustered(4, dim=64)
        index.add(feats, pids, cams)
        assert index.search(feats[:3], 5)[0].shape == (3, 5)
        assert index.backend._ivf.pq.M == 64


def _template(path, sample, **params):
    """A trained, empty compressed index saved at ``path``."""
    template = GalleryIndex(32, 'compressed', **dict(PARAMS, **params))
    template.train(sample)
    assert template.ntotal == 0 and template.backend.is_trained
    template.save(path)
    return template.backend.training_id


def test_template_shards_merge_by_their_encoded_lists(tmp_path):
    feats, pids, cams = clustered(5, num_ids=100, per_id=20)
    tid = _template(tmp_path / 'trained.gidx', feats)
    # One index encoded with the template, and three shards of it.
    one = GalleryIndex.load(tmp_path / 'trained.gidx')
    one.add(feats, pids, cams)
    paths = []
    for i, rows in enumerate(np.array_split(np.arange(len(feats)), 3)):
        shard = GalleryIndex.load(tmp_path / 'trained.gidx')
        shard.add(feats[rows], pids[rows], cams[rows])
        assert shard.backend.training_id == tid
        paths.append(tmp_path / f'shard{i}.gidx')
        shard.save(paths[-1])
    shards = [GalleryIndex.load(p) for p in paths]
    codes = [s.backend._ivf for s in shards]
    merged = GalleryIndex.merge(shards)
    # Joined, not trained again: the training and the shards' codes kept,
    # the descriptors still the shard files' memory maps.
    assert merged.backend.training_id == tid
    assert merged.backend._ivf.ntotal == len(feats)
    assert [c.ntotal for c in codes] == [s.ntotal for s in shards]
    assert all(isinstance(p, np.memmap) for p in merged.backend.vectors)
    q = feats[::7] + 0.05
    ref = one.search(q, 10, pids[::7], cams[::7])
    for index in (merged, ):
        got = index.search(q, 10, pids[::7], cams[::7])
        np.testing.assert_array_equal(got[0].numpy(), ref[0].numpy())
        np.testing.assert_array_equal(got[1].numpy(), ref[1].numpy())
    merged.save(tmp_path / 'merged.gidx')
    again = GalleryIndex.load(tmp_path / 'merged.gidx')
    assert again.backend.training_id == tid
    np.testing.assert_array_equal(again.pids, pids)
    got = again.search(q, 10, pids[::7], cams[::7])
    np.testing.assert_array_equal(got[0].numpy(), ref[0].numpy())
    # The merged index keeps encoding with the template's training.
    again.add(feats[:5], pids[:5], cams[:5])
    assert again.backend._ivf.ntotal == len(feats) + 5


def test_merge_of_different_trainings_names_both_files(tmp_path):
    feats, pids, cams = clustered(6, num_ids=40, per_id=10)
    halves = np.array_split(np.arange(len(feats)), 2)
    for i, rows in enumerate(halves):
        # Each trained on its own descriptors: two trainings.
        shard = GalleryIndex(32, 'compressed', **PARAMS)
        shard.add(feats[rows], pids[rows], cams[rows])
        shard.train()
        shard.save(tmp_path / f'own{i}.gidx')
    shards = [GalleryIndex.load(tmp_path / f'own{i}.gidx') for i in (0, 1)]
    assert shards[0].backend.training_id != shards[1].backend.training_id
    with pytest.raises(
            ValueError,
            match=f'{tmp_path}/own1.gidx.*{tmp_path}/own0.gidx'
            '.*trained apart'):
        GalleryIndex.merge(shards)
    # An untrained shard is another training too.
    bare = GalleryIndex(32, 'compressed', **PARAMS)
    bare.add(feats[:3], pids[:3], cams[:3])
    with pytest.raises(ValueError, match='an index in memory.*trained apart'):
        GalleryIndex.merge([shards[0], bare])
    # retrain=True trains afresh over all, as one index of all rows does.
    merged = GalleryIndex.merge(shards, retrain=True)
    assert not merged.backend.is_trained
    one = GalleryIndex(32, 'compressed', **PARAMS)
    one.add(feats, pids, cams)
    q = feats[::5]
    np.testing.assert_array_equal(
        merged.search(q, 5)[0].numpy(),
        one.search(q, 5)[0].numpy())
    assert merged.backend.training_id == one.backend.training_id


def test_training_id_is_the_training(tmp_path):
    """Equal trainings have equal ids, in any process; the id survives
    saving and is recomputed for a file written without one."""
    feats, _, _ = clustered(7, num_ids=40, per_id=10)
    a = _template(tmp_path / 'a.gidx', feats)
    b = _template(tmp_path / 'b.gidx', feats.astype(np.float64))
    c = _template(tmp_path / 'c.gidx', feats, seed=1)
    assert a == b != c and len(a) == 16
    loaded = GalleryIndex.load(tmp_path / 'a.gidx')
    loaded.add(feats)
    # What load() computes for a file saved before ids were stored.
    backend = loaded.backend
    assert training_id(backend._faiss, backend._ivf) == a


def test_backend_registry_and_interface(tmp_path):
    assert get_backend('faiss') is FaissBackend and 'faiss' in BACKENDS
    assert issubclass(FaissBackend, GalleryBackend)
    with pytest.raises(TypeError, match='abstract'):
        GalleryBackend(4, 'exact')
    index = GalleryIndex(4)
    assert index.backend.name == 'faiss'
    with pytest.raises(NotImplementedError, match='faiss backend cannot'):
        index.remove([0])
    with pytest.raises(ValueError, match='exact mode is not trained|Only'):
        index.train()
    # An empty index saves and loads (a template has no rows yet).
    index.save(tmp_path / 'empty.gidx')
    assert GalleryIndex.load(tmp_path / 'empty.gidx').ntotal == 0

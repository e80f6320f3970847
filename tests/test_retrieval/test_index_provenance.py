# Copyright (c) mmreid_video contributors. All rights reserved.
"""GalleryIndex provenance (saved, merged, compared with queries) and index
files changed on disk after load."""
import os
import shutil

import numpy as np
import pytest

from mmreid_video.retrieval import GalleryIndex, IndexFileError
from mmreid_video.utils.provenance import ProvenanceError, make_provenance

A = make_provenance('w' * 16, 'c' * 16, 'p' * 16, 'd' * 16)
F = np.random.default_rng(0).standard_normal((20, 8)).astype(np.float32)


def _saved(path, provenance=A, feats=F):
    index = GalleryIndex(8)
    index.add(feats, np.arange(len(feats)), np.zeros(len(feats), int))
    index.provenance = provenance
    index.save(str(path))
    return path


def test_provenance_is_saved_merged_and_checked(tmp_path):
    a = GalleryIndex.load(str(_saved(tmp_path / 'a.gidx')))
    assert a.provenance == A
    other_data = dict(A, data='e' * 16)
    b = GalleryIndex.load(str(_saved(tmp_path / 'b.gidx', other_data)))
    merged = GalleryIndex.merge([a, b])  # one model, two data sets
    assert merged.provenance['weights'] == A['weights']
    assert merged.provenance['data'] not in (A['data'], 'e' * 16)
    c = GalleryIndex.load(
        str(_saved(tmp_path / 'c.gidx', dict(A, pipeline='q' * 16))))
    with pytest.raises(ProvenanceError) as info:
        GalleryIndex.merge([a, c])
    assert f'shard 1 ({tmp_path}/c.gidx)' in str(info.value)
    assert f'pipeline {"q" * 16} vs {"p" * 16}' in str(info.value)
    with pytest.raises(ProvenanceError, match='records no provenance'):
        GalleryIndex.merge(
            [a, GalleryIndex.load(str(_saved(tmp_path / 'd.gidx', None)))])
    # queries: another data set passes, another model does not
    assert a.check_queries(other_data, 'queries') is None
    with pytest.raises(ProvenanceError, match='allow-foreign-queries'):
        a.check_queries(dict(A, config='x' * 16), 'queries q/')
    assert 'config' in a.check_queries(
        dict(A, config='x' * 16), 'q/', allow_foreign=True)
    with pytest.raises(ValueError, match='GalleryIndex.provenance'):
        a.provenance = dict(weights='w')


def test_file_changed_in_place_after_load_is_refused(tmp_path):
    path = _saved(tmp_path / 'g.gidx')
    other = _saved(tmp_path / 'o.gidx', feats=F[::-1].copy())
    index = GalleryIndex.load(str(path))
    before = index.search(F[:3], 5)[0].tolist()
    shutil.copy(other, tmp_path / 'new.gidx')
    os.replace(tmp_path / 'new.gidx', path)  # a rename: harmless
    assert index.search(F[:3], 5)[0].tolist() == before
    index = GalleryIndex.load(str(path))
    with open(other, 'rb') as src, open(path, 'r+b') as dst:
        dst.write(src.read())  # in place: same inode, size and mtime order
    with pytest.raises(IndexFileError, match=f'{path}: changed on disk'):
        index.search(F[:3], 5)
    with pytest.raises(IndexFileError, match='changed on disk'):
        index.save(str(tmp_path / 'copy.gidx'))  # reads the descriptors
    assert not (tmp_path / 'copy.gidx').exists()
    index = GalleryIndex.load(str(path))  # now holds other's descriptors
    expected = GalleryIndex.load(str(other)).search(F[:3], 5)[0].tolist()
    assert expected != before
    os.remove(path)  # deleted: the mapping keeps the file
    assert index.search(F[:3], 5)[0].tolist() == expected

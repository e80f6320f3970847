# Copyright (c) mmreid_video contributors. All rights reserved.
"""Shard files of tools/extract_features.py: checks and named errors."""
import json
import os
import time

import numpy as np
import pytest

from mmreid_video.fileio._owner import host_tag
from mmreid_video.retrieval.feature_shards import (PREVIEW_FRAMES,
                                                   preview_frames,
                                                   read_provenance,
                                                   read_shards, shard_path,
                                                   write_meta, write_shard)
from mmreid_video.utils.provenance import ProvenanceError, make_provenance

PROV = make_provenance('a' * 16, 'c' * 16, 'p' * 16, 'd' * 16)


def _shard(rows, dim=4):
    n = len(rows)
    return dict(
        feats=np.ones((n, dim), np.float32),
        indices=np.asarray(rows, np.int64),
        pids=np.arange(n),
        camids=np.zeros(n, np.int64),
        is_query=np.arange(n) % 2 == 0,
        is_gallery=np.ones(n, bool),
        tracklet_ids=np.array([f't{i}' for i in rows]))


def test_round_trip_and_named_errors(tmp_path):
    meta = dict(data='test', num_tracklets=5, shard_size=3, provenance=PROV)
    write_meta(str(tmp_path), meta)
    write_shard(shard_path(str(tmp_path), 0), _shard(range(3)), PROV)
    with pytest.raises(FileNotFoundError, match='1 of 2 shards.*00001'):
        read_shards(str(tmp_path))
    write_shard(shard_path(str(tmp_path), 1), _shard(range(3, 5)), PROV)
    out = read_shards(str(tmp_path))
    assert read_provenance(str(tmp_path)) == PROV
    assert out['indices'].tolist() == [0, 1, 2, 3, 4]
    assert read_shards(str(tmp_path), 'query')['indices'].tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match='meta.json.*shard_size'):
        write_meta(str(tmp_path), dict(meta, shard_size=4))
    # a shard holding other rows, a damaged shard
    write_shard(shard_path(str(tmp_path), 1), _shard(range(2, 4)), PROV)
    with pytest.raises(ValueError, match='shard_00001.npz holds other'):
        read_shards(str(tmp_path))
    with open(shard_path(str(tmp_path), 1), 'wb') as f:
        f.write(b'PK\x03\x04garbage')
    with pytest.raises(ValueError, match='shard_00001.npz is not a'):
        read_shards(str(tmp_path))
    (tmp_path / 'meta.json').write_text(json.dumps(dict(shard_size=0)))
    with pytest.raises(ValueError, match='meta.json: `num_tracklets`'):
        read_shards(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='extract_features'):
        read_shards(str(tmp_path / 'nowhere'))


def test_shards_of_another_extraction_or_dim_are_named(tmp_path):
    folder = str(tmp_path)
    write_meta(folder, dict(num_tracklets=5, shard_size=3, provenance=PROV))
    write_shard(shard_path(folder, 0), _shard(range(3)), PROV)
    other = dict(PROV, weights='b' * 16)
    write_shard(shard_path(folder, 1), _shard(range(3, 5)), other)
    with pytest.raises(ProvenanceError) as info:
        read_shards(folder)
    msg = str(info.value)
    assert f'shard {shard_path(folder, 1)}' in msg
    assert f'weights {"b" * 16} vs {"a" * 16}' in msg
    assert 'pipeline' not in msg.split('.')[0]  # only what differs
    write_shard(shard_path(folder, 1), _shard(range(3, 5), dim=5), PROV)
    with pytest.raises(ValueError, match='shard_00001.npz holds 5-dim'):
        read_shards(folder)
    # resuming the folder with another model, or with none recorded
    with pytest.raises(ProvenanceError, match='weights'):
        write_meta(folder,
                   dict(num_tracklets=5, shard_size=3, provenance=other))
    old = tmp_path / 'old'
    old.mkdir()
    (old / 'meta.json').write_text(
        json.dumps(dict(num_tracklets=5, shard_size=3)))
    with pytest.raises(ProvenanceError, match='records no provenance'):
        write_meta(
            str(old), dict(num_tracklets=5, shard_size=3, provenance=PROV))


def test_write_removes_only_stale_temporary_files(tmp_path):
    """A run killed mid-write leaves ``.shard_*.npz.<host>-<pid>-<hex>.tmp``;
    the next write of that shard removes those of dead writers (and old,
    unnamed ones untouched for an hour), never a live writer's or another
    shard's."""
    host, hexa = host_tag(), '0123456789ab'
    dead, live = 999999999, os.getpid()
    stale = [
        f'.shard_00000.npz.{host}-{dead}-{hexa}.tmp',
        f'.meta.json.{host}-{dead}-{hexa}.tmp',
        '.shard_00000.npz.0123456789ab.tmp',  # older naming, an hour old
    ]
    kept = [
        f'.shard_00000.npz.{host}-{live}-{hexa}.tmp',  # a live writer
        f'.shard_00000.npz.{"0" * 8}-{dead}-{hexa}.tmp',  # another host
        f'.shard_00001.npz.{host}-{dead}-{hexa}.tmp',  # another shard
        '.shard_00000.npz.old.0123456789ab.tmp',  # not a temp of shard 0
        'shard_00000.npz.0123456789ab.tmp'
    ]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b'partial')
    hour_ago = time.time() - 3700
    os.utime(tmp_path / stale[2], (hour_ago, hour_ago))
    write_meta(
        str(tmp_path),
        dict(data='test', num_tracklets=5, shard_size=3, provenance=PROV))
    write_shard(shard_path(str(tmp_path), 0), _shard(range(3)), PROV)
    assert sorted(
        os.listdir(tmp_path)) == sorted(kept +
                                        ['meta.json', 'shard_00000.npz'])


def test_optional_arrays_of_newer_shards(tmp_path):
    """``pid_known`` and ``preview_frames``: read when every shard has them,
    ``pid_known`` True for older shards, wrong shapes named."""
    write_meta(
        str(tmp_path),
        dict(data='x', num_tracklets=5, shard_size=3, provenance=PROV))
    frames = np.array([
        preview_frames([f'/d/{i}.jpg' for i in range(n)]) for n in (1, 3, 20)
    ])
    assert frames.shape == (3, PREVIEW_FRAMES)
    assert frames[0].tolist() == ['/d/0.jpg'] + [''] * (PREVIEW_FRAMES - 1)
    assert frames[2][[0, -1]].tolist() == ['/d/0.jpg', '/d/19.jpg']
    newer = dict(
        _shard(range(3)),
        pid_known=np.array([True, False, False]),
        preview_frames=frames)
    write_shard(shard_path(str(tmp_path), 0), newer, PROV)
    write_shard(shard_path(str(tmp_path), 1), _shard(range(3, 5)),
                PROV)  # older
    out = read_shards(str(tmp_path))
    assert out['pid_known'].tolist() == [True, False, False, True, True]
    assert 'preview_frames' not in out
    write_shard(
        shard_path(str(tmp_path), 1),
        dict(
            _shard(range(3, 5)),
            pid_known=np.ones(2, bool),
            preview_frames=frames[:2]), PROV)
    out = read_shards(str(tmp_path), 'query')
    # query rows: 0 and 2 of shard 0, 3 (its row 0) of shard 1
    assert out['preview_frames'].tolist() == frames[[0, 2, 0]].tolist()
    write_shard(
        shard_path(str(tmp_path), 1),
        dict(_shard(range(3, 5)), preview_frames=frames[0]), PROV)
    with pytest.raises(
            ValueError,
            match=r'shard_00001.npz: preview_frames '
            r'is <U\d+ \(8,\), expected 2-d'):
        read_shards(str(tmp_path))

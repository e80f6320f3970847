# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/extract_features.py (sharded, resumable, distributed),
tools/build_index.py and tools/search.py end to end."""
import argparse
import json
import os
import signal
import sys
import time

import numpy as np
import pytest
import torch
from mmengine.config import Config, DictAction

from mmreid_video.apis import init_model
from mmreid_video.retrieval import GalleryIndex, search
from mmreid_video.retrieval.feature_shards import read_shards, shard_path
from tool_runner import DEMO_CONFIG, run_tool, start_tool, tiny_cfg_options


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory, tiny_mars_root):
    """Random weights of the tiny demo model."""
    cfg = Config.fromfile(DEMO_CONFIG)
    options = argparse.Namespace()
    DictAction([], 'opts')(None, options, tiny_cfg_options(tiny_mars_root))
    cfg.merge_from_dict(options.opts)
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp('ckpt') / 'model.pth')
    torch.save({'state_dict': init_model(cfg).state_dict()}, path)
    return path


def _args(checkpoint, data_root, out, shard_size):
    return [
        'tools/extract_features.py', DEMO_CONFIG, checkpoint, '--data', 'test',
        '--out',
        str(out), '--shard-size',
        str(shard_size), '--cfg-options', *tiny_cfg_options(data_root)
    ]


@pytest.fixture(scope='module')
def reference(tmp_path_factory, checkpoint, tiny_mars_root):
    """A one-process run with two shards."""
    out = tmp_path_factory.mktemp('ref')
    run_tool([sys.executable, *_args(checkpoint, tiny_mars_root, out, 10)])
    return out


def _same_features(got, ref):
    for key in ('indices', 'pids', 'camids', 'is_query', 'is_gallery',
                'tracklet_ids'):
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
    np.testing.assert_allclose(got['feats'], ref['feats'], atol=1e-5)


def test_two_process_gloo_run_equals_one_process(tmp_path, checkpoint,
                                                 tiny_mars_root, reference,
                                                 free_port):
    ref = read_shards(str(reference))
    assert len(ref['indices']) > 10  # so both shards hold tracklets
    proc = run_tool([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
        '--master_port',
        str(free_port), *_args(checkpoint, tiny_mars_root, tmp_path, 10),
        '--launcher', 'pytorch'
    ])
    assert f'[{10}/{10}]' in proc.stdout  # rank 0's share, one shard
    assert sorted(os.listdir(tmp_path)) == [
        'meta.json', 'shard_00000.npz', 'shard_00001.npz'
    ]
    _same_features(read_shards(str(tmp_path)), ref)


def test_killed_run_resumes_without_recomputing(tmp_path, checkpoint,
                                                tiny_mars_root, reference):
    cmd = [sys.executable, *_args(checkpoint, tiny_mars_root, tmp_path, 1)]
    proc = start_tool(cmd)
    start = time.time()
    while not os.path.exists(shard_path(str(tmp_path), 0)):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() - start < 300
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = {
        name: os.stat(tmp_path / name)
        for name in os.listdir(tmp_path) if name.startswith('shard_')
    }
    assert done and not [
        n
        for n in os.listdir(tmp_path) if n[0] == '.' and not n.endswith('.tmp')
    ]
    out = run_tool(cmd).stdout
    assert f'skipping {len(done)} complete' in out
    for name, stat in done.items():  # untouched: not recomputed
        now = os.stat(tmp_path / name)
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]
    _same_features(read_shards(str(tmp_path)), read_shards(str(reference)))


def test_build_index_and_search_cli(tmp_path, reference):
    index = tmp_path / 'gallery.gidx'
    run_tool([
        sys.executable, 'tools/build_index.py',
        str(reference), '--out',
        str(index)
    ])
    out = tmp_path / 'results.json'
    run_tool([
        sys.executable, 'tools/search.py',
        str(index),
        str(reference), '--out',
        str(out), '--topk', '5', '--metrics', '--gallery-features',
        str(reference)
    ])
    with open(out) as f:
        res = json.load(f)
    q, g = read_shards(str(reference),
                       'query'), read_shards(str(reference), 'gallery')
    expected, _ = search(q['feats'], g['feats'], 5, q['pids'], q['camids'],
                         g['pids'], g['camids'])
    assert res['indices'] == expected.tolist()
    assert res['query_tracklet_ids'] == q['tracklet_ids'].tolist()
    assert res['gallery_tracklet_ids'][0][0] == g['tracklet_ids'][expected[0,
                                                                           0]]
    assert set(res['metrics']) == {'R1', 'R5', 'mAP@5', 'num_valid_queries'}


def test_build_index_shards_of_one_training_merge_cli(tmp_path, reference):
    """--train-only writes a template, --trained encodes shards with it,
    --merge joins their encoded lists: the result equals one index encoded
    with that training."""
    build = [sys.executable, 'tools/build_index.py']
    trained = str(tmp_path / 'trained.gidx')
    out = run_tool([
        *build,
        str(reference), '--out', trained, '--subset', 'all', '--mode',
        'compressed', '--param', 'nlist=2', 'nprobe=2', '--train-only'
    ]).stdout
    assert 'a trained template (training ' in out
    q, g = read_shards(str(reference),
                       'query'), read_shards(str(reference), 'gallery')
    run_tool([
        *build,
        str(reference), '--out',
        str(tmp_path / 'query.gidx'), '--subset', 'query', '--trained',
        trained
    ])
    shard = GalleryIndex.load(trained)  # the Python equivalent
    shard.add(g['feats'], g['pids'], g['camids'])
    shard.save(tmp_path / 'gallery.gidx')
    merged = str(tmp_path / 'merged.gidx')
    run_tool([
        *build, '--merge',
        str(tmp_path / 'query.gidx'),
        str(tmp_path / 'gallery.gidx'), '--out', merged
    ])
    one = GalleryIndex.load(trained)
    for part in (q, g):
        one.add(part['feats'], part['pids'], part['camids'])
    got = GalleryIndex.load(merged)
    assert got.backend.training_id == one.backend.training_id
    for index in (got, one):
        assert index.ntotal == len(q['feats']) + len(g['feats'])
    np.testing.assert_array_equal(
        got.search(q['feats'], 5)[0].numpy(),
        one.search(q['feats'], 5)[0].numpy())

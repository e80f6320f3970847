# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/extract_features.py (sharded, resumable, distributed),
tools/build_index.py and tools/search.py end to end."""
import json
import os
import os.path as osp
import signal
import sys
import time

import cv2
import numpy as np
import pytest
from tool_runner import (DEMO_CONFIG, load_tool, run_tool, start_tool,
                         tiny_cfg_options)

from mmreid_video.datasets import MARS
from mmreid_video.retrieval import GalleryIndex, search
from mmreid_video.retrieval.feature_shards import read_shards, shard_path
from mmreid_video.retrieval.search_results import read_search_results
from mmreid_video.visualization import (QUERY_COLOR, UNKNOWN_COLOR,
                                        RankedListLayout, draw_search_figures,
                                        search_rows)

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def checkpoint(tiny_trained_run):
    """The session's tiny trained demo model."""
    return tiny_trained_run.checkpoint


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
    expected, dists = search(q['feats'], g['feats'], 5, q['pids'], q['camids'],
                             g['pids'], g['camids'])
    assert [[r['row'] for r in record['results']] for record in res['queries']
            ] == [[i for i in row if i >= 0] for row in expected.tolist()]
    first = res['queries'][0]
    assert [r['tracklet_id']
            for r in res['queries']] == q['tracklet_ids'].tolist()
    assert (first['pid'], first['camid']) == (q['pids'][0], q['camids'][0])
    row = expected[0, 0]
    assert first['results'][0] == dict(
        rank=1,
        row=int(row),
        distance=pytest.approx(float(dists[0, 0])),
        tracklet_id=g['tracklet_ids'][row],
        pid=int(g['pids'][row]),
        camid=int(g['camids'][row]),
        frames=[f for f in g['preview_frames'][row] if f])
    assert set(res['metrics']) == {'R1', 'R5', 'mAP@5', 'num_valid_queries'}
    assert 1 < res['metrics']['R5'] <= 100  # in %
    assert res['protocol'] == dict(
        distance='cosine',
        exclusion='same pid and camera as the query',
        index_mode='exact',
        index_backend='faiss',
        topk=5,
        metrics='R1/R5/R10 and mAP@5 of the top-5 lists under the re-ID rule '
        '(AP@k over min(positives, k))',
        unit='%')
    assert res['protocol_text'].startswith(
        'cosine distance, excluded: same pid and camera as the query, '
        'index_mode=exact, index_backend=faiss, topk=5, metrics=')
    assert res['protocol_text'].endswith(', values in %')


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
        str(tmp_path / 'query.gidx'), '--subset', 'query', '--trained', trained
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


def _without_faiss(tool, *args):
    """A tool's command line in a process where ``import faiss`` fails."""
    return [
        sys.executable, '-c',
        'import runpy, sys; sys.modules["faiss"] = None; '
        'sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], '
        'run_name="__main__")', tool, *map(str, args)
    ]


def test_own_footage_query_set_searches_and_draws(tmp_path, checkpoint,
                                                  tiny_mars_root, reference,
                                                  monkeypatch, capsys):
    """Issue 24.5: a query-only JSON without pids (one camera known, one
    not) is extracted, searched against an exact index built without faiss,
    with camera exclusion, printed as a table and drawn from the results."""
    test = MARS(data_root=tiny_mars_root, split='test')
    picked = [test.get_data_info(i) for i in (0, 3)]
    query = [
        dict(
            tracklet_id='footage/cam_a',
            camid=picked[0]['camid'],
            frame_paths=picked[0]['frame_paths']),
        dict(
            tracklet_id='footage/cam_b', frame_paths=picked[1]['frame_paths'])
    ]
    (tmp_path / 'mine.json').write_text(json.dumps(dict(query=query)))
    feats, index = tmp_path / 'mine', tmp_path / 'gallery.gidx'
    log = run_tool([
        sys.executable, 'tools/extract_features.py', DEMO_CONFIG, checkpoint,
        '--data',
        str(tmp_path / 'mine.json'), '--out',
        str(feats), '--cfg-options', *tiny_cfg_options(tiny_mars_root)
    ]).stdout
    # Not a terminal: whole progress lines (issue 24.6).
    assert '\r' not in log and '\n[2/2] ' in log
    q = read_shards(str(feats), 'query')
    assert q['pid_known'].tolist() == [False, False]
    assert q['camids'][0] == picked[0]['camid'] and q['camids'][1] < 0
    # Indexed as a gallery, unknown identities leave the index without pids.
    monkeypatch.setattr(sys, 'argv', [
        'build_index.py',
        str(feats), '--out',
        str(tmp_path / 'mine.gidx'), '--subset', 'query'
    ])
    load_tool('tools/build_index.py').main()
    assert '(2 of unknown identity: the index holds no pids' in \
        capsys.readouterr().out
    mine = GalleryIndex.load(str(tmp_path / 'mine.gidx'))
    assert mine.pids is None and mine.camids.tolist() == q['camids'].tolist()
    run_tool(_without_faiss('tools/build_index.py', reference, '--out', index))
    out = tmp_path / 'results.json'
    stdout = run_tool(
        _without_faiss('tools/search.py', index, feats, '--rule', 'camera',
                       '--topk', 3, '--gallery-features', reference, '--out',
                       out)).stdout
    g = read_shards(str(reference), 'gallery')
    rows, dists = search(
        q['feats'],
        g['feats'],
        3,
        query_camids=q['camids'],
        gallery_camids=g['camids'])
    assert (g['camids'][rows[0]] != q['camids'][0]).all()  # camera excluded
    lines = stdout.splitlines()
    assert lines[1] == (
        'Protocol: cosine distance, excluded: same camera as the query '
        '(nothing for 1 query of unknown camera), index_mode=exact, '
        'index_backend=faiss, topk=3')
    assert lines[2].split() == [
        'query', 'pid', 'camid', 'rank', 'distance', 'gallery', 'item', 'pid',
        'camid'
    ]
    table = [line.split() for line in lines[3:9]]
    for qi, camid in ((0, str(picked[0]['camid'])), (1, '?')):
        for rank in range(3):
            row = rows[qi, rank]
            want = [
                str(rank + 1), f'{dists[qi, rank]:.4f}',
                g['tracklet_ids'][row],
                str(g['pids'][row]),
                str(g['camids'][row])
            ]
            head = [f'footage/cam_{"ab"[qi]}', '?', camid] if rank == 0 else []
            assert table[3 * qi + rank] == head + want
    with open(out) as f:
        assert json.load(f)['queries'][1]['camid'] is None

    files = load_tool('tools/visualizations/vis_ranked_list.py').main([
        '--search-results',
        str(out), '--out-dir',
        str(tmp_path / 'figures'), '--topk', '3', '--frames', '2'
    ])
    assert files == [str(tmp_path / 'figures' / 'ranked_list_0.png')]
    image = cv2.imread(files[0])[..., ::-1]
    results = read_search_results(str(out))
    np.testing.assert_array_equal(
        image,
        draw_search_figures(results, [0, 1], 3, frames_per_tracklet=2)[0])
    layout = RankedListLayout(2, 4, frames_per_tracklet=2)
    assert image.shape == layout.shape
    for r in range(2):  # identities unknown: grey gallery cells
        assert tuple(image[layout.box_origin(r, 0)[::-1]]) == QUERY_COLOR
        assert tuple(image[layout.box_origin(r, 1)[::-1]]) == UNKNOWN_COLOR
    panels = search_rows(results, [0, 1], 3, 2)
    assert panels[0][0].lines == ('query', f'cam_a cam {picked[0]["camid"]}')
    assert panels[1][0].lines == ('query', 'cam_b')
    row = rows[1, 0]
    assert panels[1][1][0].lines == (
        f'#1 d={dists[1, 0]:.3f}',
        f'{osp.basename(g["tracklet_ids"][row])} id {g["pids"][row]} '
        f'cam {g["camids"][row]}')

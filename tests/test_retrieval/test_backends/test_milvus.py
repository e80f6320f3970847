# Copyright (c) mmreid_video contributors. All rights reserved.
"""The milvus backend on the real embedded engine (milvus-lite, no mock):
FLAT lists equal exact search (ties aside), the three exclusion rules,
keyed rows, several writing processes, a killed one, errors that name the
collection and its URI."""
import fcntl
import json
import os
import runpy
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from fixture_descriptors import clustered, tied_data

from mmreid_video.evaluation.functional import compute_distance
from mmreid_video.retrieval import GalleryIndex, search
from mmreid_video.retrieval.backends import milvus
from mmreid_video.retrieval.backends.milvus import NEXT_ROW_KEY
from mmreid_video.retrieval.feature_shards import (shard_path, write_meta,
                                                   write_shard)
from mmreid_video.utils.provenance import ProvenanceError, make_provenance

pytest.importorskip('milvus_lite')
# Milvus Lite runs its engine in a process of its own; some tests start
# writers and a server.
pytestmark = pytest.mark.slow
REPO = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


@pytest.fixture(scope='module')
def uri(tmp_path_factory):
    """One embedded engine for the module's collections (one held open,
    so the engine starts once)."""
    path = str(tmp_path_factory.mktemp('milvus') / 'gallery.db')
    keeper = GalleryIndex(4, backend='milvus', uri=path, collection='keeper')
    yield path
    keeper.close()


def assert_equal_ties_aside(got, ref, dist):
    """Milvus's lists are the exact ones up to ties: the same distances
    rank by rank (float32 scores), the same rows ahead of the list's last
    distance, and rows that tie with it at the end (any of those)."""
    (g_idx, g_d), (r_idx, r_d) = [(i.numpy(), d.numpy())
                                  for i, d in (got, ref)]
    np.testing.assert_allclose(g_d, r_d, rtol=0, atol=2e-6)
    ahead = r_d < r_d[:, -1:] - 2e-6
    np.testing.assert_array_equal(g_idx[ahead], r_idx[ahead])
    found = g_idx >= 0
    np.testing.assert_array_equal(found, r_idx >= 0)
    rows = np.nonzero(found)[0]
    np.testing.assert_allclose(
        dist[rows, g_idx[found]], g_d[found], rtol=0, atol=2e-6)


@pytest.mark.parametrize('data', ['ties', 'float'])
def test_flat_lists_equal_exact_search(uri, data):
    if data == 'ties':
        q, g, q_pids, g_pids, q_cams, g_cams = tied_data(0)
    else:
        feats, pids, cams = clustered(0, dim=16)
        q, g = feats[::20] + 0.05, feats
        q_pids, g_pids, q_cams, g_cams = pids[::20], pids, cams[::20], cams
    index = GalleryIndex(16, backend='milvus', uri=uri, collection=data)
    index.add(g[:100], g_pids[:100], g_cams[:100])  # numbered in order
    index.add(g[100:], g_pids[100:], g_cams[100:])
    faiss_exact = GalleryIndex(16)
    faiss_exact.add(g, g_pids, g_cams)
    dist = compute_distance(q, g)
    rules = dict(
        reid=((q_pids, q_cams), (g_pids, g_cams)),
        camera=((None, q_cams), (None, g_cams)),
        none=((None, None), (None, None)))
    same_as_faiss = []
    for name, ((qp, qc), (gp, gc)) in rules.items():
        for topk in (1, 10, len(g)):  # len(g): every row, then padding
            got = index.search(q, topk, qp, qc)
            ref = search(q, g, topk, qp, qc, gp, gc)
            assert_equal_ties_aside(got, ref, dist)
            assert_equal_ties_aside(got, faiss_exact.search(q, topk, qp, qc),
                                    dist)
            same_as_faiss.append((got[0] == ref[0]).float().mean().item())
            kept = got[0].numpy()
            kept = np.where(kept >= 0, kept, 0), kept >= 0
            if name == 'reid':  # never the query's pid in its camera
                assert not (
                    (g_pids[kept[0]] == q_pids[:, None]) &
                    (g_cams[kept[0]] == q_cams[:, None]) & kept[1]).any()
            elif name == 'camera':
                assert not ((g_cams[kept[0]] == q_cams[:, None])
                            & kept[1]).any()
    if data == 'float':  # no ties: the very same lists
        assert min(same_as_faiss) == 1.0
    index.close()


def test_keyed_rows_delete_and_evaluate(uri, monkeypatch):
    feats, pids, cams = clustered(1, dim=16)
    index = GalleryIndex(16, backend='milvus', uri=uri, collection='keyed')
    index.add(feats[:300], pids[:300], cams[:300])
    index.add(feats[300:], pids[300:], cams[300:], ids=np.arange(300) + 1000)
    index.add(feats[:2], pids[:2], cams[:2])  # numbered after the ids
    with monkeypatch.context() as patch:
        # Labels are read in ranges of at most QUERY_LIMIT rows.
        patch.setattr(milvus, 'QUERY_LIMIT', 64)
        rows = index.backend.row_numbers()
        np.testing.assert_array_equal(
            rows, np.r_[np.arange(300), np.arange(1000, 1302)])
        np.testing.assert_array_equal(index.camids, np.r_[cams, cams[:2]])
    found = index.search(feats[300:305], 1)[0].numpy()[:, 0]
    np.testing.assert_array_equal(found, np.arange(1000, 1005))
    index.remove([1300, 1301])
    # Delete by tracklet number: gone from the lists and the labels.
    gone = np.r_[0:40, 1000:1040]
    index.remove(gone)
    keep = np.r_[40:300, 300 + 40:600]
    assert index.ntotal == len(keep)
    np.testing.assert_array_equal(index.pids, pids[keep])
    q_pids, q_cams = pids[::10], cams[::10]
    idx = index.search(feats[::10], 20, q_pids, q_cams)[0].numpy()
    assert not np.isin(idx, gone).any()
    # Metrics over keyed rows equal those of the remaining rows.
    exact = GalleryIndex(16)
    exact.add(feats[keep], pids[keep], cams[keep])
    got = index.evaluate(feats[::10], q_pids, q_cams, topk=50)
    ref = exact.evaluate(feats[::10], q_pids, q_cams, topk=50)
    assert got == pytest.approx(ref)
    with pytest.raises(KeyError, match=r"'keyed' at .*holds no rows \[0, 1"):
        index.remove([0, 1, 41])
    with pytest.raises(ValueError, match=r'already holds rows \[41\]'):
        index.add(feats[:2], pids[:2], cams[:2], ids=[41, 5000])
    with pytest.raises(ValueError, match='distinct'):
        index.add(feats[:2], pids[:2], cams[:2], ids=[7000, 7000])
    with pytest.raises(ValueError, match='holds labels'):
        index.backend.add(feats[:1], dict(pids=None, camids=None))
    with pytest.raises(ValueError, match='faiss backend numbers rows'):
        exact.add(feats[:1], pids[:1], cams[:1], ids=[3])
    index.close()


@pytest.mark.parametrize('kind, build, search_key',
                         [('IVF_FLAT', dict(nlist=16), 'nprobe'),
                          ('HNSW', dict(M=4, efConstruction=8), 'ef')])
def test_compressed_index_types(uri, kind, build, search_key):
    feats, pids, cams = clustered(2, num_ids=100, per_id=10, dim=32)
    name = kind.lower()
    index = GalleryIndex(
        32,
        'compressed',
        backend='milvus',
        uri=uri,
        collection=name,
        index_type=kind,
        **build)
    index.add(feats, pids, cams)
    index.save()
    index.backend.wait_for_index(60)  # until then: exact, unindexed
    exact = GalleryIndex(32)
    exact.add(feats, pids, cams)
    q = feats[::10] + 0.3
    ref = exact.search(q, 10, pids[::10], cams[::10])[0].numpy()

    def recall(**search):
        with GalleryIndex.load(
                uri, 'milvus', collection=name, **search) as again:
            assert again.params['index_type'] == kind and again.params[
                search_key] == search[search_key]
            got = again.search(q, 10, pids[::10], cams[::10])[0].numpy()
        return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, ref)])

    # The index and its parameters are the engine's: a narrow search
    # misses some of the exact lists, a wide one finds them.
    assert recall(**{search_key: 1}) < 0.9
    assert recall(**{search_key: 16 if kind == 'IVF_FLAT' else 512}) > 0.95
    index.close()


def test_bad_input_names_the_collection(uri, tmp_path, free_port):
    index = GalleryIndex(8, backend='milvus', uri=uri, collection='checks')
    where = f"'checks' at {uri}"
    with pytest.raises(ValueError, match=f'dimension 4, expected 8.*{where}'):
        index.add(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=f'NaN/inf values .*row 1.*{where}'):
        index.add(np.array([[1.] * 8, [np.nan] * 8], np.float32))
    index.add(np.eye(8, dtype=np.float32), camids=np.arange(8))
    with pytest.raises(ValueError, match=f'dimension 3, expected 8.*{where}'):
        index.search(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match='no pids'):
        index.search(np.eye(8)[:1], 2, query_pids=[0], query_camids=[0])
    with pytest.raises(ValueError, match=f'{where} is kept by Milvus'):
        index.save(str(tmp_path / 'elsewhere.db'))
    index.close()
    with pytest.raises(ValueError, match=f'{where} exists already'):
        GalleryIndex(8, backend='milvus', uri=uri, collection='checks')
    with pytest.raises(
            ValueError,
            match=f"'nope' at {uri}: no such "
            r"collection \(the uri holds \[.*'checks'"):
        GalleryIndex.load(uri, 'milvus', collection='nope')
    with pytest.raises(TypeError, match=r"load\(\) options \['nlist'\]"):
        GalleryIndex.load(uri, 'milvus', collection='checks', nlist=3)
    start = time.perf_counter()
    closed = f'http://127.0.0.1:{free_port}'
    with pytest.raises(ConnectionError, match=f"{closed} .*'g'"):
        GalleryIndex(
            8, backend='milvus', uri=closed, collection='g', timeout=2)
    assert time.perf_counter() - start < 10
    for params, message in [
        (dict(uri=str(tmp_path / 'x.sqlite')), "must end with '.db'"),
        (dict(uri=None), 'needs uri='),
        (dict(uri=uri, collection='1st'), 'collection must be a name'),
        (dict(uri=uri, index_type='HNSW'), "mode='compressed'"),
        (dict(uri=uri, mode='compressed',
              index_type='IVF_PQ'), 'does not build IVF_PQ'),
        (dict(uri=uri, mode='compressed', nprobe=4), r"\['nprobe'\].*HNSW"),
        (dict(uri=uri, concurrency=0), 'concurrency must be a positive'),
    ]:
        with pytest.raises((TypeError, ValueError), match=message):
            GalleryIndex(8, backend='milvus', **params)
    with pytest.raises(ValueError, match='saves to a file: save'):
        GalleryIndex(8).save()


def test_a_gallery_held_by_another_process(tmp_path):
    """milvus-lite opens a .db in one process at a time: another waits
    ``lock_timeout`` seconds, then is told who to ask."""
    held = tmp_path / 'held.db'
    held.mkdir()
    with open(held / 'LOCK', 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as milvus-lite's holder does
        start = time.perf_counter()
        with pytest.raises(TimeoutError, match=f'{held} is held by another'):
            GalleryIndex(8, backend='milvus', uri=str(held), lock_timeout=0.3)
        assert 0.3 <= time.perf_counter() - start < 5


WRITER = '''
import sys, time
import numpy as np
from mmreid_video.retrieval import GalleryIndex
uri, who, rounds, kill = sys.argv[1], int(sys.argv[2]), 3, sys.argv[3]
rng = np.random.default_rng(who)
for r in range(rounds + (kill == 'kill')):
    # Each round opens the gallery (waiting for the other writer), adds
    # and closes it.
    with GalleryIndex.load(uri, 'milvus', collection='shared',
                           lock_timeout=120) as index:
        feats = rng.standard_normal((40, 8))
        index.add(feats, np.full(40, who), np.full(40, r))
        if r == rounds:
            index.save()
            print('flushed', flush=True)
            time.sleep(600)  # killed here, holding the gallery
'''


def _processes_naming(text: str) -> list:
    """Processes whose command line holds ``text`` (Linux)."""
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_two_writers_a_killed_one_and_reopening(tmp_path):
    """Two processes add to one embedded gallery in turns; one is killed
    (SIGKILL) after flush() returned, holding the gallery; the other exits
    normally. Reopened, it holds every row of both, numbered 0.. N-1."""
    uri = str(tmp_path / 'shared.db')
    GalleryIndex(8, backend='milvus', uri=uri, collection='shared').close()
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    procs = [
        subprocess.Popen([sys.executable, '-c', WRITER, uri, who, mode],
                         env=env,
                         stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         text=True)
        for who, mode in (('1', 'exit'), ('2', 'kill'))
    ]
    exits, killed = procs
    assert killed.stdout.readline() == 'flushed\n', killed.stderr.read()
    killed.send_signal(signal.SIGKILL)
    killed.wait(60)
    _, err = exits.communicate(timeout=180)
    assert exits.returncode == 0, err[-3000:]
    # No engine process (or anything else) outlives its writer.
    assert _processes_naming(uri) == []
    with GalleryIndex.load(uri, 'milvus', collection='shared') as index:
        assert index.ntotal == 40 * 7
        np.testing.assert_array_equal(index.backend.row_numbers(),
                                      np.arange(40 * 7))
        assert index.backend._conn.properties()[NEXT_ROW_KEY] == '280'
        for who, rounds in ((1, 3), (2, 4)):
            rng = np.random.default_rng(who)
            for r in range(rounds):
                feats = rng.standard_normal((40, 8))
                idx, dist = index.search(feats, 1)
                assert (dist.numpy() < 1e-5).all()
                rows = np.searchsorted(index.backend.row_numbers(),
                                       idx.numpy()[:, 0])
                assert (index.pids[rows] == who).all()
                assert (index.camids[rows] == r).all()


def _run_tool(monkeypatch, capsys, tool: str, *argv: str) -> str:
    """Run a repository tool's ``main`` in this process; its stdout."""
    monkeypatch.setattr(sys, 'argv', [tool, *argv])
    runpy.run_path(os.path.join(REPO, tool), run_name='__main__')
    return capsys.readouterr().out


def test_build_index_and_search_tools(tmp_path, monkeypatch, capsys):
    feats, pids, cams = clustered(3, dim=16)
    is_query = np.zeros(len(feats), bool)
    is_query[::10] = True
    shard = dict(
        feats=feats,
        indices=np.arange(len(feats)),
        pids=pids,
        camids=cams,
        is_query=is_query,
        is_gallery=~is_query,
        tracklet_ids=np.array([f't{i}' for i in range(len(feats))]))
    folder = str(tmp_path / 'feats')
    prov = make_provenance('a' * 16, 'c' * 16, 'p' * 16, 'd' * 16)
    write_meta(
        folder,
        dict(num_tracklets=len(feats), shard_size=len(feats), provenance=prov))
    write_shard(shard_path(folder, 0), shard, prov)
    uri = str(tmp_path / 'tool.db')
    out = _run_tool(monkeypatch, capsys, 'tools/build_index.py', folder,
                    '--backend', 'milvus', '--uri', uri)
    assert f"'gallery' at {uri}: 540 gallery tracklets added" in out
    res = tmp_path / 'res.json'
    _run_tool(monkeypatch, capsys, 'tools/search.py', folder, '--backend',
              'milvus', '--uri', uri, '--out', str(res), '--topk', '5',
              '--metrics')
    with open(res) as f:
        got = json.load(f)
    q, g = is_query, ~is_query
    ref = search(feats[q], feats[g], 5, pids[q], cams[q], pids[g], cams[g])
    rows = [[item['row'] for item in q['results']] for q in got['queries']]
    assert rows == ref[0].tolist()
    assert got['index'] == f"Milvus collection 'gallery' at {uri}"
    assert got['protocol']['index_backend'] == 'milvus'
    assert set(got['metrics']) == {'R1', 'R5', 'mAP@5', 'num_valid_queries'}
    # Another run adds to the collection, numbered on.
    out = _run_tool(monkeypatch, capsys, 'tools/build_index.py', folder,
                    '--subset', 'query', '--backend', 'milvus', '--uri', uri,
                    '--append')
    assert '60 query tracklets added (600 in all)' in out
    # Rows with gaps: each result is named by its own row's labels.
    # Another model's descriptors are not added to the collection.
    foreign = str(tmp_path / 'foreign')
    other = dict(prov, weights='b' * 16)
    write_meta(
        foreign,
        dict(
            num_tracklets=len(feats), shard_size=len(feats), provenance=other))
    write_shard(shard_path(foreign, 0), shard, other)
    with pytest.raises(ProvenanceError, match='weights'):
        _run_tool(monkeypatch, capsys, 'tools/build_index.py', foreign,
                  '--backend', 'milvus', '--uri', uri, '--append')
    with GalleryIndex.load(uri, 'milvus', collection='gallery') as index:
        assert index.provenance == prov and index.ntotal == 600
        index.remove([0, 1, 2, 300])
    _run_tool(monkeypatch, capsys, 'tools/search.py', folder, '--backend',
              'milvus', '--uri', uri, '--out', str(res), '--rule', 'none')
    with open(res) as f:
        items = [i for q in json.load(f)['queries'] for i in q['results']]
    row_pids = np.r_[pids[g], pids[q]]
    assert [i['pid'] for i in items] == row_pids[[i['row']
                                                  for i in items]].tolist()
    assert not {0, 1, 2, 300} & {i['row'] for i in items}
    for argv, message in [
        (['--backend', 'milvus', '--out', 'g.gidx'], 'writes to --uri'),
        (['--backend', 'milvus', '--uri', uri, '--trained',
          'x.gidx'], 'faiss'),
        (['--out', 'g.gidx', '--append'], 'faiss writes an index file'),
    ]:
        with pytest.raises(SystemExit):
            _run_tool(monkeypatch, capsys, 'tools/build_index.py', folder,
                      *argv)
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run_tool(monkeypatch, capsys, 'tools/search.py', folder, '--uri', uri,
                  '--out', str(res))
    assert '--backend milvus --uri URI' in capsys.readouterr().err


def test_a_server_uri(tmp_path, free_port):
    """The same code on a server URI: milvus-lite's own gRPC server (the
    Milvus protocol) stands in for a Milvus standalone here."""
    server = subprocess.Popen([
        sys.executable, '-u', '-m', 'milvus_lite', 'server', '--data-dir',
        str(tmp_path / 'served.db'), '--host', '127.0.0.1', '--port',
        str(free_port)
    ],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              text=True)
    try:
        assert 'listening' in server.stdout.readline()
        uri = f'http://127.0.0.1:{free_port}'
        feats, pids, cams = clustered(4, dim=16)
        index = GalleryIndex(16, backend='milvus', uri=uri, collection='g')
        index.add(feats, pids, cams)
        index.save()
        assert index.backend.wait_for_index(30) < 30
        index.close()
        with GalleryIndex.load(uri, 'milvus', collection='g') as index:
            assert index.backend.location == f"Milvus collection 'g' at {uri}"
            got = index.search(feats[::9], 10, pids[::9], cams[::9])
            ref = search(feats[::9], feats, 10, pids[::9], cams[::9], pids,
                         cams)
            assert_equal_ties_aside(got, ref,
                                    compute_distance(feats[::9], feats))
    finally:
        server.send_signal(signal.SIGINT)  # its graceful shutdown
        server.wait(30)


def test_benchmark_tool(tmp_path, monkeypatch, capsys):
    out = tmp_path / 'bench.json'
    _run_tool(monkeypatch, capsys,
              'tools/analysis_tools/benchmark_retrieval.py', '--backend',
              'milvus', '--index-type', 'IVF_FLAT', '--param', 'nlist=8',
              'nprobe=8', '--num', '1000', '--dim', '16', '--num-query', '20',
              '--exact-query', '10', '--repeat', '1', '--json', str(out))
    with open(out) as f:
        res = json.load(f)
    # The keys of the faiss benchmark, and Milvus's own.
    assert {
        'num', 'dim', 'bytes_per_vector', 'recall_at_10', 'qps', 'build_s'
    } <= set(res) and res['num'] == 1000
    assert res['recall_at_10'] == 1.0  # all lists probed
    assert res['exact_lists_differing_from_search'] == 0
    assert res['bytes_per_vector'] > 16 * 4
    assert res['flat']['insert_rows_per_s'] > 0
    assert set(res['qps_by_rule']) == {'camera', 'none'}
    assert res['compressed_params']['index_type'] == 'IVF_FLAT'
    assert 'uri' not in res['compressed_params']

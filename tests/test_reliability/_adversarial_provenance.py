# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of issue 23, designed from a user's side: artefacts
of different provenance meeting (descriptors, shards, indexes, dumps), reads
that may wait forever, and writes that race, fill the disk or are killed.

The tools run in this process (``run_main``); the extractions, indexes and
dumps they start from are built once per session (``_provenance_artefacts``)
and copied into each case's folder.
"""
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
from _adversarial_base import err, ok
from _adversarial_tools import run_main
from _provenance_artefacts import (checkpoint, data_root, dump_file, extract,
                                   extraction, fifo_frame, full_disk, hidden,
                                   index_file, killed_mid_save, options,
                                   ranked_rows, resumable, search,
                                   search_truncated, tiny_config)
from tool_runner import DEMO_CONFIG


# ---- provenance: descriptors of different models meeting -------------------
@err('provenance', 'search.py: queries of another checkpoint', 'weights',
     '{tmp}/feats_b')
def _(tmp):
    search(index_file('a', tmp), extraction('b', tmp), tmp / 'r.json')


@ok('provenance', 'search.py: the same weights re-saved with other meta',
    lambda same: same is True)
def _(tmp):
    index = index_file('a', tmp)
    mine = search(index, extraction('a'), tmp / 'a.json')
    resaved = search(index, extraction('a_resaved'), tmp / 'b.json')
    return ranked_rows(mine) == ranked_rows(resaved)


@ok('provenance', 'search.py --allow-foreign-queries searches and warns',
    lambda r: r[0] and 'weights' in r[1])
def _(tmp):
    out = run_main('tools/search.py', str(index_file('a', tmp)),
                   str(extraction('b')), '--out', str(tmp / 'r.json'),
                   '--allow-foreign-queries')
    return (tmp / 'r.json').is_file(), out


@err('provenance', 'search.py: an index built in Python (no provenance)',
     '{tmp}/py.gidx', 'provenance')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import read_shards
    g = read_shards(str(extraction('a')), 'gallery')
    index = GalleryIndex(g['feats'].shape[1])
    index.add(g['feats'], g['pids'], g['camids'])
    index.save(str(tmp / 'py.gidx'))
    search(tmp / 'py.gidx', extraction('b'), tmp / 'r.json')


@err('provenance', 'search.py --gallery-features of another extraction',
     '{tmp}/feats_b')
def _(tmp):
    search(
        index_file('a', tmp), extraction('a'), tmp / 'r.json',
        '--gallery-features', str(extraction('b', tmp)))


@err('provenance', 'extract_features.py: resume after the checkpoint file '
     'was replaced in place', 'weights', '{tmp}/feats_a')
def _(tmp):
    out = resumable(tmp)
    ckpt = tmp / 'latest.pth'
    shutil.copy(checkpoint('a'), ckpt)
    with open(out / 'meta.json') as f:  # the run used this path
        meta = json.load(f)
    meta['checkpoint'] = str(ckpt)
    (out / 'meta.json').write_text(json.dumps(meta))
    shutil.copy(checkpoint('b'), ckpt)  # training went on meanwhile
    extract(str(ckpt), out)


@err('provenance', 'extract_features.py: resume with another test pipeline',
     'pipeline', '{tmp}/feats_a')
def _(tmp):
    out = resumable(tmp)
    extract(
        checkpoint('a'), out, None,
        'test_dataloader.dataset.pipeline.0.clip_len=2')


@err('provenance', 'extract_features.py: resume on another dataset at the '
     'same data_root', 'data', '{tmp}/feats_a')
def _(tmp):
    out = resumable(tmp)
    root = tmp / 'mars'
    shutil.copytree(data_root(2), root)  # regenerated with another seed
    extract(checkpoint('a'), out, root)


@err('provenance', 'build_index.py: a shard copied from another extraction',
     'shard_00001.npz', '{tmp}/feats_a')
def _(tmp):
    out = extraction('a', tmp)
    shutil.copy(extraction('b') / 'shard_00001.npz', out / 'shard_00001.npz')
    run_main('tools/build_index.py', str(out), '--out', str(tmp / 'g.gidx'))


@err('provenance', 'build_index.py: a shard of another dimension',
     'shard_00001.npz', 'dim')
def _(tmp):
    out = extraction('a', tmp)
    path = out / 'shard_00001.npz'
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays['feats'] = arrays['feats'][:, :32]
    np.savez(path, **arrays)
    run_main('tools/build_index.py', str(out), '--out', str(tmp / 'g.gidx'),
             '--subset', 'all')


@err('provenance', 'build_index.py --merge: indexes of two checkpoints',
     'weights', '{tmp}/b_gallery.gidx')
def _(tmp):
    run_main('tools/build_index.py', '--merge', str(index_file('a', tmp)),
             str(index_file('b', tmp)), '--out', str(tmp / 'm.gidx'))


@err('provenance', 'vis_ranked_list.py --dump drawn against another dataset',
     'data', 'dump.pkl')
def _(tmp):
    run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG, '--dump',
             str(dump_file(tmp)), '--out-dir', str(tmp / 'vis'), '--num', '2',
             '--cfg-options', *options(data_root(2)))


# ---- an index file changed on disk after it was loaded ---------------------
def _searched_after(tmp: Path, change) -> list:
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import read_shards
    q = read_shards(str(extraction('a')), 'query')
    path = index_file('a', tmp)
    index = GalleryIndex.load(str(path))
    change(path)
    return index.search(q['feats'], 3)[0].tolist()


@err('provenance', 'GalleryIndex: file overwritten in place after load',
     '{tmp}/a_gallery.gidx')
def _(tmp):
    other = index_file('b', tmp)

    def overwrite(path):  # cp: same inode, same size, other content
        with open(other, 'rb') as src, open(path, 'r+b') as dst:
            dst.write(src.read())

    _searched_after(tmp, overwrite)


@err(
    'provenance',
    'GalleryIndex: file truncated in place after load',
    '{tmp}/a_gallery.gidx',
    slow=True)
def _(tmp):
    proc = search_truncated(index_file('a', tmp))
    if proc.returncode:
        raise RuntimeError(f'exit {proc.returncode}: {proc.stderr[-800:]}')


@ok('provenance', 'GalleryIndex: file replaced by a rename after load keeps '
    'the loaded gallery', lambda same: same is True)
def _(tmp):
    before = _searched_after(tmp, lambda path: None)
    other = index_file('b', tmp)
    return before == _searched_after(tmp, lambda p: os.replace(other, p))


# ---- reads that may wait forever -------------------------------------------
@err(
    'hang',
    'extract_features.py: a frame whose read blocks (FIFO)',
    'took more than 1 s',
    'F001.jpg',
    slow=True)
def _(tmp):
    root, info = fifo_frame(tmp)
    extract(
        checkpoint('a'), tmp / 'out', root,
        'default_hooks.sample_timeout.timeout=1')


@err(
    'hang',
    'extract_tracklet_features: a frame whose read blocks',
    'took more than 1 s',
    'F001.jpg',
    slow=True)
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features, init_model
    root, info = fifo_frame(tmp)
    model = init_model(
        tiny_config(root, 'default_hooks.sample_timeout.timeout=1'),
        checkpoint('a'))
    extract_tracklet_features(model, [info['frame_paths']])


@err('hang', 'GalleryIndex.load of a named pipe', '{tmp}/g.gidx')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    os.mkfifo(tmp / 'g.gidx')
    GalleryIndex.load(str(tmp / 'g.gidx'))


@err('hang', 'build_index.py: meta.json is a named pipe',
     '{tmp}/feats/meta.json')
def _(tmp):
    (tmp / 'feats').mkdir()
    os.mkfifo(tmp / 'feats/meta.json')
    run_main('tools/build_index.py', str(tmp / 'feats'), '--out',
             str(tmp / 'g.gidx'))


@err('hang', 'vis_ranked_list.py: --dump is a named pipe', '{tmp}/d.pkl')
def _(tmp):
    os.mkfifo(tmp / 'd.pkl')
    run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG, '--dump',
             str(tmp / 'd.pkl'), '--out-dir', str(tmp / 'vis'),
             '--cfg-options', *options(data_root()))


# ---- writes that race, fill the disk or are killed -------------------------
def _no_leftovers(tmp: Path, error: Exception) -> None:
    left = [p for p in tmp.rglob('.*') if p.is_file()]
    if left:
        raise RuntimeError(f'left {left} behind ({error})')
    raise error


@err('writes', 'search.py --out on a full disk', '{tmp}/r.json',
     'No space left')
def _(tmp):
    index = index_file('a', tmp)
    try:
        with full_disk():
            search(index, extraction('a'), tmp / 'r.json')
    except OSError as error:
        _no_leftovers(tmp, error)


@err('writes', 'build_index.py on a full disk', '{tmp}/g.gidx',
     'No space left')
def _(tmp):
    try:
        with full_disk():
            run_main('tools/build_index.py', str(extraction('a')), '--out',
                     str(tmp / 'g.gidx'))
    except OSError as error:
        _no_leftovers(tmp, error)


@err('writes', 'ranked-list figures on a full disk', 'ranked_list_0.png',
     'No space left')
def _(tmp):
    dump = dump_file(tmp)  # written before the disk is full
    with full_disk():
        run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG,
                 '--dump', str(dump), '--out-dir', str(tmp / 'vis'), '--num',
                 '1', '--cfg-options', *options(data_root()))


@ok('writes', 'build_index.py killed mid-save, then run again: no partial '
    'file kept',
    lambda r: r == ([], True),
    slow=True)
def _(tmp):
    args = [str(extraction('a')), '--out', str(tmp / 'g.gidx')]
    killed_mid_save(
        'import runpy, sys\n'
        f'sys.argv = ["build_index.py", *{args!r}]\n'
        'runpy.run_path("tools/build_index.py", run_name="__main__")\n')
    run_main('tools/build_index.py', *args)
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import read_shards
    gallery = read_shards(str(extraction('a')), 'gallery')['feats']
    return hidden(tmp), GalleryIndex.load(str(tmp /
                                              'g.gidx')).ntotal == len(gallery)


@ok('writes', 'make_synthetic_mars.py killed mid-run, then run again: no '
    'partial folder kept',
    lambda r: r[0] == [] and r[1],
    slow=True)
def _(tmp):
    args = [str(tmp / 'mars'), '--num-train-ids', '2', '--num-test-ids', '2']
    code = ('import runpy, signal, sys, cv2\n'
            'cv2.imwrite = lambda *a, **k: os.kill(os.getpid(), '
            'signal.SIGKILL)\n'
            f'sys.argv = ["make_synthetic_mars.py", *{args!r}]\n'
            'runpy.run_path("tools/dataset_converters/make_synthetic_mars.py",'
            ' run_name="__main__")\n')
    killed_mid_save(code)
    left_by_kill = hidden(tmp)
    run_main('tools/dataset_converters/make_synthetic_mars.py', *args)
    return hidden(tmp), bool(left_by_kill) and (tmp / 'mars/info').is_dir()


@ok('writes', 'two writers of one shard at once both finish',
    lambda r: r == ['ok', 'ok'])
def _(tmp):
    from mmreid_video.retrieval import feature_shards
    arrays = dict(np.load(extraction('a') / 'shard_00000.npz'))
    provenance = feature_shards.read_provenance(str(extraction('a')))
    path = str(tmp / 'shard_00000.npz')
    started, resume = threading.Event(), threading.Event()
    savez = np.savez

    def slow_savez(f, **kw):  # the first writer pauses mid-write
        if threading.current_thread().name == 'first':
            started.set()
            resume.wait(10)
        savez(f, **kw)

    results = []

    def write():
        try:
            feature_shards.write_shard(path, arrays, provenance)
            results.append('ok')
        except Exception as e:  # noqa: BLE001 -- reported in the result
            results.append(f'{type(e).__name__}: {e}')

    np.savez = slow_savez
    try:
        first = threading.Thread(target=write, name='first')
        first.start()
        started.wait(10)
        write()  # the second writer, while the first is mid-write
        resume.set()
        first.join()
    finally:
        np.savez = savez
    return results


@ok('writes', 'GalleryIndex saved over the file it was loaded from',
    lambda r: r[0] == r[1] == r[2] and r[3] == [])
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import read_shards
    q = read_shards(str(extraction('a')), 'query')['feats']
    path = index_file('a', tmp)
    index = GalleryIndex.load(str(path))
    before = index.search(q, 3)[0].tolist()
    index.save(str(path))
    after = index.search(q, 3)[0].tolist()
    reloaded = GalleryIndex.load(str(path)).search(q, 3)[0].tolist()
    return before, after, reloaded, hidden(tmp)

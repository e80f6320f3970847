# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of issue 23, designed from a user's side: artefacts
of different provenance meeting (descriptors, shards, indexes, dumps), reads
that may wait forever, and writes that race, fill the disk or are killed.

The tools run in this process (``run_main``); the extractions, indexes and
dumps they start from are built once per session (:class:`Built`) and
copied into each case's folder.
"""
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch
from _adversarial_base import err, ok
from _adversarial_tools import run_main
from tool_runner import DEMO_CONFIG, REPO, tiny_cfg_options

# Shards of 4 tracklets: the tiny test split has several.
SHARD_SIZE = '4'
TEST_DATA = dict(
    num_train_ids=2,
    num_test_ids=3,
    tracklets_per_id=(2, 2),
    frames_per_tracklet=(4, 4),
    num_distractors=1,
    num_junk=1)


class Built:
    """Artefacts built once (a tiny MARS tree, checkpoints, extractions,
    indexes, a metric dump) under one temporary folder."""
    _root: Path = None
    _made: Dict[str, Path] = {}

    @classmethod
    def folder(cls) -> Path:
        if cls._root is None:
            cls._root = Path(tempfile.mkdtemp(prefix='adv_prov_'))
        return cls._root

    @classmethod
    def get(cls, name: str, make) -> Path:
        if name not in cls._made:
            cls._made[name] = make(cls.folder() / name)
        return cls._made[name]


def data_root(seed: int = 1) -> Path:
    """A tiny MARS-layout tree (read only: never changed by a case)."""

    def make(path):
        from mmreid_video.datasets import make_synthetic_mars
        make_synthetic_mars(str(path), seed=seed, **TEST_DATA)
        return path

    return Built.get(f'mars_{seed}', make)


def options(root: Path, *extra: str) -> List[str]:
    return tiny_cfg_options(str(root)) + list(extra)


def tiny_state(seed: int) -> dict:
    """Random weights of the tiny demo model."""
    from mmengine.config import Config

    from mmreid_video.apis import init_model
    cfg = Config.fromfile(DEMO_CONFIG)
    from mmreid_video.utils import parse_cfg_options
    cfg.merge_from_dict(parse_cfg_options(options(data_root())))
    torch.manual_seed(seed)
    return init_model(cfg).state_dict()


def checkpoint(name: str = 'a') -> str:
    """``a`` and ``b``: two trainings; ``a_resaved``: ``a``'s weights saved
    again with other meta data and an optimizer state."""

    def make(path):
        if name == 'a_resaved':
            state = torch.load(checkpoint('a'), weights_only=False)
            torch.save(
                dict(
                    meta=dict(epoch=7, note='re-saved'),
                    optimizer=dict(state={}, param_groups=[]),
                    state_dict=state['state_dict']), path)
        else:
            torch.save(
                dict(state_dict=tiny_state(dict(a=0, b=1)[name])), path)
        return path

    return str(Built.get(f'{name}.pth', make))


def extract(ckpt: str, out: Path, root: Path = None, *extra: str) -> str:
    return run_main('tools/extract_features.py', DEMO_CONFIG, ckpt, '--data',
                    'test', '--out', str(out), '--shard-size', SHARD_SIZE,
                    '--cfg-options', *options(root or data_root(), *extra))


def extraction(name: str = 'a', tmp: Path = None) -> Path:
    """The test split extracted with checkpoint ``name`` (copied into
    ``tmp`` when given)."""
    made = Built.get(f'feats_{name}',
                     lambda p: (extract(checkpoint(name), p), p)[1])
    if tmp is None:
        return made
    shutil.copytree(made, tmp / f'feats_{name}')
    return tmp / f'feats_{name}'


def index_file(name: str, tmp: Path, subset: str = 'gallery') -> Path:
    """An index of extraction ``name`` built by tools/build_index.py."""
    out = tmp / f'{name}_{subset}.gidx'
    run_main('tools/build_index.py', str(extraction(name)), '--out', str(out),
             '--subset', subset)
    return out


def search(index: Path, queries: Path, out: Path, *extra: str) -> dict:
    run_main('tools/search.py', str(index), str(queries), '--out', str(out),
             '--topk', '3', *extra)
    with open(out) as f:
        return json.load(f)


def hidden(folder: Path) -> List[str]:
    """Hidden entries (temporary files and folders of writers)."""
    return sorted(n for n in os.listdir(folder) if n.startswith('.'))


@contextmanager
def full_disk():
    """Writes fail as on a full disk when their data is synced."""
    real = os.fsync

    def fsync(fd):
        if os.path.isfile(f'/proc/self/fd/{fd}'):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    os.fsync = fsync
    try:
        yield
    finally:
        os.fsync = real


def killed_mid_save(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that is SIGKILLed when it first
    syncs a file it writes (i.e. mid-save, the temporary file complete but
    not yet renamed)."""
    prelude = ('import os, signal\n'
               'os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n')
    return subprocess.run([sys.executable, '-c', prelude + code],
                          cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=REPO),
                          capture_output=True,
                          text=True)


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
    return mine['indices'] == resaved['indices']


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
    out = extraction('a', tmp)
    os.remove(out / 'shard_00001.npz')
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
    out = extraction('a', tmp)
    os.remove(out / 'shard_00001.npz')
    extract(checkpoint('a'), out, None,
            'test_dataloader.dataset.pipeline.0.clip_len=2')


@err('provenance', 'extract_features.py: resume on another dataset at the '
     'same data_root', 'data', '{tmp}/feats_a')
def _(tmp):
    out = extraction('a', tmp)
    os.remove(out / 'shard_00001.npz')
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


def dump_file(tmp: Path) -> Path:
    """A tools/test.py --out dump of checkpoint ``a`` on the tiny tree."""

    def make(path):
        run_main('tools/test.py', DEMO_CONFIG, checkpoint('a'), '--out',
                 str(path), '--work-dir', str(path.parent / 'test_run'),
                 '--cfg-options', *options(data_root()))
        return path

    return Built.get('dump.pkl', make)


@err('provenance', 'vis_ranked_list.py --dump drawn against another dataset',
     'data', 'dump.pkl')
def _(tmp):
    run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG,
             '--dump', str(dump_file(tmp)), '--out-dir', str(tmp / 'vis'),
             '--num', '2', '--cfg-options', *options(data_root(2)))


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


@err('provenance', 'GalleryIndex: file truncated in place after load',
     '{tmp}/a_gallery.gidx')
def _(tmp):
    # A read of a mapped page past the end kills the process (SIGBUS): the
    # search runs in a child.
    path = index_file('a', tmp)
    code = (
        'import sys, numpy as np\n'
        'from mmreid_video.retrieval import GalleryIndex\n'
        f'index = GalleryIndex.load({str(path)!r})\n'
        f'open({str(path)!r}, "r+b").truncate(4096)\n'
        'index.search(np.ones((2, index.dim), np.float32), 3)\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=REPO),
                          capture_output=True,
                          text=True)
    if proc.returncode:
        raise RuntimeError(f'exit {proc.returncode}: {proc.stderr[-800:]}')


@ok('provenance', 'GalleryIndex: file replaced by a rename after load keeps '
    'the loaded gallery', lambda same: same is True)
def _(tmp):
    before = _searched_after(tmp, lambda path: None)
    other = index_file('b', tmp)
    return before == _searched_after(tmp, lambda p: os.replace(other, p))


# ---- reads that may wait forever -------------------------------------------
def _fifo_frame(tmp: Path) -> tuple:
    """A copy of the tiny tree whose first test frame blocks when read."""
    from mmreid_video.datasets import MARS
    root = tmp / 'mars'
    shutil.copytree(data_root(), root)
    frame = MARS(str(root), split='test').get_data_info(0)['frame_paths'][0]
    os.remove(frame)
    os.mkfifo(frame)
    return root, frame


@err('hang', 'extract_features.py: a frame whose read blocks (FIFO)',
     'took more than 1 s', 'F001.jpg')
def _(tmp):
    root, _ = _fifo_frame(tmp)
    extract(checkpoint('a'), tmp / 'out', root,
            'default_hooks.sample_timeout.timeout=1')


@err('hang', 'extract_tracklet_features: a frame whose read blocks',
     'took more than 1 s', 'F001.jpg')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features, init_model
    from mmreid_video.datasets import MARS
    root, _ = _fifo_frame(tmp)
    from mmengine.config import Config

    from mmreid_video.utils import parse_cfg_options
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(
        parse_cfg_options(
            options(root, 'default_hooks.sample_timeout.timeout=1')))
    model = init_model(cfg, checkpoint('a'))
    frames = MARS(str(root), split='test').get_data_info(0)['frame_paths']
    extract_tracklet_features(model, [frames])


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
    run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG,
             '--dump', str(tmp / 'd.pkl'), '--out-dir', str(tmp / 'vis'),
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
    with full_disk():
        run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG,
                 '--dump', str(dump_file(tmp)), '--out-dir',
                 str(tmp / 'vis'), '--num', '1', '--cfg-options',
                 *options(data_root()))


@ok('writes', 'build_index.py killed mid-save, then run again: no partial '
    'file kept', lambda r: r == ([], True))
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
    return hidden(tmp), GalleryIndex.load(str(
        tmp / 'g.gidx')).ntotal == len(gallery)


@ok('writes', 'make_synthetic_mars.py killed mid-run, then run again: no '
    'partial folder kept', lambda r: r[0] == [] and r[1])
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

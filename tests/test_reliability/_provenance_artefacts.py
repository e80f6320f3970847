# Copyright (c) mmreid_video contributors. All rights reserved.
"""Artefacts of the provenance, hang and write cases of issue 23
(``_adversarial_provenance.py``, ``test_artefact_provenance.py``,
``test_no_hang.py``, ``test_safe_writes.py``): a tiny MARS tree, two
checkpoints, their extractions and indexes and a metric dump, each built
once per session (:class:`Built`) by the tools run in this process
(``run_main``), and the helpers that kill, fill or block a tool.
"""
import atexit
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, List

import torch
from _adversarial_tools import run_main
from fixture_trees import TINY_MARS
from tool_runner import DEMO_CONFIG, tiny_cfg_options, tool_process

# Shards of 4 tracklets: the tiny test split has several.
SHARD_SIZE = '4'


class Built:
    """Artefacts built once (a tiny MARS tree, checkpoints, extractions,
    indexes, a metric dump) under one temporary folder, removed at exit.

    Not pytest fixtures: the case table also runs outside pytest
    (``adversarial_cases.py``)."""
    _root: Path = None
    _made: Dict[str, Path] = {}

    @classmethod
    def folder(cls) -> Path:
        if cls._root is None:
            cls._root = Path(tempfile.mkdtemp(prefix='adv_prov_'))
            atexit.register(shutil.rmtree, cls._root, True)
        return cls._root

    @classmethod
    def get(cls, name: str, make) -> Path:
        if name not in cls._made:
            cls._made[name] = make(cls.folder() / name)
        return cls._made[name]


def data_root(seed: int = 1) -> Path:
    """The tests' tiny MARS tree (``fixture_trees.TINY_MARS``) of ``seed``
    (read only: never changed by a case)."""

    def make(path):
        from mmreid_video.datasets import make_synthetic_mars
        make_synthetic_mars(str(path), **dict(TINY_MARS, seed=seed))
        return path

    return Built.get(f'mars_{seed}', make)


def options(root: Path, *extra: str) -> List[str]:
    return tiny_cfg_options(str(root)) + list(extra)


def tiny_config(root: Path, *extra: str):
    """The demo config shrunk by :func:`options` (what the tools get)."""
    from mmengine.config import Config

    from mmreid_video.utils import parse_cfg_options
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(parse_cfg_options(options(root, *extra)))
    return cfg


def tiny_state(seed: int) -> dict:
    """Random weights of the tiny demo model."""
    from mmreid_video.apis import init_model
    torch.manual_seed(seed)
    return init_model(tiny_config(data_root())).state_dict()


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
            torch.save(dict(state_dict=tiny_state(dict(a=0, b=1)[name])), path)
        return path

    return str(Built.get(f'{name}.pth', make))


def extract(ckpt: str, out: Path, root: Path = None, *extra: str) -> str:
    return run_main('tools/extract_features.py', DEMO_CONFIG, ckpt, '--data',
                    'test', '--out', str(out), '--shard-size', SHARD_SIZE,
                    '--cfg-options', *options(root or data_root(), *extra))


def extraction(name: str = 'a', tmp: Path = None) -> Path:
    """The test split extracted with checkpoint ``name`` (copied into
    ``tmp`` when given)."""
    made = Built.get(f'feats_{name}', lambda p:
                     (extract(checkpoint(name), p), p)[1])
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


def ranked_rows(results: dict) -> List[List[int]]:
    """Each query's ranked index rows of a ``search.py --out`` file, padded
    with -1 to its top-k as :func:`mmreid_video.retrieval.search` pads."""
    return [[r['row'] for r in q['results']] + [-1] *
            (results['topk'] - len(q['results'])) for q in results['queries']]


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


def child(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a process of its own on this checkout (forked by the
    tests' fork server: see ``tool_runner.tool_process``)."""
    return tool_process([sys.executable, '-c', code])


def killed_mid_save(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that is SIGKILLed when it first
    syncs a file it writes (i.e. mid-save, the temporary file complete but
    not yet renamed)."""
    return child(
        'import os, signal\n'
        'os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n' + code)


def search_truncated(path: Path) -> subprocess.CompletedProcess:
    """Load an index file, truncate it in place, search it: in a child, as
    a read of a mapped page past the end kills the process (SIGBUS)."""
    return child('import numpy as np\n'
                 'from mmreid_video.retrieval import GalleryIndex\n'
                 f'index = GalleryIndex.load({str(path)!r})\n'
                 f'open({str(path)!r}, "r+b").truncate(4096)\n'
                 'index.search(np.ones((2, index.dim), np.float32), 3)\n')


def resumable(tmp: Path) -> Path:
    """A copy of extraction ``a`` whose last shard is still to compute."""
    out = extraction('a', tmp)
    os.remove(out / 'shard_00001.npz')
    return out


def dump_file(tmp: Path) -> Path:
    """A tools/test.py --out dump of checkpoint ``a`` on the tiny tree."""

    def make(path):
        run_main('tools/test.py', DEMO_CONFIG, checkpoint('a'), '--out',
                 str(path), '--work-dir', str(path.parent / 'test_run'),
                 '--cfg-options', *options(data_root()))
        return path

    return Built.get('dump.pkl', make)


def fifo_frame(tmp: Path) -> tuple:
    """A copy of the tiny tree whose first test frame blocks when read (a
    named pipe); returns the root and that tracklet's data info."""
    from mmreid_video.datasets import MARS
    root = tmp / 'mars'
    shutil.copytree(data_root(), root)
    info = MARS(str(root), split='test').get_data_info(0)
    os.remove(info['frame_paths'][0])
    os.mkfifo(info['frame_paths'][0])
    return root, info

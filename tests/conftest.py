# Copyright (c) mmreid_video contributors. All rights reserved.
"""Fixtures shared by the whole test suite.

Plain helpers that tests import live beside this file (several test folders
have a conftest module, so this one cannot be imported by name; setup.cfg
puts ``tests`` and ``tests/test_tools`` on ``sys.path``):
``fixture_trees`` (dataset trees), ``fixture_models`` (tiny model configs),
``fixture_rank`` (a per-query rank-evaluation loop and random cases) and
``test_tools/tool_runner`` (running and importing tool scripts).
"""
import os
import socket
from pathlib import Path
from typing import List, NamedTuple

import pytest
from fixture_trees import (TINY_MARS, make_lsvid_frames, make_lsvid_tree,
                           make_prid_tree, write_mat_v73)
from tool_runner import TENSORBOARD, run_tool, train_cmd

from mmreid_video.datasets import make_synthetic_mars


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def tiny_mars_root(tmp_path_factory) -> str:
    """The tiny synthetic MARS tree (``fixture_trees.TINY_MARS``), made once
    per test session: read it, never change it (copy it first)."""
    root = str(tmp_path_factory.mktemp('tiny_mars'))
    make_synthetic_mars(root, **TINY_MARS)
    return root


class TrainedRun(NamedTuple):
    """A finished ``tools/train.py`` run of :func:`tiny_trained_run`."""
    work_dir: str
    checkpoint: str  # the last epoch's, with the optimizer state
    log: str  # the tool's stdout and stderr
    data_root: str
    max_epochs: int

    def train_cmd(self, work_dir, *extra: str) -> List[str]:
        """The same training command with another work_dir (and ``extra``
        arguments, e.g. ``--resume``)."""
        return train_cmd(
            work_dir,
            self.data_root,
            *extra,
            '--cfg-options',
            TENSORBOARD,
            max_epochs=self.max_epochs)


@pytest.fixture(scope='session')
def tiny_trained_run(tmp_path_factory, tiny_mars_root) -> TrainedRun:
    """The tiny demo trained once per test session by the real
    ``tools/train.py``: 3 epochs on :func:`tiny_mars_root`, a checkpoint
    after each, validation and a best checkpoint after the last, TensorBoard
    on. Read it, never change it: write into another work_dir."""
    work_dir = tmp_path_factory.mktemp('tiny_trained_run')
    run = TrainedRun(
        str(work_dir), str(work_dir / 'epoch_3.pth'), '', tiny_mars_root, 3)
    proc = run_tool(run.train_cmd(work_dir))
    return run._replace(log=proc.stdout + proc.stderr)


@pytest.fixture
def lsvid_root(tmp_path):
    """A tiny LS-VID tree in the published layout (empty frame files)."""
    return make_lsvid_tree(tmp_path)


@pytest.fixture
def prid_root(tmp_path):
    """A tiny PRID-2011 tree as torchreid documents it (decodable PNGs)."""
    return make_prid_tree(tmp_path)


@pytest.fixture
def write_v73():
    """Write MATLAB v7.3 (HDF5) files: ``write_v73(path, key=array)``."""
    return lambda path, **arrays: write_mat_v73(path, arrays)


def _shared_data(name: str, env: str, probe: str) -> Path:
    """A folder of real metadata: ``$<env>`` or ``shared/data/<name>`` next
    to the repository (as CI clones it); the test is skipped without it."""
    default = Path(__file__).resolve().parents[2] / 'shared' / 'data' / name
    path = Path(os.environ.get(env, default))
    if not (path / probe).is_file():
        pytest.skip(f'real {name} metadata not found at {path}')
    return path


@pytest.fixture(scope='session')
def mars_info() -> str:
    """The real MARS ``info/`` folder: ``$MMREID_MARS_INFO`` or
    ``shared/data/mars_info`` next to the repository (as CI clones it)."""
    return str(
        _shared_data('mars_info', 'MMREID_MARS_INFO', 'tracks_test_info.mat'))


@pytest.fixture(scope='session')
def lsvid_info() -> str:
    """The real LS-VID ``test/data/`` files (``info_test.mat``, MATLAB 7.3;
    ``info_val.mat``, MATLAB 5): ``$MMREID_LSVID_INFO`` or
    ``shared/data/lsvid_info`` next to the repository."""
    return str(
        _shared_data('lsvid_info', 'MMREID_LSVID_INFO', 'info_test.mat'))


@pytest.fixture(scope='session')
def lsvid_real_frames(tmp_path_factory, lsvid_info) -> Path:
    """One empty frame per row of the real ``info_test`` of the test and
    the validation split (built once, linked into each test's root)."""
    from mmreid_video.datasets.readers import load_mat_array
    folder = tmp_path_factory.mktemp('lsvid_frames')
    for split in ('test', 'val'):
        info = load_mat_array(
            str(Path(lsvid_info) / f'info_{split}.mat'), 'info_test')
        make_lsvid_frames(folder, info, split)
    return folder

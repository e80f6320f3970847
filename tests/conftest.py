# Copyright (c) mmreid_video contributors. All rights reserved.
"""Fixtures shared by the whole test suite.

Plain helpers that tests import live beside this file (several test folders
have a conftest module, so this one cannot be imported by name):
``fixture_trees`` (dataset trees), ``fixture_models`` (tiny model configs),
``fixture_rank`` (a per-query rank-evaluation loop and random cases) and
``test_tools/tool_runner`` (running and importing tool scripts).
"""
import os
import socket
from pathlib import Path

import pytest
from fixture_trees import make_lsvid_tree, make_prid_tree, write_mat_v73

from mmreid_video.datasets import make_synthetic_mars


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def tiny_mars_root(tmp_path_factory) -> str:
    """A tiny MARS-layout dataset for end-to-end tool runs."""
    root = str(tmp_path_factory.mktemp('tiny_mars'))
    make_synthetic_mars(
        root,
        seed=1,
        num_train_ids=8,
        num_test_ids=6,
        tracklets_per_id=(2, 3),
        frames_per_tracklet=(4, 8),
        num_distractors=2,
        num_junk=2)
    return root


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


@pytest.fixture(scope='session')
def mars_info() -> str:
    """The real MARS ``info/`` folder: ``$MMREID_MARS_INFO`` or
    ``shared/data/mars_info`` next to the repository (as CI clones it)."""
    default = Path(__file__).resolve().parents[2] / 'shared' / 'data' / \
        'mars_info'
    path = Path(os.environ.get('MMREID_MARS_INFO', default))
    if not (path / 'tracks_test_info.mat').is_file():
        pytest.skip(f'real MARS metadata not found at {path}')
    return str(path)

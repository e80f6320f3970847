"""Fixtures shared by the whole test suite."""
import os
import socket
from pathlib import Path

import pytest
from fixture_trees import make_lsvid_tree, make_prid_tree


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def lsvid_root(tmp_path):
    """A tiny LS-VID tree in the published layout (empty frame files)."""
    return make_lsvid_tree(tmp_path)


@pytest.fixture
def prid_root(tmp_path):
    """A tiny PRID-2011 tree as torchreid documents it (decodable PNGs)."""
    return make_prid_tree(tmp_path)


V73_HEADER = (b'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: '
              b'Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .').ljust(116)


def _write_v73(path, **arrays) -> None:
    """A MATLAB v7.3 file: HDF5 after a 512-byte MAT header, transposed;
    a value of None writes a group (as MATLAB does for a struct)."""
    import h5py
    import numpy as np
    with h5py.File(path, 'w', userblock_size=512) as f:
        for key, value in arrays.items():
            if value is None:
                f.create_group(key)
            else:
                f[key] = np.asarray(value).T  # MATLAB is column-major
    with open(path, 'r+b') as f:
        f.write(V73_HEADER + bytes(8) + b'\x00\x02IM')


@pytest.fixture
def write_v73():
    """Write MATLAB v7.3 (HDF5) files: ``write_v73(path, key=array)``."""
    return _write_v73


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

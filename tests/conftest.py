"""Fixtures shared by the whole test suite."""
import os
import socket
from pathlib import Path

import pytest


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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

"""Fixtures shared by the whole test suite."""
import socket

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

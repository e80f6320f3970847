# Copyright (c) mmreid_video contributors. All rights reserved.
"""atomic_output / atomic_write (whole file or nothing, the path named on a
full disk) and check_regular_file (no read that waits forever)."""
import errno
import os

import pytest

from mmreid_video.fileio import atomic_output, atomic_write, check_regular_file


def test_atomic_output_publishes_only_a_finished_file(tmp_path):
    path = tmp_path / 'sub' / 'model.onnx'
    with atomic_output(path) as tmp:
        assert os.path.dirname(tmp) == str(path.parent)
        assert os.path.basename(tmp).startswith('.model.onnx.')
        with open(tmp, 'wb') as f:
            f.write(b'new')
    assert path.read_bytes() == b'new'
    with pytest.raises(RuntimeError, match='check failed'):
        with atomic_output(path) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'bad')
            raise RuntimeError('check failed')
    assert path.read_bytes() == b'new'
    assert os.listdir(path.parent) == ['model.onnx']


def test_full_disk_names_the_file(tmp_path):
    path = tmp_path / 'r.json'
    path.write_bytes(b'old')

    def full(f):
        f.write(b'part')
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError) as info:
        atomic_write(full, path)
    assert info.value.errno == errno.ENOSPC
    assert f'No space left on device while writing {path}' in str(info.value)
    assert path.read_bytes() == b'old' and os.listdir(tmp_path) == ['r.json']


def test_check_regular_file(tmp_path):
    (tmp_path / 'f').write_bytes(b'x')
    os.symlink(tmp_path / 'f', tmp_path / 'link')
    os.mkfifo(tmp_path / 'pipe')
    check_regular_file(tmp_path / 'f')
    check_regular_file(tmp_path / 'link')
    check_regular_file(tmp_path / 'missing')  # the caller's open says so
    for path, kind in ((tmp_path / 'pipe', 'a named pipe'),
                       (tmp_path, 'a folder'), ('/dev/null',
                                                'a character device')):
        with pytest.raises(ValueError, match=f'{path} is {kind}, not a'):
            check_regular_file(path)

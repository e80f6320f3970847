# Copyright (c) mmreid_video contributors. All rights reserved.
"""Output paths are checked before any work is done."""
import os

import pytest

from mmreid_video.utils import check_output_path


def test_writable_path_passes_and_creates_folders(tmp_path):
    out = tmp_path / 'new' / 'dir' / 'results.pkl'
    check_output_path(str(out), '--out', ('.pkl', '.npz'))
    assert os.listdir(tmp_path / 'new' / 'dir') == []  # probe removed


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes anywhere')
def test_unwritable_folder_and_file(tmp_path):
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(
                PermissionError,
                match=f'--out {locked}/r.pkl: cannot write into '
                f'{locked}'):
            check_output_path(str(locked / 'r.pkl'), '--out')
    finally:
        locked.chmod(0o700)
    read_only = tmp_path / 'r.pkl'
    read_only.write_bytes(b'old')
    read_only.chmod(0o400)
    with pytest.raises(PermissionError, match='exists and is read-only'):
        check_output_path(str(read_only), '--out')


def test_wrong_suffix_and_folder(tmp_path):
    with pytest.raises(ValueError, match='must end with .pkl or .npz'):
        check_output_path(str(tmp_path / 'r.txt'), '--out', ('.pkl', '.npz'))
    with pytest.raises(ValueError, match='is a folder'):
        check_output_path(str(tmp_path), '--out')


def test_parent_that_is_a_file(tmp_path):
    # Fails for every user, root included.
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(
            PermissionError,
            match=f'--out {tmp_path}/notes.txt/r.pkl: cannot '
            'write into'):
        check_output_path(str(tmp_path / 'notes.txt' / 'r.pkl'), '--out')

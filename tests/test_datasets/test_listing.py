# Copyright (c) mmreid_video contributors. All rights reserved.
"""Files operating systems add to folders are not dataset files."""
import pytest

from mmreid_video.datasets.listing import is_os_file, list_visible


@pytest.mark.parametrize('name', [
    'Thumbs.db', 'thumbs.db', 'desktop.ini', 'Desktop.ini', 'ehthumbs.db',
    '.DS_Store', '._0001.jpg', '.hidden', 'Icon\r'
])
def test_os_files(name):
    assert is_os_file(name)


@pytest.mark.parametrize('name', ['0001.jpg', 'notes.txt', 'thumbs.jpg'])
def test_dataset_files(name):
    assert not is_os_file(name)


def test_list_visible(tmp_path):
    for name in ('b.jpg', 'a.jpg', 'Thumbs.db', '._a.jpg', 'x.txt'):
        (tmp_path / name).write_bytes(b'')
    assert list_visible(str(tmp_path)) == ['a.jpg', 'b.jpg', 'x.txt']

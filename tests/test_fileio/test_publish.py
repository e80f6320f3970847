# Copyright (c) mmreid_video contributors. All rights reserved.
"""publish_folder: a generated folder appears whole or not at all, and old
content is replaced only as its owner says."""
import os
import shutil

import pytest

import mmreid_video.fileio.publish as publish_mod
from mmreid_video.fileio import (is_empty_folder, publish_folder,
                                 remove_stale_siblings)
from mmreid_video.fileio._owner import host_tag


def write(files):
    """A build writing ``{relative path: text}``; returns their count."""

    def build(folder):
        for rel, text in files.items():
            path = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)
        return len(files)

    return build


def content(root):
    return {
        os.path.relpath(os.path.join(d, n), root):
        open(os.path.join(d, n)).read()
        for d, _, names in os.walk(root) for n in names
    }


def test_missing_or_empty_target_gets_the_whole_folder(tmp_path):
    target = tmp_path / 'out'
    assert publish_folder(target, write({'a.txt': '1', 'b/c.txt': '2'})) == 2
    assert content(target) == {'a.txt': '1', 'b/c.txt': '2'}
    assert os.listdir(tmp_path) == ['out']  # no hidden sibling left
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~umask
    empty = tmp_path / 'empty'
    empty.mkdir()
    publish_folder(empty, write({'x': 'y'}))
    assert content(empty) == {'x': 'y'}


def test_refusals_change_nothing(tmp_path):
    full = tmp_path / 'full'
    full.mkdir()
    (full / 'mine.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='is not empty'):
        publish_folder(full, write({'x': 'y'}))
    afile = tmp_path / 'afile'
    afile.write_text('keep')
    with pytest.raises(FileExistsError, match='is not a folder'):
        publish_folder(afile, write({'x': 'y'}), remove_old=shutil.rmtree)
    assert content(full) == {'mine.txt': 'user data'}
    assert afile.read_text() == 'keep'
    assert sorted(os.listdir(tmp_path)) == ['afile', 'full']


def test_failed_build_leaves_nothing(tmp_path):
    target = tmp_path / 'out'

    def crash(folder):
        write({'half.jpg': 'x'})(folder)
        raise RuntimeError('killed')

    with pytest.raises(RuntimeError, match='killed'):
        publish_folder(target, crash)
    assert os.listdir(tmp_path) == []


def test_replace_removes_only_what_the_owner_owns(tmp_path):
    target = tmp_path / 'out'
    publish_folder(target, write({'gen/a.txt': 'old', 'notes.txt': 'mine'}))
    removed = []

    def remove_generated(aside):
        removed.append(aside)
        os.remove(os.path.join(aside, 'gen', 'a.txt'))

    publish_folder(target, write({'gen/a.txt': 'new'}), remove_generated)
    assert content(target) == {'gen/a.txt': 'new'}
    # The user's file is kept, in the moved-aside folder (not lost).
    aside = [n for n in os.listdir(tmp_path) if n != 'out']
    assert len(aside) == 1 and aside[0].startswith('.out.old-')
    assert content(tmp_path / aside[0]) == {'notes.txt': 'mine'}
    # Everything owned: the aside folder goes too.
    shutil.rmtree(tmp_path / aside[0])
    publish_folder(target, write({'v3': '3'}), shutil.rmtree)
    assert os.listdir(tmp_path) == ['out'] and content(target) == {'v3': '3'}


def test_failed_swap_puts_the_old_content_back(tmp_path, monkeypatch):
    target = tmp_path / 'out'
    publish_folder(target, write({'a': 'old'}))
    real_rename = os.rename

    def rename(src, dst):
        if '.out.new-' in str(src):
            raise OSError(28, 'No space left on device')
        real_rename(src, dst)

    monkeypatch.setattr(publish_mod.os, 'rename', rename)
    with pytest.raises(OSError, match='No space'):
        publish_folder(target, write({'a': 'new'}), shutil.rmtree)
    assert content(target) == {'a': 'old'}
    assert os.listdir(tmp_path) == ['out']


def test_another_writer_first_wins(tmp_path):
    target = tmp_path / 'out'

    def other_publishes_meanwhile(folder):
        write({'ours': '1'})(folder)
        publish_folder(target, write({'theirs': '2'}))

    with pytest.raises(FileExistsError, match='filled by another process'):
        publish_folder(target, other_publishes_meanwhile)
    assert content(target) == {'theirs': '2'}
    assert os.listdir(tmp_path) == ['out']


def test_stale_siblings_of_dead_writers_are_cleaned(tmp_path):
    host, hexa = host_tag(), 'a' * 12
    dead, live = 999999999, os.getpid()
    names = {
        'dead_build': f'.out.new-{host}-{dead}-{hexa}',
        'live_build': f'.out.new-{host}-{live}-{hexa}',
        'other_host': f'.out.new-{"0" * 8}-{dead}-{hexa}',
        'dead_aside': f'.out.old-{host}-{dead}-{hexa}',
        'look_alike': f'.out.new-{dead}',
        'other_target': f'.other.new-{host}-{dead}-{hexa}',
    }
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / 'f').write_text('x')
    remove_stale_siblings(tmp_path / 'out')  # no owner: asides stay
    left = set(os.listdir(tmp_path))
    assert left == set(names.values()) - {names['dead_build']}
    remove_stale_siblings(tmp_path / 'out', remove_old=shutil.rmtree)
    assert names['dead_aside'] not in os.listdir(tmp_path)
    assert len(os.listdir(tmp_path)) == len(names) - 2


def test_is_empty_folder(tmp_path):
    assert is_empty_folder(tmp_path / 'missing') and is_empty_folder(tmp_path)
    (tmp_path / 'link').symlink_to(tmp_path / 'missing')
    assert not is_empty_folder(tmp_path) and not is_empty_folder(
        tmp_path / 'link')

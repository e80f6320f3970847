# Copyright (c) mmreid_video contributors. All rights reserved.
import os
import os.path as osp
from unittest.mock import MagicMock

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.runner import save_checkpoint

import mmreid_video.fileio.atomic as atomic_io
from mmreid_video.checkpoint import AtomicLocalBackend

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BACKEND_ARGS = dict(backend='atomic_local')


def test_put_and_put_text_write_whole_files(tmp_path):
    backend = AtomicLocalBackend()
    backend.put(b'\x00weights', tmp_path / 'sub' / 'a.pth')
    backend.put_text('epoch_1.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'sub' / 'a.pth').read_bytes() == b'\x00weights'
    assert backend.get_text(tmp_path / 'last_checkpoint') == 'epoch_1.pth'
    assert sorted(os.listdir(tmp_path)) == ['last_checkpoint', 'sub']
    assert os.listdir(tmp_path / 'sub') == ['a.pth']


def test_file_mode_matches_a_plain_open(tmp_path):
    AtomicLocalBackend().put(b'x', tmp_path / 'atomic')
    with open(tmp_path / 'plain', 'wb') as f:
        f.write(b'x')
    assert os.stat(tmp_path / 'atomic').st_mode == os.stat(tmp_path /
                                                           'plain').st_mode


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'complete old checkpoint')

    def fail_fsync(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(atomic_io.os, 'fsync', fail_fsync)
    with pytest.raises(OSError) as info:
        AtomicLocalBackend().put(b'new but cut short', target)
    # A full disk names the file being written.
    assert info.value.errno == 28
    assert str(info.value) == (
        f'[Errno 28] No space left on device while writing {target} (17 '
        'bytes); the previous content of that file, if any, is unchanged')
    assert target.read_bytes() == b'complete old checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']


def test_registered_and_used_by_the_default_checkpoint_hook(tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'default_runtime.py'))
    hook_cfg = cfg.default_hooks.checkpoint
    assert hook_cfg.backend_args == BACKEND_ARGS
    hook = CheckpointHook(
        interval=1, backend_args=hook_cfg.backend_args, by_epoch=True)
    hook.before_train(MagicMock(work_dir=str(tmp_path)))
    assert isinstance(hook.file_backend, AtomicLocalBackend)
    assert isinstance(
        get_file_backend(str(tmp_path), backend_args=BACKEND_ARGS),
        AtomicLocalBackend)


def test_mmengine_save_checkpoint_renames_into_place(tmp_path, monkeypatch):
    replaced = []
    real_replace = os.replace

    def spy_replace(src, dst):
        replaced.append((osp.dirname(src), dst))
        real_replace(src, dst)

    monkeypatch.setattr(atomic_io.os, 'replace', spy_replace)
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint({'w': torch.ones(2)}, path, backend_args=BACKEND_ARGS)
    assert replaced == [(str(tmp_path), path)]
    assert torch.equal(torch.load(path)['w'], torch.ones(2))

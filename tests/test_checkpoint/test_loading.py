# Copyright (c) mmreid_video contributors. All rights reserved.
import argparse
import os
import pickle

import pytest
import torch
from mmengine.runner import CheckpointLoader

from mmreid_video.checkpoint import load_from_local


def _load(path, map_location=None):
    """Load through MMEngine, as ``load_from`` and ``--resume`` do."""
    return CheckpointLoader.load_checkpoint(str(path), map_location)


@pytest.fixture
def good_ckpt(tmp_path):
    path = tmp_path / 'epoch_2.pth'
    torch.save(
        dict(meta=dict(epoch=2), state_dict={'w': torch.ones(64)}), path)
    return path


def test_registered_for_local_paths(good_ckpt):
    assert CheckpointLoader._get_checkpoint_loader(
        str(good_ckpt)) is load_from_local
    ckpt = _load(good_ckpt, map_location='cpu')
    assert ckpt['meta']['epoch'] == 2
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(64))


def test_missing_file_is_named(tmp_path):
    path = tmp_path / 'epoch_9.pth'
    with pytest.raises(FileNotFoundError, match=f'{path} does not exist'):
        _load(path)


def test_empty_path_points_at_last_checkpoint():
    with pytest.raises(FileNotFoundError, match='last_checkpoint'):
        load_from_local('', None)


def _assert_corrupt(path):
    with pytest.raises(RuntimeError) as info:
        _load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert 'corrupt or truncated' in msg
    assert 'epoch_N.pth' in msg


@pytest.mark.parametrize('keep', [0.5, 0.99])
def test_truncated_checkpoint(good_ckpt, keep):
    data = good_ckpt.read_bytes()
    good_ckpt.write_bytes(data[:int(len(data) * keep)])
    _assert_corrupt(good_ckpt)


def test_zero_byte_checkpoint(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    path.write_bytes(b'')
    _assert_corrupt(path)


def test_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    path.write_text('this is a log file, not weights\n')
    _assert_corrupt(path)


def test_other_errors_pass_through(good_ckpt):

    def bad_location(storage, location):
        raise RuntimeError('no such device')

    with pytest.raises(RuntimeError, match='^no such device$'):
        _load(good_ckpt, map_location=bad_location)


def test_unlisted_global_is_refused_with_trust_hint(tmp_path):
    path = tmp_path / 'crafted.pth'
    torch.save({'state_dict': {}, 'args': argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(pickle.UnpicklingError) as info:
        _load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert 'argparse.Namespace' in msg
    assert 'torch.serialization.add_safe_globals([argparse.Namespace])' in msg
    assert 'trusted source' in msg

    with torch.serialization.safe_globals([argparse.Namespace]):
        ckpt = _load(path)
    assert ckpt['args'].lr == 0.1
    with pytest.raises(pickle.UnpicklingError):
        _load(path)  # the context manager did not leak the allowance


class _RunsCode:

    def __reduce__(self):
        return (os.system, ('echo pwned', ))


def test_blocked_global_is_refused_without_trust_hint(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _RunsCode()}, path)
    with pytest.raises(
            pickle.UnpicklingError, match='do not load this file') as info:
        _load(path)
    assert 'system' in str(info.value)
    assert 'add_safe_globals' not in str(info.value)


def test_bare_tensor_says_what_a_checkpoint_holds(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save(torch.ones(3), path)
    with pytest.raises(TypeError) as info:
        _load(path)
    assert str(info.value) == (
        f'Checkpoint {path} holds a Tensor, not a dict. A checkpoint must be '
        'a dict with the model weights under "state_dict" (parameter name -> '
        'tensor), as tools/train.py and mmengine.runner.save_checkpoint '
        'write it, or be such a parameter-name -> tensor dict itself.')

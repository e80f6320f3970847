# Copyright (c) mmreid_video contributors. All rights reserved.
import pytest

from mmreid_video.checkpoint import (check_resumable, find_resume_checkpoint,
                                     resolve_resume_checkpoint)


def _touch(path):
    path.write_bytes(b'x')
    return str(path)


def test_last_checkpoint_is_followed(tmp_path):
    _touch(tmp_path / 'epoch_3.pth')
    named = _touch(tmp_path / 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(named)
    assert find_resume_checkpoint(str(tmp_path)) == named


def test_unusable_pointer_falls_back_to_newest_epoch(tmp_path):
    _touch(tmp_path / 'epoch_2.pth')
    newest = _touch(tmp_path / 'epoch_10.pth')
    _touch(tmp_path / 'best_reid_mAP_epoch_11.pth')
    # An interrupted pointer write leaves an empty file.
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(str(tmp_path)) == newest
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == newest


def test_nothing_to_resume(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) is None


def test_resolve_refuses_nothing_to_resume(tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match=f'--resume: the work_dir {tmp_path}/typo does '
            'not exist'):
        resolve_resume_checkpoint(str(tmp_path / 'typo'), 'auto')
    with pytest.raises(
            FileNotFoundError,
            match=f'--resume: nothing to resume in {tmp_path}'):
        resolve_resume_checkpoint(str(tmp_path), 'auto')
    with pytest.raises(
            FileNotFoundError,
            match='--resume nope.pth: no such checkpoint file'):
        resolve_resume_checkpoint(str(tmp_path), 'nope.pth')
    newest = _touch(tmp_path / 'epoch_4.pth')
    assert resolve_resume_checkpoint(str(tmp_path), 'auto') == newest
    assert resolve_resume_checkpoint(str(tmp_path), newest) == newest


def test_check_resumable_names_what_is_missing_or_restored():
    full = dict(
        meta=dict(epoch=3, iter=30),
        state_dict={},
        optimizer={},
        param_schedulers=[],
        message_hub={})
    assert check_resumable(full, 'f.pth') == [
        'model weights', 'optimizer state', 'parameter schedulers',
        'message hub', 'epoch 3 / iteration 30'
    ]
    best = dict(meta=dict(epoch=3, iter=30), state_dict={}, message_hub={})
    with pytest.raises(RuntimeError) as info:
        check_resumable(best, 'best.pth')
    msg = str(info.value)
    assert msg.startswith(
        'Cannot resume from best.pth: it lacks the optimizer state '
        '("optimizer"), the parameter scheduler state ("param_schedulers") '
        '(it holds: message_hub, meta, state_dict).')
    assert '--cfg-options load_from=best.pth' in msg
    # A run without schedulers does not need their state.
    assert 'epoch 3 / iteration 30' in check_resumable(
        dict(best, optimizer={}), 'best.pth', needs_schedulers=False)
    with pytest.raises(RuntimeError, match='epoch/iteration counters'):
        check_resumable(dict(full, meta={}), 'f.pth')


def test_same_run_refuses_changes_that_alter_it():
    from mmengine.config import Config

    from mmreid_video.checkpoint import check_same_run
    saved = dict(
        train_dataloader=dict(
            batch_size=8, num_workers=4, dataset=dict(data_root='a')),
        model=dict(type='VideoReID', clips_per_forward=64),
        default_hooks=dict(logger=dict(interval=50)),
        data_root='a')  # a helper variable: its use is compared
    new = Config(saved).copy()
    new.train_dataloader.num_workers = 0
    new.default_hooks.logger.interval = 5
    new.model.clips_per_forward = 8
    new.data_root = 'b'
    harmless = check_same_run(saved, new, 'e.pth')
    assert [c[0] for c in harmless] == [
        'model.clips_per_forward', 'train_dataloader.num_workers',
        'default_hooks.logger.interval'
    ]
    new.train_dataloader.batch_size = 4
    new.train_dataloader.dataset.data_root = 'b'
    with pytest.raises(RuntimeError) as info:
        check_same_run(saved, new, 'e.pth')
    msg = str(info.value)
    assert ("train_dataloader.batch_size: 8 -> 4; "
            "train_dataloader.dataset.data_root: 'a' -> 'b'") in msg
    assert 'load_from=e.pth' in msg and 'num_workers' not in msg
    assert check_same_run(None, new, 'e.pth') == []


def test_pointer_of_a_copied_work_dir_names_its_own_file(tmp_path):
    original, copy = tmp_path / 'a', tmp_path / 'b'
    for folder in (original, copy):
        folder.mkdir()
        _touch(folder / 'epoch_2.pth')
        # MMEngine's pointer holds the path it saved to: the original's.
        (folder / 'last_checkpoint').write_text(str(original / 'epoch_2.pth'))
    assert find_resume_checkpoint(str(copy)) == str(copy / 'epoch_2.pth')

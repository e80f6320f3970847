# Copyright (c) mmreid_video contributors. All rights reserved.
"""SafeCheckpointHook: best checkpoint written before the old one goes, a
resumed run gets a best checkpoint again, mismatching loads are refused."""
import logging
import os
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import FileClient
from mmengine.logging import MessageHub, MMLogger
from torch import nn

from mmreid_video.engine import SafeCheckpointHook
from mmreid_video.registry import HOOKS

KEY = 'reid/mAP'


class _FakeRunner(SimpleNamespace):
    """What CheckpointHook's best-checkpoint code touches of a Runner."""

    def __init__(self, work_dir, name, **kwargs):
        super().__init__(
            work_dir=str(work_dir),
            epoch=0,
            iter=0,
            message_hub=MessageHub.get_instance(name),
            logger=MMLogger.get_instance(name),
            saved=[],
            fail_on_save=None,
            **kwargs)

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        if self.fail_on_save is not None:
            raise self.fail_on_save
        # What is on disk when the new best is written.
        self.saved.append((filename, sorted(os.listdir(out_dir))))
        with open(os.path.join(out_dir, filename), 'wb') as f:
            f.write(b'weights')


def _hook():
    return HOOKS.build(
        dict(
            type='SafeCheckpointHook',
            interval=1,
            save_best=KEY,
            rule='greater',
            backend_args=dict(backend='atomic_local')))


def _validate(hook, runner, epoch, score):
    runner.epoch = runner.iter = epoch
    hook.after_val_epoch(runner, {KEY: score})


def _first_best(tmp_path, name):
    """A hook and runner after a first validation wrote a best at epoch 1."""
    runner = _FakeRunner(tmp_path, name)
    hook = _hook()
    hook.before_train(runner)
    _validate(hook, runner, 1, 50.)
    return hook, runner


def test_new_best_is_written_before_the_old_one_is_removed(tmp_path):
    hook, runner = _first_best(tmp_path, 'safe_ckpt_order')
    _validate(hook, runner, 2, 60.)
    # The old best was still on disk while its successor was written.
    assert runner.saved == [('best_reid_mAP_epoch_1.pth', []),
                            ('best_reid_mAP_epoch_2.pth',
                             ['best_reid_mAP_epoch_1.pth'])]
    assert os.listdir(tmp_path) == ['best_reid_mAP_epoch_2.pth']
    _validate(hook, runner, 3, 55.)  # not better: nothing changes
    assert os.listdir(tmp_path) == ['best_reid_mAP_epoch_2.pth']


def test_failed_write_keeps_the_previous_best(tmp_path):
    hook, runner = _first_best(tmp_path, 'safe_ckpt_fail')
    runner.fail_on_save = OSError(28, 'No space left on device')
    with pytest.raises(OSError, match='No space'):
        _validate(hook, runner, 2, 60.)
    assert os.listdir(tmp_path) == ['best_reid_mAP_epoch_1.pth']


def test_same_name_best_is_not_removed(tmp_path):
    hook, runner = _first_best(tmp_path, 'safe_ckpt_same')
    _validate(hook, runner, 1, 70.)  # e.g. re-validated after a resume
    assert os.listdir(tmp_path) == ['best_reid_mAP_epoch_1.pth']


@pytest.mark.parametrize('recorded', ['missing', 'other_dir'])
def test_resumed_run_writes_a_best_again(tmp_path, recorded):
    other = tmp_path / 'other'
    other.mkdir()
    work = tmp_path / 'work'
    work.mkdir()
    if recorded == 'missing':
        best = work / 'best_reid_mAP_epoch_3.pth'
    else:
        best = other / 'best_reid_mAP_epoch_3.pth'
        best.write_bytes(b'the other run')
    runner = _FakeRunner(work, f'safe_ckpt_resume_{recorded}')
    # What a resumed message hub holds.
    runner.message_hub.update_info('best_score', 90.)
    runner.message_hub.update_info('best_ckpt', str(best))
    hook = _hook()
    hook.before_train(runner)
    _validate(hook, runner, 4, 10.)  # worse than 90, still written
    assert os.listdir(work) == ['best_reid_mAP_epoch_4.pth']
    if recorded == 'other_dir':  # never removed from another work_dir
        assert best.read_bytes() == b'the other run'


class _Tiny(nn.Module):

    def __init__(self, width=4):
        super().__init__()
        self.fc = nn.Linear(width, 2)


def _load_runner(tmp_path, name, **cfg):
    return _FakeRunner(
        tmp_path,
        name,
        model=_Tiny(),
        cfg=Config(dict(load_from=str(tmp_path / 'x.pth'), **cfg)),
        param_schedulers=[object()])


def test_after_load_refuses_another_models_weights(tmp_path):
    hook = _hook()
    runner = _load_runner(tmp_path, 'safe_ckpt_load')
    ckpt = dict(state_dict={'conv.weight': torch.ones(1)})
    with pytest.raises(RuntimeError) as info:
        hook.after_load_checkpoint(runner, ckpt)
    msg = str(info.value)
    assert str(tmp_path / 'x.pth') in msg
    assert 'fc.weight' in msg and 'conv.weight' in msg
    assert 'allow_partial_load=True' in msg
    runner = _load_runner(
        tmp_path, 'safe_ckpt_partial', allow_partial_load=True)
    hook.after_load_checkpoint(runner, ckpt)  # warns only


def test_after_load_refuses_resuming_from_weights_only(tmp_path):
    hook = _hook()
    model = _Tiny()
    runner = _load_runner(tmp_path, 'safe_ckpt_resume_check', resume=True)
    runner.model = model
    weights_only = dict(
        meta=dict(epoch=3, iter=30), state_dict=model.state_dict())
    with pytest.raises(
            RuntimeError,
            match='Cannot resume from .*x.pth: '
            'it lacks the optimizer state'):
        hook.after_load_checkpoint(runner, weights_only)
    full = dict(
        weights_only, optimizer={}, param_schedulers=[], message_hub={})
    hook.after_load_checkpoint(runner, full)


def test_is_the_default_checkpoint_hook():
    cfg = Config.fromfile('configs/_base_/default_runtime.py')
    assert cfg.default_hooks.checkpoint.type == 'SafeCheckpointHook'
    assert cfg.allow_partial_load is False
    assert isinstance(_hook(), SafeCheckpointHook)


def test_saving_logs_no_file_client_notice(tmp_path):
    runner = _FakeRunner(tmp_path, 'safe_ckpt_notice')
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    MMLogger.get_current_instance().addHandler(handler)
    try:
        hook = _hook()
        hook.before_train(runner)
        _validate(hook, runner, 1, 50.)
        assert records and not any('FileClient' in r for r in records)
        # Only while the hook works: elsewhere the notice is untouched.
        FileClient.infer_client(None, str(tmp_path))
        assert '"FileClient" will be deprecated' in records[-1]
    finally:
        MMLogger.get_current_instance().removeHandler(handler)


def test_full_disk_while_writing_the_pointer_names_it(tmp_path, monkeypatch):
    import mmengine.hooks.checkpoint_hook as mmengine_hook
    runner = _FakeRunner(tmp_path, 'safe_ckpt_pointer')
    hook = _hook()
    hook.before_train(runner)

    def full_disk(*args, **kwargs):
        raise OSError(28, 'No space left on device')  # no file name

    monkeypatch.setattr(mmengine_hook, 'open', full_disk, raising=False)
    with pytest.raises(OSError) as info:
        hook._save_checkpoint(runner)
    assert str(info.value) == (
        f'[Errno 28] No space left on device while writing {tmp_path}/'
        f'last_checkpoint after saving {tmp_path}/epoch_1.pth; --resume '
        'falls back to the newest epoch_N.pth')


def test_unknown_arguments_fail_when_built():
    # MMEngine would pass them to Runner.save_checkpoint after an epoch.
    with pytest.raises(TypeError) as info:
        HOOKS.build(dict(type='SafeCheckpointHook', max_keep_ckpt=1))
    assert "'max_keep_ckpt' (did you mean 'max_keep_ckpts'?)" in str(
        info.value)
    assert 'default_hooks.checkpoint' in str(info.value)


def test_checkpoints_carry_the_model_architecture(tmp_path):
    from fixture_models import tiny_denseil_cfg

    from mmreid_video.checkpoint import architecture_meta
    from mmreid_video.registry import MODELS
    cfg = tiny_denseil_cfg()
    model = MODELS.build(cfg)
    checkpoint = dict(meta=dict(epoch=1))
    _hook().before_save_checkpoint(
        _FakeRunner(tmp_path, 'safe_ckpt_meta', model=model), checkpoint)
    assert checkpoint['meta']['epoch'] == 1
    meta = architecture_meta(cfg)
    assert checkpoint['meta']['model_fingerprint'] == meta['model_fingerprint']
    assert checkpoint['meta']['model_architecture']['neck']['type'] == \
        'DIDecoder'


def _resumable(model, **cfg):
    return dict(
        meta=dict(epoch=2, iter=20, cfg=Config(cfg).pretty_text),
        state_dict=model.state_dict(),
        optimizer={},
        param_schedulers=[],
        message_hub={})


def test_resume_refuses_a_config_that_alters_the_run(tmp_path):
    hook = _hook()
    runner = _load_runner(
        tmp_path,
        'safe_ckpt_same_run',
        resume=True,
        train_dataloader=dict(batch_size=4, num_workers=0),
        default_hooks=dict(logger=dict(interval=5)))
    saved = dict(
        train_dataloader=dict(batch_size=8, num_workers=2),
        default_hooks=dict(logger=dict(interval=50)))
    with pytest.raises(RuntimeError) as info:
        hook.after_load_checkpoint(runner, _resumable(runner.model, **saved))
    msg = str(info.value)
    assert 'train_dataloader.batch_size: 8 -> 4' in msg
    assert 'num_workers' not in msg and 'interval' not in msg
    # Harmless changes alone pass, with a note.
    saved['train_dataloader']['batch_size'] = 4
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    runner.logger.addHandler(handler)
    hook.after_load_checkpoint(runner, _resumable(runner.model, **saved))
    runner.logger.removeHandler(handler)
    assert any('default_hooks.logger.interval: 50 -> 5' in r
               and 'train_dataloader.num_workers: 2 -> 0' in r
               for r in records)


class _ValLoop:

    def __init__(self):
        self.runs = 0

    def run(self):
        self.runs += 1


def _train_loop(epoch, max_epochs, val_interval, val_begin=1):
    """An epoch-based loop resumed at ``epoch``, without its Runner."""
    from mmengine.runner import EpochBasedTrainLoop
    from mmengine.runner.utils import calc_dynamic_intervals
    loop = EpochBasedTrainLoop.__new__(EpochBasedTrainLoop)
    loop._epoch, loop._max_epochs = epoch or 0, max_epochs
    loop.val_begin = val_begin
    loop.dynamic_milestones, loop.dynamic_intervals = calc_dynamic_intervals(
        val_interval, None)
    return loop


@pytest.mark.parametrize(
    'epoch,max_epochs,interval,runs',
    [
        (4, 4, 3, 1),  # the last epoch: always validated
        (3, 9, 3, 1),  # a validation epoch
        (2, 9, 3, 0),  # no validation after it
        (None, 4, 1, 0),  # not resumed
    ])
def test_resume_runs_the_validation_of_the_resumed_epoch(
        tmp_path, epoch, max_epochs, interval, runs):
    hook = _hook()
    runner = _FakeRunner(
        tmp_path,
        f'safe_ckpt_val_{epoch}_{max_epochs}',
        train_loop=_train_loop(epoch, max_epochs, interval),
        val_loop=_ValLoop())
    hook._resumed_epoch = epoch
    hook.before_train(runner)
    assert runner.val_loop.runs == runs
    hook.before_train(runner)  # once only
    assert runner.val_loop.runs == runs

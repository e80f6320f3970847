# Copyright (c) mmreid_video contributors. All rights reserved.
"""check_config: every component config's keys and values against the
class it configures, before the run is built (issue 23)."""
import glob

import pytest
from mmengine.config import Config
from mmengine.hooks import CheckpointHook, LoggerHook

from mmreid_video.engine import SafeCheckpointHook
from mmreid_video.utils import check_config, load_config
from mmreid_video.utils.config_check import accepted_arguments, config_problems

DEMO = 'configs/demo/baseline_r18_demo.py'


@pytest.mark.parametrize('path',
                         sorted(glob.glob('configs/*/*.py')) +
                         ['configs/_base_/'
                          'default_runtime.py'])
def test_shipped_configs_pass(path):
    check_config(load_config(path))


def test_accepted_arguments_follow_kwargs_up_the_mro():
    # SafeCheckpointHook(**kwargs) -> CheckpointHook(..., **kwargs), whose
    # extra arguments are accepted nowhere.
    assert set(accepted_arguments(SafeCheckpointHook)) == set(
        accepted_arguments(CheckpointHook))
    assert 'max_keep_ckpts' in accepted_arguments(SafeCheckpointHook)
    assert 'interval' in accepted_arguments(LoggerHook)

    class Open:

        def __init__(self, a: int = 1, **kwargs):
            self.kwargs = kwargs

    assert accepted_arguments(Open) is None  # kwargs used in ways unknown


def _problems(**changes):
    cfg = load_config(DEMO)
    cfg.merge_from_dict(changes)
    return dict(config_problems(cfg))


def test_unknown_keys_with_the_closest_name():
    problems = _problems(
        **{
            'default_hooks.checkpoint.max_keep_ckpt': 1,
            'train_cfg.max_epoch': 3,
            'optim_wrapper.optimizer.weight_decy': 0.,
            'custom_hooks': [dict(type='EpochReseedHook', sed=1)],
            'train_dataloader.dataset.pipeline.1.scales': (32, 64),
        })
    assert set(problems) == {
        'default_hooks.checkpoint.max_keep_ckpt', 'train_cfg.max_epoch',
        'optim_wrapper.optimizer.weight_decy', 'custom_hooks[0].sed',
        'train_dataloader.dataset.pipeline[1].scales'
    }
    assert "(did you mean 'max_keep_ckpts'?)" in problems[
        'default_hooks.checkpoint.max_keep_ckpt']
    assert problems['train_cfg.max_epoch'].startswith(
        'EpochBasedTrainLoop has no argument')


def test_strings_where_numbers_belong_and_loader_workers():
    problems = _problems(
        **{
            'optim_wrapper.optimizer.lr': '1e-3x',
            'randomness.seed': 'abc',
            'train_cfg.val_interval': 'one',
            'default_hooks.checkpoint.interval': '1x',
            'val_dataloader.num_workers': 0,
            'val_dataloader.persistent_workers': True,
            'train_dataloader.batch_size': 8,
        })
    assert problems['optim_wrapper.optimizer.lr'] == (
        "Adam: '1e-3x' is a string; expected Tensor or float")
    assert problems['randomness.seed'] == (
        "set_random_seed: 'abc' is a string; expected None or int")
    assert 'train_cfg.val_interval' in problems
    assert 'default_hooks.checkpoint.interval' in problems
    assert 'num_workers > 0' in problems['val_dataloader.persistent_workers']
    assert len(problems) == 5


def test_error_names_the_file_and_the_cfg_options():
    cfg = load_config(DEMO)
    cfg.merge_from_dict({'randomness.seed': 'abc'})
    with pytest.raises(ValueError) as info:
        check_config(cfg, {'randomness.seed': 'abc'})
    assert str(info.value).startswith(f'Config {cfg.filename}: 1 problem(s)')
    assert 'randomness.seed: ' in str(info.value)
    assert str(info.value).endswith('(set by --cfg-options)')


def test_unregistered_type_and_constructor_keys():
    cfg = Config(
        dict(
            default_hooks=dict(checkpoint=dict(type='SafeCheckpointHok')),
            optim_wrapper=dict(
                constructor='SkipFrozenOptimWrapperConstructor',
                base_constructor='DefaultOptimWrapperConstructor',
                optimizer=dict(type='SGD', lr=0.1))))
    problems = dict(config_problems(cfg))
    assert list(problems) == ['default_hooks.checkpoint.type']
    assert 'SafeCheckpointHok' in problems['default_hooks.checkpoint.type']

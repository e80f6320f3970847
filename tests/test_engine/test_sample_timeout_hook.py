# Copyright (c) mmreid_video contributors. All rights reserved.
"""SampleTimeoutHook: a hanging sample fails with its name, in a worker and
in the main process."""
import signal
import time
from types import SimpleNamespace

import pytest
from mmengine.dataset import BaseDataset, pseudo_collate
from torch.utils.data import DataLoader

from mmreid_video.engine import SampleTimeoutHook
from mmreid_video.engine.hooks.sample_timeout_hook import (SampleWatchdog,
                                                           sample_timeout)


class _Hang:
    """A transform that never finishes on one tracklet."""

    def __init__(self, hang_pid):
        self.hang_pid = hang_pid

    def __call__(self, results):
        results['frame_inds'] = [1, 2]
        if results['pid'] == self.hang_pid:
            time.sleep(60)
        return results


class _Tracklets(BaseDataset):

    def load_data_list(self):
        return [
            dict(
                pid=pid,
                camid=0,
                tracklet_id=f'{pid:04d}C1T0001',
                frame_paths=[f'bbox/{pid:04d}/F{i:03d}.jpg' for i in range(4)])
            for pid in range(4)
        ]


def _loader(num_workers):
    dataset = _Tracklets(pipeline=[_Hang(hang_pid=2)], serialize_data=False)
    return DataLoader(
        dataset,
        batch_size=1,
        num_workers=num_workers,
        collate_fn=pseudo_collate)


@pytest.mark.parametrize('num_workers', [0, 1])
def test_hanging_sample_is_named(num_workers):
    loader = _loader(num_workers)
    hook = SampleTimeoutHook(timeout=0.5)
    hook.before_train(SimpleNamespace(train_dataloader=loader))
    hook.before_train(SimpleNamespace(train_dataloader=loader))  # idempotent
    assert isinstance(loader.dataset.pipeline, SampleWatchdog)
    assert not isinstance(loader.dataset.pipeline.pipeline, SampleWatchdog)
    start = time.monotonic()
    batches = iter(loader)
    with pytest.raises(TimeoutError) as info:
        for _ in batches:
            pass
    assert time.monotonic() - start < 30
    # The hung worker sleeps on; end it now, or shutting the loader down
    # (in whichever later test collects it) waits 5 s for it.
    for worker in getattr(batches, '_workers', []):
        worker.terminate()
    msg = str(info.value)
    assert 'Loading sample 2 of train_dataloader (_Tracklets)' in msg
    assert 'tracklet_id=0002C1T0001, pid=2, camid=0' in msg
    # The frames the pipeline had selected when it hung.
    assert '2 selected frames: bbox/0002/F001.jpg, bbox/0002/F002.jpg' in msg
    assert 'took more than 0.5 s' in msg


def test_fast_samples_pass_and_off_switch():
    loader = _loader(0)
    loader.dataset.pipeline.transforms[0].hang_pid = -1
    SampleTimeoutHook(timeout=5).before_val(
        SimpleNamespace(val_dataloader=loader))
    assert [b['pid'][0] for b in loader] == [0, 1, 2, 3]
    # transforms of the wrapped pipeline stay reachable
    assert isinstance(loader.dataset.pipeline.transforms[0], _Hang)
    loader = _loader(0)
    SampleTimeoutHook(timeout=None).before_test(
        SimpleNamespace(test_dataloader=loader))
    assert not isinstance(loader.dataset.pipeline, SampleWatchdog)
    with pytest.raises(ValueError, match='timeout must be > 0'):
        SampleTimeoutHook(timeout=0)


def test_sample_timeout_of_a_config():
    from mmengine.config import ConfigDict
    from mmengine.registry import init_default_scope
    init_default_scope('mmreid_video')
    hook = dict(type='SampleTimeoutHook', timeout=7)
    assert sample_timeout(ConfigDict(default_hooks=dict(x=hook))) == 7
    assert sample_timeout(ConfigDict(custom_hooks=[hook])) == 7
    assert sample_timeout(
        ConfigDict(default_hooks=dict(x=dict(hook, timeout=None)))) is None
    assert sample_timeout(ConfigDict(default_hooks=dict(x=None))) is None
    with pytest.raises(ValueError, match='timeout must be > 0'):
        sample_timeout(
            ConfigDict(default_hooks=dict(x=dict(hook, timeout=-1))))


def test_a_timer_of_the_caller_survives_the_watchdog():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.4)
        watchdog = SampleWatchdog(lambda r: r, 5, 'test')
        assert watchdog(dict(pid=1)) == dict(pid=1)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left <= 0.4
        time.sleep(0.6)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

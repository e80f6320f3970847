# Copyright (c) mmreid_video contributors. All rights reserved.
"""Bad-input rows of issue 9 not covered next to their component: config key
typos, ``--resume`` with a corrupt checkpoint, and worker errors."""
import os
import os.path as osp
import shutil

import pytest
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from tool_runner import run_tool_fails
from torch.utils.data import DataLoader

from mmreid_video.datasets import MARS
from mmreid_video.registry import MODELS, TRANSFORMS


@pytest.mark.parametrize('registry,cfg,name,arg', [
    (TRANSFORMS, dict(type='LoadFrames',
                      scael=(32, 64)), 'LoadFrames', 'scael'),
    (TRANSFORMS, dict(type='PackReIDInputs',
                      with_labels=False), 'PackReIDInputs', 'with_labels'),
    (MODELS, dict(type='BNNeckHead', in_channels=4,
                  num_class=3), 'BNNeckHead', 'num_class'),
])
def test_config_key_typo_names_argument_and_class(registry, cfg, name, arg):
    init_default_scope('mmreid_video')
    with pytest.raises(
            TypeError,
            match=f"{name}.__init__.. got an unexpected keyword argument "
            f"'{arg}'"):
        registry.build(cfg)


@pytest.mark.slow
def test_resume_from_corrupt_checkpoint_names_it(tmp_path, tiny_trained_run):
    with open(tiny_trained_run.checkpoint, 'rb') as f:
        data = f.read()
    # What a killed plain write leaves: the last checkpoint cut in half.
    ckpt = str(tmp_path / osp.basename(tiny_trained_run.checkpoint))
    with open(ckpt, 'wb') as f:
        f.write(data[:len(data) // 2])
    (tmp_path / 'last_checkpoint').write_text(ckpt)

    err = run_tool_fails(tiny_trained_run.train_cmd(tmp_path, '--resume'))
    assert f'Checkpoint {ckpt} ({len(data) // 2} bytes) is corrupt or ' \
        'truncated' in err, err[-3000:]
    assert 'Resume from an earlier checkpoint' in err


def test_worker_error_surfaces_message_and_file(tmp_path, tiny_mars_root):
    init_default_scope('mmreid_video')
    root = str(tmp_path / 'mars')
    shutil.copytree(tiny_mars_root, root)
    dataset = MARS(
        root,
        split='train',
        pipeline=[
            dict(type='EvenlySample', clip_len=4),
            dict(type='LoadFrames'),
        ])
    # EvenlySample always takes the first frame.
    missing = dataset.get_data_info(len(dataset) - 1)['frame_paths'][0]
    os.remove(missing)
    # One tracklet a batch: the tiny tree's tracklets differ in length.
    loader = DataLoader(
        dataset,
        batch_size=1,
        num_workers=2,
        persistent_workers=True,
        collate_fn=pseudo_collate)
    batches = iter(loader)
    msg = _first_error(batches)
    # Shut the persistent workers down now (as DataLoader's __del__ does):
    # left to the garbage collector, their queues may go first and each
    # join then waits 5 s, in whichever later test collects them.
    batches._shutdown_workers()
    assert 'in DataLoader worker process' in msg
    assert f'Frame file not found: {missing}' in msg
    # The worker's traceback points at the transform that failed.
    assert 'transforms/loading.py' in msg


def _first_error(batches) -> str:
    """Iterate ``batches`` (a DataLoader iterator) and return the error
    message it raises.

    Returning only the text drops the traceback, which would keep the
    iterator (and its workers) alive in a reference cycle.
    """
    try:
        for _ in batches:
            pass
    except FileNotFoundError as err:
        return str(err)
    raise AssertionError('the loader raised no FileNotFoundError')

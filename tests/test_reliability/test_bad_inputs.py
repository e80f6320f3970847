"""Bad-input rows of issue 9 not covered next to their component: config key
typos, ``--resume`` with a corrupt checkpoint, and worker errors."""
import os
import subprocess
import sys

import pytest
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

from mmreid_video.datasets import MARS, make_synthetic_mars
from mmreid_video.registry import MODELS, TRANSFORMS
from tool_runner import DEMO_CONFIG, REPO, run_tool, tiny_cfg_options


@pytest.mark.parametrize('registry,cfg,name,arg', [
    (TRANSFORMS, dict(type='LoadFrames', scael=(32, 64)), 'LoadFrames',
     'scael'),
    (TRANSFORMS, dict(type='PackReIDInputs', with_labels=False),
     'PackReIDInputs', 'with_labels'),
    (MODELS, dict(type='BNNeckHead', in_channels=4, num_class=3),
     'BNNeckHead', 'num_class'),
])
def test_config_key_typo_names_argument_and_class(registry, cfg, name, arg):
    init_default_scope('mmreid_video')
    with pytest.raises(
            TypeError,
            match=f"{name}.__init__.. got an unexpected keyword argument "
            f"'{arg}'"):
        registry.build(cfg)


def test_resume_from_corrupt_checkpoint_names_it(tmp_path, tiny_mars_root):
    train = [
        sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', *tiny_cfg_options(tiny_mars_root, 1)
    ]
    run_tool(train)
    with open(tmp_path / 'last_checkpoint') as f:
        ckpt = f.read().strip()
    with open(ckpt, 'rb') as f:
        data = f.read()
    with open(ckpt, 'wb') as f:
        f.write(data[:len(data) // 2])  # what a killed plain write leaves

    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        train[:5] + ['--resume'] + train[5:],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True)
    assert proc.returncode != 0
    assert f'Checkpoint {ckpt} ({len(data) // 2} bytes) is corrupt or ' \
        'truncated' in proc.stderr, proc.stderr[-3000:]
    assert 'Resume from an earlier checkpoint' in proc.stderr


def test_worker_error_surfaces_message_and_file(tmp_path):
    init_default_scope('mmreid_video')
    root = str(tmp_path)
    make_synthetic_mars(
        root,
        num_train_ids=2,
        num_test_ids=2,
        tracklets_per_id=(2, 2),
        frames_per_tracklet=(4, 4),
        num_distractors=0,
        num_junk=0)
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
    loader = DataLoader(
        dataset,
        batch_size=2,
        num_workers=2,
        persistent_workers=True,
        collate_fn=pseudo_collate)
    msg = _first_error(loader)
    # Shut the persistent workers down now; left to the garbage collector,
    # their queues may go first and each join then waits for a timeout.
    del loader
    assert 'in DataLoader worker process' in msg
    assert f'Frame file not found: {missing}' in msg
    # The worker's traceback points at the transform that failed.
    assert 'transforms/loading.py' in msg


def _first_error(loader: DataLoader) -> str:
    """Iterate ``loader`` and return the error message it raises.

    Returning only the text drops the traceback, which would keep the
    loader's iterator (and its workers) alive in a reference cycle.
    """
    try:
        for _ in loader:
            pass
    except FileNotFoundError as err:
        return str(err)
    raise AssertionError('the loader raised no FileNotFoundError')

"""Helpers to run the repository tools on a tiny MARS-layout dataset."""
import os
import os.path as osp
import subprocess
from typing import List

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'demo', 'baseline_r18_demo.py')


def tiny_cfg_options(data_root: str, max_epochs: int = 2) -> List[str]:
    """``--cfg-options`` that shrink the demo config to seconds per epoch."""
    opts = [
        'model.backbone.stem_channels=8', 'model.backbone.base_channels=8',
        'model.head.in_channels=64', 'model.head.num_classes=8',
        'train_dataloader.batch_size=8',
        'train_dataloader.sampler.num_ids=4',
        'train_dataloader.sampler.num_instances=2',
        f'train_cfg.max_epochs={max_epochs}',
        # max_epochs must be the sum of the lr schedule's stages.
        f'param_scheduler.stages.stage1.epochs={max_epochs}',
        f'train_cfg.val_interval={max_epochs}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.logger.interval=1', 'randomness.deterministic=True'
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.dataset.type=MARS',
            f'{loader}.dataset.data_root={data_root}',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    return opts


def run_tool(args: List[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a repository tool in a subprocess; fail with its output."""
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc

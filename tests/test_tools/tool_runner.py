# Copyright (c) mmreid_video contributors. All rights reserved.
"""Helpers to run the repository tools on a tiny MARS-layout dataset and
to import a tool script as a module."""
import importlib.util
import os
import os.path as osp
import subprocess
from types import ModuleType
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


def tool_env() -> dict:
    """The environment of a tool subprocess: this checkout, one thread."""
    return dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')


def run_tool(args: List[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a repository tool in a subprocess; fail with its output."""
    proc = subprocess.run(
        args,
        cwd=REPO,
        env=tool_env(),
        capture_output=True,
        text=True,
        **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def start_tool(args: List[str]) -> subprocess.Popen:
    """Start a repository tool in the background (to kill it mid-run);
    its stderr is kept for the failure message."""
    return subprocess.Popen(
        args,
        cwd=REPO,
        env=tool_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True)


def load_tool(relative_path: str) -> ModuleType:
    """Import a script of the repository (``tools/...``, ``demo/...``; not
    a package) as a module named after its file."""
    path = osp.join(REPO, relative_path)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

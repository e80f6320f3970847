# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of runs, resumes and configs (issue 23), designed from
a user's side.

Cases that build a Runner run ``tools/train.py`` (or ``tools/test.py``) in a
subprocess on a tiny MARS tree, for one epoch at most; a finished one-epoch
run is trained once per process and copied into each case that needs one.
Config mistakes run ``tools/train.py``'s ``main`` in this process: they must
fail before a Runner is built.
"""
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Sequence

from _adversarial_base import err, mars, ok
from _adversarial_tools import run_main
from tool_runner import DEMO_CONFIG, tiny_cfg_options, tool_process

# A tiny MARS tree for training (read only) and a finished 1-epoch run.
_DATA: List[Path] = []
_RUN: List[Path] = []
BEST = 'best_reid_mAP_epoch_1.pth'


def data_root() -> str:
    """The shared tiny MARS tree the training cases read."""
    if not _DATA:
        _DATA.append(mars(Path(tempfile.mkdtemp(prefix='adv_runs_'))))
    return str(_DATA[0])


# The last line of a traceback: ``SomeError: message`` (which may go on).
_ERROR_LINE = re.compile(r'^[\w.]*(Error|Exception): ', re.MULTILINE)


def tool(script: str, *args: str) -> str:
    """Run a repository tool; return its output, or raise RuntimeError with
    its error (from the last ``...Error:`` line on) when it fails."""
    proc = tool_process([sys.executable, script, *args], timeout=300)
    out = proc.stdout + proc.stderr
    if proc.returncode:
        starts = [m.start() for m in _ERROR_LINE.finditer(out)]
        raise RuntimeError(f'exit {proc.returncode}: ' +
                           (out[starts[-1]:] if starts else out[-3000:]))
    return out


def train(work_dir: Path,
          *args: str,
          opts: Sequence[str] = (),
          root: str = None) -> str:
    """``tools/train.py`` of the demo config shrunk to one tiny epoch, with
    ``opts`` appended to ``--cfg-options``."""
    return tool('tools/train.py', DEMO_CONFIG, '--work-dir', str(work_dir),
                *args, '--cfg-options',
                *tiny_cfg_options(root or data_root(), 1), *opts)


def before_training(work_dir: Path, *args: str, opts=()) -> str:
    """Run ``train`` that must fail before the first iteration; a failure
    after training started is reported without the case's fragments."""
    try:
        return train(work_dir, *args, opts=opts)
    except RuntimeError as e:
        if 'Epoch(train)' in str(e):
            raise RuntimeError('failed only after training started') from None
        raise


def config_mistake(tmp: Path, *opts: str) -> str:
    """``tools/train.py``'s ``main`` in this process with the tiny demo
    options and ``opts``; it must fail before a Runner is built."""
    return run_main('tools/train.py', DEMO_CONFIG, '--work-dir',
                    str(tmp / 'w'), '--cfg-options',
                    *tiny_cfg_options(data_root(), 1), *opts)


def finished_run(tmp: Path, name: str = 'run') -> Path:
    """A copy of a finished one-epoch run in ``tmp/name``, its
    ``last_checkpoint`` pointing into the copy."""
    if not _RUN:
        run = Path(tempfile.mkdtemp(prefix='adv_run_')) / 'run'
        train(run)
        _RUN.append(run)
    dst = tmp / name
    shutil.copytree(_RUN[0], dst)
    (dst / 'last_checkpoint').write_text(str(dst / 'epoch_1.pth'))
    return dst


def checkpoints(work_dir: Path) -> List[str]:
    return sorted(p.name for p in work_dir.glob('*.pth'))


# ---- runs: a run never overwrites another run --------------------------


@err(
    'runs',
    "train.py into another run's work_dir",
    'epoch_1.pth',
    '--resume',
    '--work-dir',
    '--overwrite',
    slow=True)
def _(tmp):
    before_training(finished_run(tmp))


@err(
    'runs',
    'work_dir holding only a best checkpoint',
    BEST,
    '--overwrite',
    slow=True)
def _(tmp):
    run = finished_run(tmp)
    os.remove(run / 'epoch_1.pth')
    os.remove(run / 'last_checkpoint')
    before_training(run)


@ok('runs',
    '--overwrite leaves no file of the old run',
    lambda names: names == ['best_reid_mAP_epoch_1.pth', 'epoch_1.pth'],
    slow=True)
def _(tmp):
    run = finished_run(tmp)
    # The old run was longer: its epoch 7 and best of epoch 7.
    shutil.copy(run / 'epoch_1.pth', run / 'epoch_7.pth')
    shutil.move(run / BEST, run / 'best_reid_mAP_epoch_7.pth')
    train(run, '--overwrite')
    return checkpoints(run)


@ok('runs',
    'work_dir with logs of a run that crashed early',
    lambda names: 'epoch_1.pth' in names,
    slow=True)
def _(tmp):
    work_dir = tmp / 'w'
    (work_dir / '20240101_000000/vis_data').mkdir(parents=True)
    (work_dir / '20240101_000000/20240101_000000.log').write_text('crash\n')
    train(work_dir)
    return checkpoints(work_dir)


@err(
    'runs',
    '--overwrite with a plain --resume',
    '--overwrite',
    '--resume',
    slow=True)
def _(tmp):
    before_training(finished_run(tmp), '--resume', '--overwrite')


@err(
    'runs',
    "--resume PATH into a work_dir of another run",
    'epoch_1.pth',
    '{tmp}/b',
    '--overwrite',
    slow=True)
def _(tmp):
    a, b = finished_run(tmp, 'a'), finished_run(tmp, 'b')
    before_training(b, '--resume', str(a / 'epoch_1.pth'))


# ---- resumes: a resume is the same run ---------------------------------


@err(
    'resumes',
    '--resume with another batch size',
    'train_dataloader.batch_size',
    slow=True)
def _(tmp):
    before_training(
        finished_run(tmp),
        '--resume',
        opts=[
            'train_dataloader.batch_size=4',
            'train_dataloader.sampler.num_ids=2'
        ])


@err(
    'resumes',
    '--resume with another data_root',
    'train_dataloader.dataset.data_root',
    slow=True)
def _(tmp):
    other = mars(tmp)
    before_training(
        finished_run(tmp),
        '--resume',
        opts=[f'train_dataloader.dataset.data_root={other}'])


@ok('resumes',
    '--resume with another log interval and workers: a note',
    lambda out: 'default_hooks.logger.interval' in out and
    'val_dataloader.num_workers' in out,
    slow=True)
def _(tmp):
    return train(
        finished_run(tmp),
        '--resume',
        opts=[
            'default_hooks.logger.interval=3', 'val_dataloader.num_workers=1'
        ])


@err('resumes', '--resume with --amp added', 'optim_wrapper.type', slow=True)
def _(tmp):
    before_training(finished_run(tmp), '--resume', '--amp')


@err('resumes', '--resume with another seed', 'randomness.seed', slow=True)
def _(tmp):
    before_training(finished_run(tmp), '--resume', opts=['randomness.seed=7'])


@err(
    'resumes',
    '--resume PATH with another data_root into a new work_dir',
    'train_dataloader.dataset.data_root',
    slow=True)
def _(tmp):
    run, other = finished_run(tmp), mars(tmp)
    before_training(
        tmp / 'new',
        '--resume',
        str(run / 'epoch_1.pth'),
        opts=[f'train_dataloader.dataset.data_root={other}'])


@ok('resumes',
    'killed after the last checkpoint, before its validation',
    lambda names: BEST in names,
    slow=True)
def _(tmp):
    root, work_dir = mars(tmp), tmp / 'w'
    frame = sorted((root / 'bbox_test/0000').rglob('*.jpg'))[0]
    saved = frame.read_bytes()
    frame.unlink()  # the validation after epoch 1 fails on it
    try:
        train(work_dir, root=str(root))
    except RuntimeError:
        pass
    assert checkpoints(work_dir) == ['epoch_1.pth'], checkpoints(work_dir)
    frame.write_bytes(saved)
    train(work_dir, '--resume', root=str(root))
    return checkpoints(work_dir)


@ok('resumes',
    'resuming a finished run keeps its checkpoints',
    lambda names: names == ['best_reid_mAP_epoch_1.pth', 'epoch_1.pth'],
    slow=True)
def _(tmp):
    run = finished_run(tmp)
    train(run, '--resume')
    return checkpoints(run)


@err(
    'resumes',
    'test.py: checkpoint of another backbone stride',
    'model.backbone.strides',
    slow=True)
def _(tmp):
    run = finished_run(tmp)
    tool('tools/test.py', DEMO_CONFIG, str(run / 'epoch_1.pth'), '--work-dir',
         str(tmp / 'test'), '--cfg-options', *tiny_cfg_options(data_root(), 1),
         'model.backbone.strides=(1,2,2,1)')


def _denseil_checkpoint(tmp: Path, **neck) -> str:
    """A DenseIL checkpoint as MMEngine writes it (``meta.cfg`` the config
    text), of the tiny DenseIL with ``neck`` overrides."""
    import torch
    from fixture_models import tiny_denseil_cfg
    from mmengine.config import Config

    from mmreid_video.registry import MODELS
    cfg = tiny_denseil_cfg(neck=neck)
    path = tmp / 'denseil.pth'
    torch.save(
        dict(
            state_dict=MODELS.build(cfg).state_dict(),
            meta=dict(cfg=Config(dict(model=cfg)).pretty_text)), path)
    return str(path)


def _init_denseil(tmp: Path, ckpt: str, **neck):
    from fixture_models import tiny_denseil_cfg
    from mmengine.config import Config

    from mmreid_video.apis import init_model
    return init_model(Config(dict(model=tiny_denseil_cfg(neck=neck))), ckpt)


@err('resumes', 'init_model: dense decoder checkpoint, vanilla config',
     'model.neck.variant', 'dense', 'vanilla')
def _(tmp):
    _init_denseil(
        tmp, _denseil_checkpoint(tmp, variant='dense'), variant='vanilla')


@err('resumes', 'init_model: checkpoint of other layer_blocks',
     'model.neck.layer_blocks')
def _(tmp):
    _init_denseil(
        tmp,
        _denseil_checkpoint(tmp, layer_blocks=[0, 1]),
        layer_blocks=[1, 0])


@ok('resumes', 'init_model: weights without a config record load',
    lambda model: type(model).__name__ == 'DenseIL')
def _(tmp):
    import torch
    from fixture_models import tiny_denseil_cfg

    from mmreid_video.registry import MODELS
    path = tmp / 'bare.pth'
    torch.save(MODELS.build(tiny_denseil_cfg()).state_dict(), path)
    return _init_denseil(tmp, str(path))


# ---- configs: mistakes cost seconds, not epochs -------------------------


@err('configs', 'default_hooks.checkpoint.max_keep_ckpt (typo)',
     'default_hooks.checkpoint', 'max_keep_ckpt')
def _(tmp):
    config_mistake(tmp, 'default_hooks.checkpoint.max_keep_ckpt=1')


@err('configs', 'default_hooks.logger.intervel (typo)', 'default_hooks.logger',
     'intervel')
def _(tmp):
    config_mistake(tmp, 'default_hooks.logger.intervel=1')


@err('configs', 'optimizer lr=1e-3x', 'optim_wrapper.optimizer.lr', '1e-3x')
def _(tmp):
    config_mistake(tmp, 'optim_wrapper.optimizer.lr=1e-3x')


@err('configs', 'randomness.seed=abc', 'randomness.seed', 'abc')
def _(tmp):
    config_mistake(tmp, 'randomness.seed=abc')


@err('configs', 'val num_workers=0 with persistent workers', 'val_dataloader',
     'persistent_workers', 'num_workers')
def _(tmp):
    config_mistake(tmp, 'val_dataloader.num_workers=0',
                   'val_dataloader.persistent_workers=True')


@err('configs', 'train_cfg.max_epoch (typo)', 'train_cfg', 'max_epoch')
def _(tmp):
    config_mistake(tmp, 'train_cfg.max_epoch=1')


@err('configs', 'optimizer weight_decy (typo)', 'optim_wrapper.optimizer',
     'weight_decy')
def _(tmp):
    config_mistake(tmp, 'optim_wrapper.optimizer.weight_decy=0')


@err('configs', 'checkpoint interval=1x', 'default_hooks.checkpoint.interval',
     '1x')
def _(tmp):
    config_mistake(tmp, 'default_hooks.checkpoint.interval=1x')


@err('configs', 'train_cfg.val_interval=one', 'train_cfg.val_interval')
def _(tmp):
    config_mistake(tmp, 'train_cfg.val_interval=one')


@err('configs', 'custom hook argument typo', 'custom_hooks[0]', 'sed')
def _(tmp):
    config_mistake(tmp, "custom_hooks=[dict(type='EpochReseedHook',sed=1)]")


@err(
    'configs',
    'scheduler stage key typo',
    'param_scheduler',
    'warmup_epoch',
    slow=True)
def _(tmp):
    # Read by the scheduler when it is built, in the Runner: a subprocess.
    before_training(
        tmp / 'w', opts=['param_scheduler.stages.stage1.warmup_epoch=1'])


@err('configs', 'missing {{_base_.x}}', '{tmp}/child.py', 'lrr')
def _(tmp):
    from mmreid_video.utils import load_config
    (tmp / 'base.py').write_text('lr = 1e-3\n')
    (tmp / 'child.py'
     ).write_text("_base_ = ['./base.py']\noptim = dict(lr={{_base_.lrr}})\n")
    load_config(tmp / 'child.py')


@err('configs', 'missing _base_.x attribute', '{tmp}/child.py', 'lrr')
def _(tmp):
    from mmreid_video.utils import load_config
    (tmp / 'base.py').write_text('lr = 1e-3\n')
    (tmp / 'child.py'
     ).write_text("_base_ = ['./base.py']\noptim = dict(lr=_base_.lrr)\n")
    load_config(tmp / 'child.py')


@ok('configs', '--cfg-options value with spaces', lambda opts: opts == {
    'a.data_root': '/data/my runs/mars',
    'b': ['x y', 'z']
})
def _(tmp):
    import argparse

    from mmreid_video.utils import CfgOptionsAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return parser.parse_args(
        ['--cfg-options', 'a.data_root=/data/my runs/mars',
         "b=['x y','z']"]).cfg_options

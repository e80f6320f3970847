# Copyright (c) mmreid_video contributors. All rights reserved.
"""Train a video re-ID model: ``python tools/train.py CONFIG [options]``."""
import argparse
import os
import os.path as osp
import sys

LAUNCHERS = ['none', 'pytorch', 'slurm', 'mpi']


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a video re-ID model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a path, from '
        'the latest checkpoint in the work directory')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='delete the checkpoints another run left in the work directory '
        '(a new training refuses to replace them otherwise)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 (or --amp-dtype) via MMEngine\'s '
        'AmpOptimWrapper on GPUs, bfloat16 CPU autocast without CUDA')
    parser.add_argument(
        '--amp-dtype',
        choices=['float16', 'bfloat16'],
        default=None,
        help='autocast dtype with --amp (GPU default float16, CPU bfloat16)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by (global batch) / auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override config settings, e.g. model.head.num_classes=625 '
        'train_dataloader.batch_size=32')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    # The package is imported after parsing: --help answers at once.
    from mmreid_video.utils import finish_tool_args
    return finish_tool_args(parser, args)


def merge_args(cfg, args: argparse.Namespace):
    """Merge command line arguments into the config."""
    from mmreid_video.checkpoint import resolve_resume_checkpoint
    from mmreid_video.utils import set_amp
    cfg.launcher = args.launcher
    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.amp:
        set_amp(cfg, args.amp_dtype)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict('
                           'base_batch_size=...)` in the config')
        cfg.auto_scale_lr.enable = True
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.resume is not None:
        cfg.resume = True
    if cfg.get('resume', False):
        # --resume CKPT (or `resume=True` with `load_from`): that file;
        # plain --resume (or `resume=True` alone): last_checkpoint or the
        # newest epoch_N.pth. An error when there is nothing to resume,
        # where MMEngine would train from scratch.
        wanted = args.resume or cfg.get('load_from') or 'auto'
        cfg.load_from = resolve_resume_checkpoint(cfg.work_dir, wanted)
    return cfg


def is_rank_zero(launcher: str) -> bool:
    """Whether this process is the job's first rank (before any process
    group exists), from the launchers' environment variables."""
    if launcher == 'none':
        return True
    for var in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if var in os.environ:
            return int(os.environ[var]) == 0
    return True


def main() -> None:
    args = parse_args()
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from mmreid_video.checkpoint import claim_work_dir
    from mmreid_video.utils import (check_config, load_config, lock_work_dir,
                                    report_errors_briefly, setup_distributed,
                                    teardown_distributed)
    report_errors_briefly()
    cfg = merge_args(load_config(args.config), args)
    check_config(cfg, args.cfg_options)
    if is_rank_zero(args.launcher):
        # Before the Runner writes anything into the work_dir.
        lock_work_dir(cfg.work_dir)
        for path in claim_work_dir(cfg.work_dir,
                                   cfg.load_from if cfg.resume else None,
                                   args.overwrite):
            print(f'--overwrite: removed {path}', file=sys.stderr)
    setup_distributed(cfg, args.launcher)
    runner = (
        Runner.from_cfg(cfg)
        if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()
    teardown_distributed()


if __name__ == '__main__':
    main()

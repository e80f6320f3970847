# Copyright (c) mmreid_video contributors. All rights reserved.
"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

Testing takes no work_dir lock: it only adds its own timestamped log folder
(and refreshes the config copy), so it may run next to a training in the same
work_dir, e.g. on that training's latest epoch_N.pth.
"""
import argparse
import os.path as osp

LAUNCHERS = ['none', 'pytorch', 'slurm', 'mpi']


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a video re-ID model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--out',
        help='dump features, ids, cameras and ranked lists to this file '
        '(.pkl) for later analysis and tools/visualizations/'
        'vis_ranked_list.py')
    parser.add_argument(
        '--rerank',
        action='store_true',
        help='apply k-reciprocal re-ranking (k1/k2/lambda from the '
        'evaluator config)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override config settings, e.g. '
        'test_evaluator.distance=euclidean')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    # The package is imported after parsing: --help answers at once.
    from mmreid_video.utils import finish_tool_args
    return finish_tool_args(parser, args)


def merge_args(cfg, args: argparse.Namespace):
    """Merge command line arguments into the config."""
    from mmreid_video.utils import check_output_path
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    evaluators = cfg.test_evaluator if isinstance(
        cfg.test_evaluator, list) else [cfg.test_evaluator]
    reid_metrics = [m for m in evaluators if 'ReID' in m.get('type', '')]
    if (args.out or args.rerank) and not reid_metrics:
        raise ValueError('--out/--rerank need a VideoReIDMetric in '
                         'test_evaluator')
    if args.out:
        # Before the features are extracted, not when they are written.
        check_output_path(args.out, '--out', suffixes=('.pkl', '.npz'))
    for metric in reid_metrics:
        if args.out:
            metric.out_file = args.out
        if args.rerank:
            metric.rerank = True
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main() -> None:
    args = parse_args()
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from mmreid_video.utils import (check_config, load_config,
                                    report_errors_briefly, setup_distributed,
                                    teardown_distributed)
    report_errors_briefly()
    cfg = merge_args(load_config(args.config), args)
    check_config(cfg, args.cfg_options)
    setup_distributed(cfg, args.launcher)
    runner = (
        Runner.from_cfg(cfg)
        if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.test()
    teardown_distributed()


if __name__ == '__main__':
    main()

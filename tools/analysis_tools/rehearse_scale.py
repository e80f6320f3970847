# Copyright (c) mmreid_video contributors. All rights reserved.
"""Rehearse a config at MARS scale before a long run, and plan the run.

Builds the real MARS tree from the real metadata (``--info``) with
hard-linked placeholder JPEGs at the MARS crop size
(:func:`mmreid_video.datasets.mars_layout.build_placeholder_tree`), then
runs the config's own dataloaders (identity sampler included), train loop
and test loop through an MMEngine ``Runner`` at that scale, timed by
``LoopTimelineHook``. It measures the train loader at steady state for
each ``--workers`` count (``--loader-repeats`` times), both stages of
DenseIL, and the all-frames test, and ends with a short table: iterations
per epoch and projected hours on 1/2/4/8 GPUs, the data-wait share and a
verdict (data- or compute-bound, loader workers per GPU). Everything else
goes to the JSON (``--json``, default ``<work-dir>/rehearsal.json``) and
the Runner's log (``--verbose`` prints it too).

Any MARS-type config works: every dataloader's dataset becomes ``MARS`` on
the built tree, the heads' ``num_classes`` follow its train ids, the
backbone's pretrained init is dropped (nothing is downloaded; weights do not
change timings), checkpoints and validation are off, and training runs
``--train-iters`` iterations per stage with an iteration-based loop.

Examples::

    # CPU: the demo model on the full MARS test protocol
    python tools/analysis_tools/rehearse_scale.py \\
        configs/demo/denseil_r18_demo.py --info data/mars/info \\
        --data-root /scratch/mars_rehearsal
    # GPU: the ResNet-50 recipe with AMP on a slice
    python tools/analysis_tools/rehearse_scale.py \\
        configs/denseil/denseil_r50_mars.py --info data/mars/info \\
        --max-tracklets 2000 --amp --workers 4 8 16 --json rehearsal.json
"""
import argparse
import contextlib
import io
import logging
import os
import os.path as osp
import resource
import sys
import time


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a MARS-type config file')
    parser.add_argument(
        '--info', required=True, help='the real MARS info/ folder')
    parser.add_argument(
        '--data-root',
        help='where the placeholder tree is built or reused (default: '
        '<work-dir>/mars_tree[_N])')
    parser.add_argument(
        '--max-tracklets', type=int, help='tracklets kept per split')
    parser.add_argument(
        '--num-images',
        type=int,
        default=256,
        help='distinct placeholder JPEGs')
    parser.add_argument('--work-dir', help='logs (default work_dirs/...)')
    parser.add_argument(
        '--workers',
        type=int,
        nargs='+',
        help='worker counts of the train loader measurement (default: the '
        "config's num_workers)")
    parser.add_argument(
        '--loader-batches',
        type=int,
        default=20,
        help='batches timed per repeat, after the prefetched ones')
    parser.add_argument(
        '--loader-repeats',
        type=int,
        default=3,
        help='repeats of the loader measurement per worker count')
    parser.add_argument(
        '--train-iters',
        type=int,
        default=20,
        help='train iterations per stage')
    parser.add_argument(
        '--warmup-iters',
        type=int,
        default=3,
        help='leading iterations per stage left out of the medians')
    parser.add_argument(
        '--test-workers', type=int, help='override the test num_workers')
    parser.add_argument('--skip-train', action='store_true')
    parser.add_argument('--skip-test', action='store_true')
    parser.add_argument(
        '--amp',
        action='store_true',
        help="mixed precision as tools/train.py --amp (and fp16 test loop "
        'on a GPU)')
    parser.add_argument(
        '--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='config overrides, applied before the rehearsal settings')
    parser.add_argument(
        '--json', help='the full results (default: <work-dir>/rehearsal.json)')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help="print the Runner's log too (always in its log file)")
    args = parser.parse_args()
    for name in ('train_iters', 'loader_batches', 'loader_repeats',
                 'num_images'):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    from mmreid_video.utils import finish_tool_args
    return finish_tool_args(parser, args)


def rehearsal_config(cfg, args: argparse.Namespace, root: str, num_ids: int,
                     stages: int):
    """The config on the placeholder tree, in rehearsal mode."""
    from mmengine.config import ConfigDict

    from mmreid_video.utils import set_amp
    for key in ('train_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.dataset = ConfigDict(
            type='MARS',
            data_root=root,
            split='train' if key == 'train_dataloader' else 'test',
            pipeline=loader.dataset.pipeline)
    if args.test_workers is not None:
        cfg.test_dataloader.num_workers = args.test_workers
        cfg.test_dataloader.persistent_workers = args.test_workers > 0
    for head in ('head', 'encoder_head'):
        if 'num_classes' in cfg.model.get(head, {}):
            cfg.model[head].num_classes = num_ids
    if 'init_cfg' in cfg.model.get('backbone', {}):
        cfg.model.backbone.init_cfg = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg = ConfigDict(
        type='IterBasedTrainLoop', max_iters=stages * args.train_iters)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.log_processor = ConfigDict(by_epoch=False, window_size=10)
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] != 'TwoStageTrainingHook'
    ] + [dict(type='LoopTimelineHook', warmup_iters=args.warmup_iters)]
    if stages == 2:
        cfg.custom_hooks.append(
            dict(type='IterStageSwitchHook', stage1_iters=args.train_iters))
    if args.amp:
        import torch
        set_amp(cfg)
        cfg.test_cfg = ConfigDict(fp16=torch.cuda.is_available())
    cfg.work_dir = args.work_dir
    return cfg


def scan_loader(cfg, dataset, args: argparse.Namespace, seed: int) -> dict:
    """Steady-state clips/s of the train loader per worker count."""
    from mmengine.runner import Runner

    from mmreid_video.utils.benchmark import loader_throughput
    out = {}
    for num in args.workers or [cfg.train_dataloader.num_workers]:
        loader = Runner.build_dataloader(
            dict(
                cfg.train_dataloader,
                dataset=dataset,
                num_workers=num,
                persistent_workers=False),
            seed=seed)
        out[str(num)] = loader_throughput(loader, args.loader_batches,
                                          args.loader_repeats)
        print(
            f"train loader, {num} workers: {out[str(num)]['median']:.1f} "
            'clips/s (steady state, median)',
            flush=True)
    return out


def test_summary(timeline, dataset, full: dict) -> dict:
    """The test loop's extraction and evaluation, and one full test."""
    span = timeline.spans['test']
    extract_s = span['last_iter'] - span['start']
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    out = dict(
        tracklets=len(infos),
        queries=sum(i['is_query'] for i in infos),
        frames=sum(len(i['frame_paths']) for i in infos),
        extract_s=round(extract_s, 2),
        eval_s=round(span['end'] - span['last_iter'], 3),
        loop=timeline.summary('test'))
    out['extract_frames_per_s'] = round(out['frames'] / extract_s, 1)
    # A slice's evaluation scaled by the full query x gallery size.
    table = full['tables']['test']
    gallery = table[table[:, 2] != -1]
    out['full'] = dict(
        frames=int((gallery[:, 1] - gallery[:, 0] + 1).sum()),
        extract_frames_per_s=out['extract_frames_per_s'],
        eval_s=out['eval_s'] * len(full['query']) * len(gallery) /
        (out['queries'] * out['tracklets']))
    return out


def main() -> None:
    args = parse_args()
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    import torch
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from mmreid_video.datasets.mars_layout import (build_placeholder_tree,
                                                   read_mars_info)
    from mmreid_video.engine import TwoStageTrainingHook
    from mmreid_video.registry import DATASETS
    from mmreid_video.utils import load_config, report_errors_briefly, run_plan
    from mmreid_video.utils.benchmark import (load_average, machine_info,
                                              write_report)
    report_errors_briefly()
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: no CUDA device is available')
    cfg = load_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    args.work_dir = args.work_dir or osp.join('work_dirs', 'rehearse_scale',
                                              name)
    suffix = f'_{args.max_tracklets}' if args.max_tracklets else ''
    root = osp.abspath(
        args.data_root or osp.join(args.work_dir, f'mars_tree{suffix}'))
    result = dict(
        config=args.config,
        device=torch.cuda.get_device_name()
        if torch.cuda.is_available() else 'cpu',
        machine=machine_info(),
        json=args.json or osp.join(args.work_dir, 'rehearsal.json'))
    start = time.perf_counter()
    tree, built = build_placeholder_tree(root, args.info, args.max_tracklets,
                                         args.num_images)
    result['tree'] = dict(
        tree,
        root=root,
        built=built,
        build_s=round(time.perf_counter() - start, 1))
    print(
        f"tree: {root} ({'built' if built else 'reused'}, "
        f"{tree['frames']} frames)",
        flush=True)
    init_default_scope(cfg.get('default_scope', 'mmreid_video'))
    datasets, result['dataset_init_s'] = {}, {}
    for split in ('train', 'test'):
        start = time.perf_counter()
        datasets[split] = DATASETS.build(
            dict(
                type='MARS',
                data_root=root,
                split=split,
                pipeline=cfg[f'{split}_dataloader'].dataset.pipeline))
        result['dataset_init_s'][split] = round(time.perf_counter() - start, 2)
    stage_epochs = TwoStageTrainingHook.stage_epochs_of(cfg)
    validations = run_plan.count_validations(cfg)
    cfg = rehearsal_config(cfg, args, root,
                           datasets['train'].metainfo['num_ids'],
                           len(stage_epochs))
    with contextlib.redirect_stdout(io.StringIO()) as sink:
        runner = Runner.from_cfg(cfg)
    # The Runner's log goes to its file; the terminal gets warnings, or
    # everything with --verbose.
    print(sink.getvalue() if args.verbose else '', end='')
    for handler in runner.logger.handlers:
        if type(handler) is logging.StreamHandler:
            handler.setStream(sys.stdout)
            if not args.verbose:
                handler.setLevel(logging.WARNING)
    timeline = next(
        h for h in runner.hooks if type(h).__name__ == 'LoopTimelineHook')
    if timeline.memory is not None:
        timeline.memory.start()  # the loader scan's workers count too
    full = read_mars_info(args.info)
    pids = [
        datasets['train'].get_data_info(i)['pid']
        for i in range(len(datasets['train']))
    ]
    result['iters_per_epoch'] = run_plan.iters_per_epoch(
        cfg.train_dataloader, pids, 1)
    result['train_loader'] = scan_loader(cfg, datasets['train'], args,
                                         runner.seed)
    if not args.skip_train:
        runner.train()
        # The iteration-based loop keeps its iterator, and with it the
        # train workers, alive; end them before the test.
        runner.train_loop.dataloader_iterator = None
        result['train'] = {
            p: timeline.summary(p)
            for p in timeline.records if p not in ('val', 'test')
        }
        loader = cfg.train_dataloader
        result['verdict'] = run_plan.verdict(result['train'],
                                             result['train_loader'],
                                             loader.batch_size,
                                             loader.num_workers,
                                             os.cpu_count())
    if not args.skip_test:
        runner.test()
        result['test'] = test_summary(timeline, datasets['test'], full)
    result['scaling'] = {}
    for gpus in run_plan.GPU_COUNTS:
        row = dict(
            iters_per_epoch=run_plan.iters_per_epoch(
                cfg.train_dataloader, full['tables']['train'][:, 2], gpus))
        if 'train' in result:
            row.update(
                run_plan.project_hours(
                    stage_epochs,
                    [s['iter_s'] for s in result['train'].values()],
                    row['iters_per_epoch'],
                    result.get('test', {}).get('full'), validations, gpus))
        result['scaling'][str(gpus)] = row
    result.update(
        stage_epochs=stage_epochs,
        validations=validations,
        batch_size=cfg.train_dataloader.batch_size,
        peak_rss_mb=round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        peak_total_pss_mb=None
        if timeline.memory is None else timeline.memory.stop(),
        load_average_end=load_average())
    write_report(result, result['json'])
    print(run_plan.summary_table(result))


if __name__ == '__main__':
    main()

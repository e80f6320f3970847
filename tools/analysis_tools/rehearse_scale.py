"""Rehearse a config at MARS scale before a long run.

Builds the real MARS tree from the real metadata (``--info``) with
hard-linked placeholder JPEGs at the MARS crop size (see ``_mars_tree.py``),
then runs the config's own dataloaders (identity sampler included), train
loop and test loop through an MMEngine ``Runner`` at that scale, and reports
dataset init time, iterations per epoch, train loader clips/s per worker
count, train iteration time and its data-wait share (per stage of DenseIL),
all-frames extraction frames/s, evaluation time, peak memory (and GPU memory
per stage), and the projected wall time of the config's full schedule.

Any MARS-type config works: every dataloader's dataset becomes ``MARS`` on
the built tree, the heads' ``num_classes`` follow its train ids, the
backbone's pretrained init is dropped (nothing is downloaded; weights do not
change timings), checkpoints and validation are off, and training runs
``--train-iters`` iterations per stage with an iteration-based loop.

Examples::

    # CPU: the demo model on the full MARS test protocol
    python tools/analysis_tools/rehearse_scale.py \\
        configs/demo/denseil_r18_demo.py --info data/mars/info \\
        --data-root /scratch/mars_rehearsal --json rehearsal.json
    # GPU: the ResNet-50 recipe with AMP on a slice
    python tools/analysis_tools/rehearse_scale.py \\
        configs/denseil/denseil_r50_mars.py --info data/mars/info \\
        --max-tracklets 2000 --amp --workers 4 8 16 --json rehearsal.json
"""
import argparse
import importlib.util
import inspect
import json
import math
import os
import os.path as osp
import resource
import time
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from _mars_tree import build_tree, read_info  # noqa: I100 (script dir)
from _rehearsal_probe import (LoopTimeline, MemorySampler, set_stage,
                              summarize)
from mmreid_video.registry import DATA_SAMPLERS, DATASETS, MODELS

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))


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
        help='batches timed per worker count')
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
        action=DictAction,
        help='config overrides, applied before the rehearsal settings')
    parser.add_argument('--json', help='write the results to this file')
    args = parser.parse_args()
    for name in ('train_iters', 'loader_batches', 'num_images'):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def _set_amp(cfg: Config) -> None:
    """``tools/train.py``'s ``--amp`` (one definition of mixed precision)."""
    spec = importlib.util.spec_from_file_location('mmreid_train_tool',
                                                  osp.join(TOOLS, 'train.py'))
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)
    train_tool.set_amp(cfg)


def rehearsal_config(cfg: Config, args: argparse.Namespace, root: str,
                     num_ids: int, iters: int) -> Config:
    """The config on the placeholder tree, in rehearsal mode."""
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
    cfg.train_cfg = ConfigDict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.log_processor = ConfigDict(by_epoch=False, window_size=10)
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] != 'TwoStageTrainingHook'
    ]
    if args.amp:
        _set_amp(cfg)
        cfg.test_cfg = ConfigDict(fp16=torch.cuda.is_available())
    cfg.work_dir = args.work_dir
    return cfg


def schedule(cfg: Config) -> Dict:
    """Epochs per stage and number of validations of the original config."""
    train_cfg = cfg.train_cfg
    max_epochs = train_cfg.get('max_epochs', 0)
    hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] == 'TwoStageTrainingHook'
    ]
    stage1 = hooks[0].get('stage1_epochs') if hooks else None
    if hooks and stage1 is None:
        # The hook reads stage 1's length from the staged lr schedule.
        stage1 = cfg.param_scheduler.stages.stage1.epochs
    epochs = [stage1, max_epochs - stage1] if hooks else [max_epochs]
    interval, begin = train_cfg.get('val_interval',
                                    1), train_cfg.get('val_begin', 1)
    vals = 0 if cfg.get('val_cfg') is None else sum(
        e >= begin and (e % interval == 0 or e == max_epochs)
        for e in range(1, max_epochs + 1))
    return dict(stage_epochs=epochs, validations=vals)


def config_stages(cfg: Config) -> int:
    """2 for a two-stage model config (DenseIL, ``two_stage`` True), else 1.
    """
    model_cls = MODELS.get(cfg.model.type)
    if not hasattr(model_cls, 'set_train_stage'):
        return 1
    default = inspect.signature(model_cls).parameters['two_stage'].default
    return 2 if cfg.model.get('two_stage', default) else 1


def full_iters_per_epoch(cfg: Config, pids: np.ndarray) -> int:
    """Iterations per epoch of the config's sampler on the full train set
    (one process), from the pids alone."""

    class Pids:

        def __len__(self) -> int:
            return len(pids)

        def get_data_info(self, i: int) -> dict:
            return dict(pid=int(pids[i]))

    sampler = DATA_SAMPLERS.build(
        cfg.train_dataloader.sampler,
        default_args=dict(dataset=Pids(), seed=0))
    return math.ceil(len(sampler) / cfg.train_dataloader.batch_size)


def loader_clips_per_s(cfg: Config, dataset, workers: List[int], batches: int,
                       seed: int) -> Dict[str, float]:
    """Clips/s of the train dataloader per worker count, first batch (the
    workers' start-up) excluded."""
    out = {}
    for num in workers:
        loader_cfg = dict(
            cfg.train_dataloader,
            dataset=dataset,
            num_workers=num,
            persistent_workers=False)
        loader = Runner.build_dataloader(loader_cfg, seed=seed)
        count = min(batches, len(loader) - 1)
        if count < 1:
            raise ValueError(f'the train loader has {len(loader)} batch(es) '
                             'per epoch, 2 are needed to time it: use a '
                             'larger --max-tracklets')
        it = iter(loader)
        next(it)
        start = time.perf_counter()
        clips = sum(len(next(it)['inputs']) for _ in range(count))
        out[str(num)] = round(clips / (time.perf_counter() - start), 2)
        del it
        print(f'train loader, {num} workers: {out[str(num)]} clips/s')
    return out


def gpu_busy_plan(stages: Dict, clips_per_s: Dict, batch: int) -> Dict:
    """Loader throughput, and workers, that keep the GPU >= 90 % busy.

    Busy share = compute / (compute + wait) >= 0.9 needs the loader to
    deliver ``0.9 * batch / compute`` clips/s; workers are counted from the
    best measured clips/s per worker (0 workers counts as one: the main
    process loads).
    """
    per_worker = max(v / max(int(k), 1) for k, v in clips_per_s.items())
    plan = {}
    for name, stat in stages.items():
        need = 0.9 * batch / max(stat['compute_s'], 1e-9)
        plan[name] = dict(
            needed_clips_per_s=round(need, 1),
            clips_per_s_per_worker=round(per_worker, 1),
            workers_needed=math.ceil(need / per_worker),
            cpu_cores=os.cpu_count())
    return plan


def projection(plan: Dict, result: Dict, full: Dict) -> Dict:
    """Wall time of the config's full schedule on one process, from the
    measured medians (validation counted as a full test; a slice's eval
    time is scaled by the full query x gallery size)."""
    out = dict(plan, iters_per_epoch=result['iters_per_epoch_full'])
    stages = result.get('train', {})
    if len(stages) == len(plan['stage_epochs']):
        out['train_h'] = sum(
            e * out['iters_per_epoch'] * stages[f'stage{i}']['iter_s']
            for i, e in enumerate(plan['stage_epochs'], 1)) / 3600
    test = result.get('test')
    if test:
        table = full['tables']['test']
        gallery = int((table[:, 2] != -1).sum())
        frames = int((table[table[:, 2] != -1, 1] -
                      table[table[:, 2] != -1, 0] + 1).sum())
        scale = len(full['query']) * gallery / (
            test['queries'] * test['tracklets'])
        out['test_h'] = (frames / test['extract_frames_per_s'] +
                         test['eval_s'] * scale) / 3600
    if 'train_h' in out and 'test_h' in out:
        out['recipe_h'] = out['train_h'] + (plan['validations'] +
                                            1) * out['test_h']
    return {
        k: round(v, 2) if isinstance(v, float) else v
        for k, v in out.items()
    }


def run_test(runner, timeline: LoopTimeline, dataset, warmup: int) -> Dict:
    """The Runner's test loop, with extraction and evaluation timed."""
    set_stage(runner, 2)  # DenseIL's final model: the DI decoder branch
    metrics = runner.test()
    span = timeline.test_span
    extract_s = span['last_iter'] - span['start']
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    frames = sum(len(i['frame_paths']) for i in infos)
    return dict(
        tracklets=len(infos),
        queries=sum(i['is_query'] for i in infos),
        frames=frames,
        extract_s=round(extract_s, 2),
        extract_frames_per_s=round(frames / extract_s, 1),
        eval_s=round(span['end'] - span['last_iter'], 3),
        loop=summarize(timeline.test, warmup),
        gpu_mem_gb=timeline.gpu_mem_gb.get('test'),
        metrics_random_weights={
            k: round(float(v), 2)
            for k, v in metrics.items()
        })


def main() -> None:
    args = parse_args()
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    elif args.device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: no CUDA device is available')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    args.work_dir = args.work_dir or osp.join('work_dirs', 'rehearse_scale',
                                              name)
    suffix = f'_{args.max_tracklets}' if args.max_tracklets else ''
    root = osp.abspath(
        args.data_root or osp.join(args.work_dir, f'mars_tree{suffix}'))
    memory = MemorySampler()
    memory.start()

    start = time.perf_counter()
    tree, built = build_tree(root, args.info, args.max_tracklets,
                             args.num_images)
    jpegs = [e.stat().st_size for e in os.scandir(f'{root}/placeholders')]
    result = dict(
        config=args.config,
        device=torch.cuda.get_device_name()
        if torch.cuda.is_available() else 'cpu',
        cpu_count=os.cpu_count(),
        tree=dict(
            root=root,
            built=built,
            build_s=round(time.perf_counter() - start, 1),
            frames=tree['frames'],
            tracklets=tree['tracklets'],
            names_source=tree['names_source'],
            placeholder_kb=round(float(np.mean(jpegs)) / 1024, 1)))
    print(f"tree: {result['tree']}")

    init_default_scope(cfg.get('default_scope', 'mmreid_video'))
    datasets, init_s = {}, {}
    for split in ('train', 'test'):
        start = time.perf_counter()
        datasets[split] = DATASETS.build(
            dict(
                type='MARS',
                data_root=root,
                split=split,
                pipeline=cfg[f'{split}_dataloader'].dataset.pipeline))
        init_s[split] = round(time.perf_counter() - start, 2)
    result['dataset_init_s'] = init_s
    plan = schedule(cfg)
    stages = config_stages(cfg)
    cfg = rehearsal_config(cfg, args, root,
                           datasets['train'].metainfo['num_ids'],
                           stages * args.train_iters)
    runner = Runner.from_cfg(cfg)
    timeline = LoopTimeline(args.train_iters)
    runner.register_hook(timeline)

    full = read_info(args.info)
    batch = cfg.train_dataloader.batch_size
    sampler = DATA_SAMPLERS.build(
        cfg.train_dataloader.sampler,
        default_args=dict(dataset=datasets['train'], seed=0))
    result.update(
        batch_size=batch,
        iters_per_epoch=math.ceil(len(sampler) / batch),
        iters_per_epoch_full=full_iters_per_epoch(
            cfg, full['tables']['train'][:, 2]),
        train_clips_per_s=loader_clips_per_s(
            cfg, datasets['train'], args.workers
            or [cfg.train_dataloader.num_workers], args.loader_batches,
            runner.seed))
    # Printed as they come, so that an interrupted run still reports them.
    print(f"dataset init {init_s} s, {result['iters_per_epoch']} iters/epoch"
          f" ({result['iters_per_epoch_full']} on full MARS)")
    if not args.skip_train:
        runner.train()
        # The iteration-based loop keeps its iterator, and with it the
        # train workers, alive; end them before the test.
        runner.train_loop.dataloader_iterator = None
        result['train'] = {
            f'stage{s}':
            dict(
                summarize(rec, args.warmup_iters),
                gpu_mem_gb=timeline.gpu_mem_gb.get(f'stage{s}'))
            for s, rec in timeline.train.items()
        }
        print(f"train: {result['train']}")
        if torch.cuda.is_available():
            result['gpu_busy_90'] = gpu_busy_plan(result['train'],
                                                  result['train_clips_per_s'],
                                                  batch)
    if not args.skip_test:
        result['test'] = run_test(runner, timeline, datasets['test'],
                                  args.warmup_iters)
        result.update(
            extract_frames_per_s=result['test']['extract_frames_per_s'],
            eval_s=result['test']['eval_s'])
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result.update(
        peak_rss_mb=round(own, 1),
        peak_worker_rss_mb=round(workers, 1),
        peak_total_pss_mb=memory.stop())
    result['projection'] = projection(plan, result, full)
    result['projected_recipe_h'] = result['projection'].get('recipe_h')
    print(json.dumps(result, indent=2))
    if args.json:
        tmp = f'{args.json}.tmp'
        with open(tmp, 'w') as f:
            json.dump(result, f, indent=2)
        os.replace(tmp, args.json)


if __name__ == '__main__':
    main()

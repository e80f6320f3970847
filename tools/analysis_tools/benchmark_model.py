# Copyright (c) mmreid_video contributors. All rights reserved.
"""Median forward time per clip of one or two re-ID models (inference).

Times ``model.extract_feat`` (the inference descriptor) on random clips of
T frames, after warm-up, with random backbone weights (no downloads). With
two configs the runs alternate (A, B, A, B, ...) so that both see the same
machine load, and the ratio B / A is printed. The neck + head (everything
after the backbone) is also timed alone on cached backbone maps: with the
same backbone, its difference is the extra cost of B, a steadier number than
the whole-model ratio on a busy machine. E.g. DenseIL over the ResNet-50
baseline::

    python tools/analysis_tools/benchmark_model.py \\
        configs/_base_/models/baseline_r50.py \\
        configs/_base_/models/denseil_r50.py

With ``--train`` it times training iterations instead (forward, losses,
backward and the optimizer step of ``model.train_step``) with each config's
own ``optim_wrapper`` (e.g. layer-wise lr decay), on random uint8 clips of
``--clips`` // 4 identities x 4 clips; ``--amp`` then switches the wrapper
to mixed precision (``AmpOptimWrapper`` on CUDA, ``CPUAmpOptimWrapper`` on
CPU). E.g. DenseIL-ViT-B/16 over DenseIL-R50, stage 1, a P x K = 8 x 4
batch on a GPU::

    python tools/analysis_tools/benchmark_model.py \\
        configs/denseil/denseil_r50_mars.py \\
        configs/denseil/denseil_vit-b16_mars.py \\
        --train --stage 1 --clips 32 --device cuda --amp float16
"""
import argparse
import copy
import statistics
import time
from typing import TYPE_CHECKING, Callable, List, Tuple

if TYPE_CHECKING:
    import torch
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the inference time per clip of re-ID models')
    parser.add_argument('config', help='config file (reference, A)')
    parser.add_argument('config2', nargs='?', help='optional config (B)')
    parser.add_argument(
        '--clips', type=int, default=1, help='clips per forward (batch size)')
    parser.add_argument('--frames', type=int, default=8, help='frames T')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[256, 128],
        metavar=('H', 'W'),
        help='frame size')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument(
        '--part-runs',
        type=int,
        default=50,
        help='runs timing neck + head alone')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--train',
        action='store_true',
        help='time training iterations (train_step) instead of inference')
    parser.add_argument(
        '--stage',
        type=int,
        choices=[1, 2],
        default=2,
        help='DenseIL stage to run: 1 = encoder branch, 2 = DI decoder '
        '(frozen encoder when training); ignored by one-stage models')
    parser.add_argument(
        '--amp',
        choices=['float16', 'bfloat16'],
        default=None,
        help='run under torch.autocast with this dtype (mixed precision)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override settings of the first config (A)')
    parser.add_argument(
        '--cfg-options2',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override settings of the second config (B), e.g. '
        'model.neck.embed_dims=256 model.head.in_channels=256')
    parser.add_argument('--json', help='write the results to this file')
    args = parser.parse_args()
    # The package is imported after parsing: --help answers at once.
    from mmreid_video.utils import finish_tool_args, parse_cfg_options
    args.cfg_options2 = parse_cfg_options(args.cfg_options2, parser,
                                          '--cfg-options2')
    return finish_tool_args(parser, args)


def build_model(path: str, cfg_options, device: str,
                stage: int) -> Tuple['torch.nn.Module', 'Config']:
    """Build the model of a config with random weights, in eval mode."""
    from mmengine.registry import init_default_scope

    from mmreid_video.registry import MODELS
    from mmreid_video.utils import load_config
    cfg = load_config(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmreid_video'))
    model_cfg = cfg.model
    # Random weights: timing does not depend on them and nothing downloads.
    model_cfg.backbone.init_cfg = None
    if 'encoder_checkpoint' in model_cfg:
        model_cfg.encoder_checkpoint = None
    model = MODELS.build(model_cfg)
    if hasattr(model, 'set_train_stage'):
        model.set_train_stage(stage)  # 2: the full DenseIL inference path
    return model.to(device).eval(), cfg


def build_trainer(cfg: 'Config', model: 'torch.nn.Module', device: str,
                  amp) -> 'OptimWrapper':
    """The config's optimizer wrapper, switched to mixed precision as
    ``tools/train.py --amp`` does."""
    from mmengine.optim import build_optim_wrapper

    from mmreid_video.utils import set_amp
    if 'optim_wrapper' not in cfg:
        raise KeyError(f'--train needs a config with an optim_wrapper, '
                       f'{cfg.filename} has none (use a full config, not '
                       'a _base_/models file).')
    cfg = copy.deepcopy(cfg)
    if amp is not None:
        set_amp(cfg, amp, cuda=device.startswith('cuda'))
    return build_optim_wrapper(model, cfg.optim_wrapper)


def train_batch(args: argparse.Namespace) -> dict:
    """Random uint8 clips of ``clips // 4`` identities x 4, as the
    dataloader gives them (labels, camera ids, clip length)."""
    import torch
    from mmpretrain.structures import DataSample
    if args.clips < 8 or args.clips % 4:
        raise ValueError('--train needs --clips = a multiple of 4, >= 8 '
                         f'(identities x 4 clips), got {args.clips}.')
    inputs = torch.randint(
        0, 256, (args.clips, args.frames, 3, *args.shape), dtype=torch.uint8)
    samples = [
        DataSample(
            metainfo=dict(clip_len=args.frames, num_clips=1, camid=i %
                          2)).set_gt_label(i // 4) for i in range(args.clips)
    ]
    return dict(inputs=list(inputs), data_samples=samples)


def time_once(fn: Callable[[], object], cuda: bool) -> float:
    """Seconds one call of ``fn`` takes (synchronised on CUDA)."""
    import torch
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def report_runs(paths: List[str], times: List[List[float]], unit: str,
                rate: str, report: dict) -> List[float]:
    """Print min / median / max per model (ms per ``unit``, and ``rate``
    per second), and the B/A ratios with two models; keep them in
    ``report``; return the medians."""
    from mmreid_video.utils.benchmark import summarize_times
    stats = [summarize_times(t) for t in times]
    for path, stat in zip(paths, stats):
        print(f"{path}: median {stat['median'] * 1e3:.1f} ms/{unit} = "
              f"{1 / stat['median']:.2f} {rate} (min "
              f"{stat['min'] * 1e3:.1f}, max {stat['max'] * 1e3:.1f})")
    report['models'] = dict(zip(paths, stats))
    medians = [stat['median'] for stat in stats]
    if len(medians) == 2:
        # Back-to-back pairs share the machine load, so their median ratio
        # is steadier than the ratio of medians on a busy machine.
        ratio = medians[1] / medians[0]
        paired = statistics.median(b / a for a, b in zip(*times))
        report.update(ratio=ratio, paired_ratio=paired)
        print(f'time ratio B/A: of medians {ratio:.3f} '
              f'({(ratio - 1) * 100:+.1f} %), median of paired runs '
              f'{paired:.3f} ({(paired - 1) * 100:+.1f} %)')
    return medians


def benchmark_train(args: argparse.Namespace, paths: List[str],
                    models: List['torch.nn.Module'], cfgs: List['Config'],
                    report: dict) -> None:
    """Time training iterations (alternating models)."""
    import torch
    cuda = args.device.startswith('cuda')
    trainers = [
        build_trainer(cfg, model, args.device, args.amp)
        for cfg, model in zip(cfgs, models)
    ]
    batch = train_batch(args)
    times: List[List[float]] = [[] for _ in models]
    for run in range(args.warmup + args.runs):
        for model, trainer, record in zip(models, trainers, times):
            model.train()
            elapsed = time_once(lambda: model.train_step(batch, trainer), cuda)
            if run >= args.warmup:
                record.append(elapsed)
    print(f'training: device={args.device} threads={torch.get_num_threads()}'
          f' amp={args.amp} stage={args.stage} batch={args.clips} clips x '
          f'T={args.frames} HxW={args.shape[0]}x{args.shape[1]} '
          f'warmup={args.warmup} runs={args.runs}')
    report_runs(paths, times, 'iter', 'it/s', report)
    if cuda:
        peak = torch.cuda.max_memory_allocated() / 2**30
        report['peak_gpu_mem_gb'] = peak
        print(f'peak GPU memory: {peak:.2f} GiB (all models together)')


def neck_head(model: 'torch.nn.Module', feats: tuple,
              num_frames: int) -> Callable[[], object]:
    """The part after the backbone: neck + the head's BN feature."""
    return lambda: model.head.pre_logits(model.neck(feats, num_frames))


def benchmark_inference(args: argparse.Namespace, paths: List[str],
                        models: List['torch.nn.Module'], report: dict) -> None:
    """Time ``extract_feat`` per clip, and the neck + head alone."""
    import torch
    inputs = torch.randn(
        args.clips, args.frames, 3, *args.shape, device=args.device)
    cuda = inputs.is_cuda
    times: List[List[float]] = [[] for _ in models]
    part_times: List[List[float]] = [[] for _ in models]
    autocast = torch.autocast(
        inputs.device.type,
        dtype=getattr(torch, args.amp or 'float32'),
        enabled=args.amp is not None)
    with torch.inference_mode(), autocast:
        parts = [
            neck_head(m, m.backbone(inputs.flatten(0, 1)), args.frames)
            for m in models
        ]
        for _ in range(args.warmup):
            for model, part in zip(models, parts):
                time_once(lambda: model.extract_feat(inputs), cuda)
                time_once(part, cuda)
        for _ in range(args.runs):
            # Alternating models (and, below, parts) share the machine load.
            for model, record in zip(models, times):
                record.append(
                    time_once(lambda: model.extract_feat(inputs), cuda) /
                    args.clips)
        for _ in range(args.part_runs):
            for part, record in zip(parts, part_times):
                record.append(time_once(part, cuda) / args.clips)
    print(f'device={args.device} threads={torch.get_num_threads()} '
          f'amp={args.amp} clips={args.clips} T={args.frames} '
          f'HxW={args.shape[0]}x'
          f'{args.shape[1]} warmup={args.warmup} runs={args.runs}')
    medians = report_runs(paths, times, 'clip', 'clips/s', report)
    part_medians = [statistics.median(t) for t in part_times]
    report['neck_head_s_per_clip'] = dict(zip(paths, part_medians))
    for path, part in zip(paths, part_medians):
        print(f'{path}: neck + head alone {part * 1e3:.2f} ms/clip')
    if len(medians) == 2:
        extra = (part_medians[1] - part_medians[0]) / medians[0]
        print('neck + head of B minus that of A, over A\'s forward time: '
              f'{extra * 100:+.1f} % (same backbone: the extra cost of B)')


def main() -> None:
    args = parse_args()
    import torch

    from mmreid_video.utils.benchmark import machine_info, write_report
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = [args.config] + ([args.config2] if args.config2 else [])
    options = [args.cfg_options, args.cfg_options2]
    models, cfgs = zip(*[
        build_model(path, opts, args.device, args.stage)
        for path, opts in zip(paths, options)
    ])
    report = dict(machine=machine_info(), args=vars(args))
    print(f"load average: {report['machine']['load_average']}")
    if args.train:
        benchmark_train(args, paths, list(models), list(cfgs), report)
    else:
        benchmark_inference(args, paths, list(models), report)
    if args.json:
        write_report(report, args.json)


if __name__ == '__main__':
    main()

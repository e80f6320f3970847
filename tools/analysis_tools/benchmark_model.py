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
"""
import argparse
import statistics
import time
from typing import Callable, List

import torch
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS
from mmreid_video.utils import CfgOptionsAction, load_config


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
        '--amp',
        choices=['float16', 'bfloat16'],
        default=None,
        help='run under torch.autocast with this dtype (mixed precision)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override settings of the first config (A)')
    parser.add_argument(
        '--cfg-options2',
        nargs='+',
        action=CfgOptionsAction,
        help='override settings of the second config (B), e.g. '
        'model.neck.embed_dims=256 model.head.in_channels=256')
    return parser.parse_args()


def build_model(path: str, cfg_options, device: str) -> torch.nn.Module:
    """Build the model of a config with random weights, in eval mode."""
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
        model.set_train_stage(2)  # full DenseIL inference path
    return model.to(device).eval()


def time_once(fn: Callable[[], object], cuda: bool) -> float:
    """Seconds one call of ``fn`` takes (synchronised on CUDA)."""
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def neck_head(model: torch.nn.Module, feats: tuple,
              num_frames: int) -> Callable[[], object]:
    """The part after the backbone: neck + the head's BN feature."""
    return lambda: model.head.pre_logits(model.neck(feats, num_frames))


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = [args.config] + ([args.config2] if args.config2 else [])
    options = [args.cfg_options, args.cfg_options2]
    models = [
        build_model(path, opts, args.device)
        for path, opts in zip(paths, options)
    ]
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
    medians = [statistics.median(t) for t in times]
    part_medians = [statistics.median(t) for t in part_times]
    for path, median, record, part in zip(paths, medians, times, part_medians):
        print(f'{path}: median {median * 1e3:.1f} ms/clip '
              f'(min {min(record) * 1e3:.1f}, max {max(record) * 1e3:.1f}); '
              f'neck + head alone {part * 1e3:.2f} ms/clip')
    if len(medians) == 2:
        # Back-to-back pairs share the machine load, so their median ratio
        # is steadier than the ratio of medians on a busy machine.
        ratio = medians[1] / medians[0]
        paired = statistics.median(b / a for a, b in zip(*times))
        extra = (part_medians[1] - part_medians[0]) / medians[0]
        print(f'ratio B/A: of medians {ratio:.3f} ({(ratio - 1) * 100:+.1f} '
              f'%), median of paired runs {paired:.3f} '
              f'({(paired - 1) * 100:+.1f} %)')
        print('neck + head of B minus that of A, over A\'s forward time: '
              f'{extra * 100:+.1f} % (same backbone: the extra cost of B)')


if __name__ == '__main__':
    main()

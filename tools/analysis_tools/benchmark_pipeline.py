# Copyright (c) mmreid_video contributors. All rights reserved.
"""Clips per second of the training input pipeline vs a PIL/torchvision one.

The pipelines do the same work on the same synthetic JPEG tracklets
(MARS-like 256x128 frames): restricted random sampling of T frames, decode,
resize to 256x128, per-frame random horizontal flip, sequence-level random
erasing, through a torch DataLoader with one worker. Two references with
PIL + torchvision transforms are timed in the same run, each at steady
state (the batches the workers prefetch while starting are left out):

- ``reference``: the usual re-ID recipe, ``ToTensor`` + ``Normalize`` in the
  loader, so float32 clips cross the worker boundary. Ours hands uint8 clips
  to the model, whose data preprocessor normalises them on the device; this
  is the comparison the JSON's ``ratio`` reports.
- ``reference_uint8``: ``PILToTensor``, the same uint8 output as ours, which
  isolates the per-frame work (decoding dominates both).

Example::

    python tools/analysis_tools/benchmark_pipeline.py --json bench.json
"""
import argparse
import os
import os.path as osp
import resource
import tempfile
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-tracklets', type=int, default=64)
    parser.add_argument(
        '--frames', type=int, default=48, help='frames per tracklet')
    parser.add_argument(
        '--src-size',
        type=int,
        nargs=2,
        default=(256, 128),
        metavar=('H', 'W'),
        help='source frame size')
    parser.add_argument('--clip-len', type=int, default=8)
    parser.add_argument(
        '--clips', type=int, default=384, help='clips timed per run')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument(
        '--collate',
        choices=['default', 'pseudo'],
        default='default',
        help="our collate_fn: mmengine 'default' (stacks the uint8 clips "
        "into one tensor, the recommended train setting) or 'pseudo' (a "
        'list of per-clip tensors, the Runner default)')
    parser.add_argument('--data-dir', help='reuse/keep frames here')
    parser.add_argument('--json', help='write the results to this file')
    return parser.parse_args()


def make_tracklets(root: str, num_tracklets: int, num_frames: int,
                   size: tuple) -> List[Dict]:
    """Write smooth, person-crop-like JPEG frames; return data infos."""
    rng = np.random.default_rng(0)
    height, width = size
    infos = []
    for t in range(num_tracklets):
        folder = osp.join(root, f'{t:04d}')
        os.makedirs(folder, exist_ok=True)
        base = rng.integers(0, 256, (height // 8, width // 8, 3), np.uint8)
        base = cv2.resize(base, (width, height), interpolation=cv2.INTER_CUBIC)
        paths = []
        for f in range(num_frames):
            path = osp.join(folder, f'{f:04d}.jpg')
            if not osp.exists(path):
                noise = rng.normal(0, 4, base.shape)
                frame = np.clip(base + noise, 0, 255).astype(np.uint8)
                cv2.imwrite(path, frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
            paths.append(path)
        infos.append(
            dict(frame_paths=paths, pid=t, camid=0, tracklet_id=f'{t:04d}'))
    return infos


class OursDataset:
    """Our registered transforms, built from config dicts."""

    def __init__(self, infos: List[Dict], clip_len: int) -> None:
        from mmcv.transforms import Compose
        from mmengine.registry import init_default_scope

        from mmreid_video.registry import TRANSFORMS
        init_default_scope('mmreid_video')
        self.infos = infos
        self.pipeline = Compose([
            TRANSFORMS.build(cfg)
            for cfg in (dict(type='RestrictedRandomSample', clip_len=clip_len),
                        dict(type='LoadFrames', scale=(128, 256)),
                        dict(type='ClipResize', scale=(128, 256)),
                        dict(type='FrameRandomFlip', prob=0.5),
                        dict(type='SequenceRandomErasing', prob=0.5),
                        dict(type='PackReIDInputs'))
        ])

    def __len__(self) -> int:
        return len(self.infos)

    def __getitem__(self, idx: int) -> Dict:
        return self.pipeline(dict(self.infos[idx], sample_idx=idx))


class ReferenceDataset:
    """The same work with PIL and torchvision transforms."""

    def __init__(self, infos: List[Dict], clip_len: int, mode: str) -> None:
        from torchvision import transforms as T
        self.infos = infos
        self.clip_len = clip_len
        to_tensor = [T.PILToTensor()] if mode == 'uint8' else [
            T.ToTensor(),
            T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        ]
        self.frame_tf = T.Compose(
            [T.Resize((256, 128)),
             T.RandomHorizontalFlip(0.5), *to_tensor])
        value = (124, 116, 104) if mode == 'uint8' else 0
        # On a (T, 3, H, W) tensor one rectangle is erased in every frame.
        self.erase = T.RandomErasing(
            p=0.5, scale=(0.02, 0.4), ratio=(0.3, 3.33), value=value)

    def __len__(self) -> int:
        return len(self.infos)

    def __getitem__(self, idx: int) -> Dict:
        import torch
        from PIL import Image
        info = self.infos[idx]
        num = len(info['frame_paths'])
        edges = np.arange(self.clip_len + 1) * num // self.clip_len
        inds = [
            np.random.randint(s, max(e, s + 1))
            for s, e in zip(edges[:-1], edges[1:])
        ]
        frames = [
            self.frame_tf(Image.open(info['frame_paths'][i]).convert('RGB'))
            for i in inds
        ]
        return dict(inputs=self.erase(torch.stack(frames)), pid=info['pid'])


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished (joined) children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + \
        children.ru_stime


def measure(dataset, collate: Callable,
            args: argparse.Namespace) -> Tuple[float, float]:
    """One pass through a DataLoader.

    Returns:
        tuple[float, float]: Wall-clock clips/s at steady state
        (:func:`mmreid_video.utils.benchmark.loader_throughput`: the
        workers' start-up and prefetched batches left out), and clips per
        CPU second of the worker and main process together over the whole
        pass (less sensitive to other load on a shared machine).
    """
    from torch.utils.data import DataLoader

    from mmreid_video.utils.benchmark import loader_throughput
    indices = np.random.default_rng(1).integers(0, len(dataset), args.clips +
                                                args.batch_size).tolist()
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        sampler=indices,
        num_workers=args.workers,
        collate_fn=collate)
    skip = max(1, (loader.prefetch_factor or 0) * args.workers)
    cpu_start = _cpu_seconds()
    # Its iterator is deleted at the end, so the workers' CPU time counts.
    stats = loader_throughput(loader, len(loader) - skip, repeat=1)
    clips = (stats['skipped'] + stats['batches']) * args.batch_size
    return stats['median'], clips / (_cpu_seconds() - cpu_start)


def main() -> None:
    args = parse_args()
    import torch
    from mmengine.dataset import default_collate, pseudo_collate

    from mmreid_video.utils.benchmark import (machine_info, summarize_times,
                                              write_report)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or tmp
        infos = make_tracklets(root, args.num_tracklets, args.frames,
                               args.src_size)
        collate = dict(
            default=default_collate, pseudo=pseudo_collate)[args.collate]
        pipelines = dict(
            ours=(OursDataset(infos, args.clip_len), collate),
            reference=(ReferenceDataset(infos, args.clip_len,
                                        'float'), default_collate),
            reference_uint8=(ReferenceDataset(infos, args.clip_len,
                                              'uint8'), default_collate))
        for dataset, _ in pipelines.values():
            shape = dataset[0]['inputs'].shape
            assert shape == (args.clip_len, 3, 256, 128), shape
        runs = {name: [] for name in pipelines}
        # Interleave the runs so that load from other processes hits all.
        for run in range(args.runs):
            for name, (dataset, collate_fn) in pipelines.items():
                runs[name].append(measure(dataset, collate_fn, args))
            print(f'run {run}: ' + ', '.join(
                f'{name} {r[-1][0]:.1f} clips/s ({r[-1][1]:.1f} per CPU s)'
                for name, r in runs.items()))
    wall = {k: summarize_times([r[0] for r in v]) for k, v in runs.items()}
    cpu = {k: summarize_times([r[1] for r in v]) for k, v in runs.items()}
    ours = wall['ours']['median']
    result = dict(
        machine=machine_info(),
        clips_per_s=wall,
        clips_per_cpu_s=cpu,
        ours_clips_per_s=ours,
        reference_clips_per_s=wall['reference']['median'],
        ratio=ours / wall['reference']['median'],
        reference_uint8_clips_per_s=wall['reference_uint8']['median'],
        ratio_uint8=ours / wall['reference_uint8']['median'])
    print(f'min / median / max over {args.runs} runs, {args.workers} '
          f"worker(s), load average {result['machine']['load_average']}:")
    for name, stat in wall.items():
        print(f"  {name}: {stat['min']:.1f} / {stat['median']:.1f} / "
              f"{stat['max']:.1f} clips/s")
    for name in ('reference', 'reference_uint8'):
        ref, ours_cpu = wall[name]['median'], cpu['ours']['median']
        print(f'  ours vs {name}: ratio {ours / ref:.2f}x; per CPU second '
              f"{ours_cpu:.1f} vs {cpu[name]['median']:.1f}: "
              f"{ours_cpu / cpu[name]['median']:.2f}x")
    if args.json:
        write_report(result, args.json)


if __name__ == '__main__':
    main()

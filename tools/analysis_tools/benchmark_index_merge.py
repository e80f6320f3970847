# Copyright (c) mmreid_video contributors. All rights reserved.
"""Benchmark merging compressed GalleryIndex shards against rebuilding.

A synthetic gallery of ``--num`` descriptors is cut into ``--shards``
shards. A template trained once on the gallery encodes every shard (as
``tools/build_index.py --train-only`` / ``--trained`` do); then, each in a
process of its own so that its peak memory is its own:

- ``merge``: load the shard files, join their encoded lists, save
  (``GalleryIndex.merge``, ``build_index.py --merge``);
- ``rebuild``: load the shard files, train afresh over all descriptors,
  encode them all, save (``merge(retrain=True)``: what merging cost
  before shards shared a training).

The template drew the same training rows as the rebuild draws (same seed,
same number of descriptors), so both indexes should have the same training
and give identical top-10 lists and distances on ``--num-query`` queries;
the report says whether they do. Timings are one run each (``time_calls``);
the machine's load average is recorded.

Example (1M x 512, 10 shards; about 9 GB of disk under --work-dir):
    python tools/analysis_tools/benchmark_index_merge.py --num 1000000 \\
        --dim 512 --shards 10 --json work_dirs/benchmark_index_merge.json
"""
import argparse
import os
import os.path as osp
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def index_param(text: str) -> tuple:
    """``KEY=INT`` of ``--param``."""
    key, _, value = text.partition('=')
    try:
        return key, int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected KEY=INT, e.g. nlist=256, got {text!r}') from None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--num', type=int, default=1_000_000, help='gallery descriptors')
    parser.add_argument('--dim', type=int, default=512)
    parser.add_argument('--shards', type=int, default=10)
    parser.add_argument(
        '--num-query', type=int, default=1000, help='queries compared')
    parser.add_argument(
        '--param',
        nargs='+',
        type=index_param,
        default=[],
        metavar='KEY=INT',
        help='compressed GalleryIndex parameters, e.g. nlist=256 (others: '
        'GalleryIndex\'s defaults)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--work-dir',
        help='folder for the gallery and index files (default: a '
        'temporary folder, removed at the end)')
    parser.add_argument('--json', help='write the results to this file')
    return parser.parse_args()


def make_gallery(path: str, num: int, dim: int, seed: int) -> None:
    """Clustered float32 descriptors (2,000 centres), written a block at a
    time to a ``.npy`` file."""
    import numpy as np
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((2000, dim), np.float32)
    out = np.lib.format.open_memmap(path, 'w+', np.float32, (num, dim))
    for start in range(0, num, 1 << 16):
        n = min(1 << 16, num - start)
        out[start:start + n] = centres[rng.integers(0, len(centres), n)] + \
            0.5 * rng.standard_normal((n, dim), np.float32)
    out.flush()


def rss_mb(key: str = 'VmHWM') -> float:
    """This process's peak (``VmHWM``: unlike ``ru_maxrss``, not inherited
    from the parent that started it) or current (``VmRSS``) resident
    memory in MB; Linux only."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    raise OSError(f'/proc/self/status has no {key}')


def run_phase(phase: str, work: str, args: argparse.Namespace) -> dict:
    """One phase, timed in this (fresh) process; returns its report."""
    import numpy as np

    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.utils.benchmark import time_calls

    gallery = np.load(osp.join(work, 'gallery.npy'), mmap_mode='r')
    shard_paths = [
        osp.join(work, f'shard_{i}.gidx') for i in range(args.shards)
    ]
    params = dict(args.param)

    def template():
        index = GalleryIndex(args.dim, 'compressed', seed=args.seed, **params)
        index.train(gallery)
        index.save(osp.join(work, 'trained.gidx'))

    def encode_shards():
        for path, rows in zip(
                shard_paths,
                np.array_split(np.arange(len(gallery)), args.shards)):
            shard = GalleryIndex.load(osp.join(work, 'trained.gidx'))
            shard.add(gallery[rows[0]:rows[-1] + 1])
            shard.save(path)

    def merge():
        GalleryIndex.merge([GalleryIndex.load(p) for p in shard_paths
                            ]).save(osp.join(work, 'merged.gidx'))

    def rebuild():
        index = GalleryIndex.merge([GalleryIndex.load(p) for p in shard_paths],
                                   retrain=True)
        index.train()
        index.save(osp.join(work, 'rebuilt.gidx'))

    def compare():
        query = np.load(osp.join(work, 'query.npy'))
        merged, rebuilt = (
            GalleryIndex.load(osp.join(work, f'{n}.gidx'))
            for n in ('merged', 'rebuilt'))
        (mi, md), (ri, rd) = (i.search(query, 10) for i in (merged, rebuilt))
        same = ((mi == ri) & (md == rd)).all(dim=1)
        return dict(
            same_training=merged.backend.training_id ==
            rebuilt.backend.training_id,
            training_id=merged.backend.training_id,
            queries=len(query),
            queries_identical=int(same.sum()),
            identical_results=bool(same.all()),
            index_bytes=os.path.getsize(osp.join(work, 'merged.gidx')))

    fn = dict(
        template=template,
        encode_shards=encode_shards,
        merge=merge,
        rebuild=rebuild,
        compare=compare)[phase]
    # What the imports (torch, mm*) hold before the phase starts.
    start_rss = rss_mb('VmRSS')
    timing = time_calls(fn, repeat=1, warmup=0)
    report = dict(
        seconds=timing['median'],
        cpu_seconds=timing['cpu_s']['median'],
        peak_rss_mb=rss_mb(),
        start_rss_mb=start_rss)
    if timing['result'] is not None:
        report.update(timing['result'])
    return report


def main() -> None:
    args = parse_args()
    import json

    import numpy as np

    from mmreid_video.utils.benchmark import machine_info, write_report

    work = args.work_dir or tempfile.mkdtemp(prefix='bench_merge_')
    os.makedirs(work, exist_ok=True)
    results = dict(
        num=args.num,
        dim=args.dim,
        num_shards=args.shards,
        machine=machine_info())
    try:
        make_gallery(
            osp.join(work, 'gallery.npy'), args.num, args.dim, args.seed)
        rng = np.random.default_rng(args.seed + 1)
        gallery = np.load(osp.join(work, 'gallery.npy'), mmap_mode='r')
        picks = rng.integers(0, args.num, args.num_query)
        np.save(
            osp.join(work, 'query.npy'),
            gallery[np.sort(picks)] + 0.1 * rng.standard_normal(
                (args.num_query, args.dim), np.float32))
        for phase in ('template', 'encode_shards', 'merge', 'rebuild',
                      'compare'):
            # A fresh process per phase: its peak memory is its own.
            with ProcessPoolExecutor(1, mp_context=get_context('spawn')) as ex:
                results[phase] = ex.submit(run_phase, phase, work,
                                           args).result()
            print(f'{phase}: {json.dumps(results[phase])}', flush=True)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    results['merge_speedup'] = results['rebuild']['seconds'] / max(
        results['merge']['seconds'], 1e-9)
    results['load_average_end'] = machine_info()['load_average']
    print(json.dumps(results, indent=2))
    if args.json:
        write_report(results, args.json)


if __name__ == '__main__':
    main()

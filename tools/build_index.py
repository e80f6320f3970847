# Copyright (c) mmreid_video contributors. All rights reserved.
"""Build a GalleryIndex file from the shards of tools/extract_features.py.

``python tools/build_index.py FEATURES_DIR --out gallery.gidx
[--subset gallery] [--mode compressed --param nlist=4096 nprobe=256]``

Rows of the index are the selected tracklets in dataset order (the order
of ``read_shards``), with their pids and camids.
"""
import argparse
import time

from mmreid_video.apis import GalleryIndex
from mmreid_video.apis.feature_shards import SUBSETS, read_shards
from mmreid_video.utils import CfgOptionsAction, check_output_path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'features', help='output folder of '
        'tools/extract_features.py')
    parser.add_argument('--out', required=True, help='index file to write')
    parser.add_argument(
        '--subset',
        default='gallery',
        choices=SUBSETS,
        help='tracklets to index (gallery/query need a test split)')
    parser.add_argument(
        '--mode', default='exact', choices=['exact', 'compressed'])
    parser.add_argument(
        '--param',
        nargs='+',
        action=CfgOptionsAction,
        default={},
        help='GalleryIndex parameters, e.g. nlist=4096 nprobe=256')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Before the shards are read and the index is trained.
    check_output_path(args.out, '--out')
    shards = read_shards(args.features, args.subset)
    start = time.perf_counter()
    index = GalleryIndex(shards['feats'].shape[1], args.mode, **args.param)
    index.add(shards['feats'], shards['pids'], shards['camids'])
    if args.mode == 'compressed':
        index.train()
    index.save(args.out)
    print(f'{args.out}: {index.ntotal} {args.subset} tracklets, '
          f'{args.mode} mode, {index.memory_bytes() / index.ntotal:.0f} '
          f'bytes each in memory, built in '
          f'{time.perf_counter() - start:.1f}s')


if __name__ == '__main__':
    main()

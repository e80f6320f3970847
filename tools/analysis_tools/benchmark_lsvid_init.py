# Copyright (c) mmreid_video contributors. All rights reserved.
"""Time the initialisation of the LS-VID dataset on a generated tree.

The tree has LS-VID's published layout and its tracklet counts (2,831
train and 11,333 test tracklets over 842 and 2,930 ids, 3,504 queries), but
only ``--frame-scale`` of its ~200 frames per tracklet (2,982,685 frames /
14,943 tracklets in the paper), drawn from an assumed log-normal: every
frame is a hard link to a small JPEG (a new one every 60,000 links, under
ext4's limit), so the tree costs directory entries, not disk. For each
scale and split it prints the median time of ``load_data_list()`` (reading
the lists and listing the folders), of the public loaders' way of finding
the frames (one ``glob(prefix + '*')`` per tracklet) on the same tree, their
ratio measured in the same run, and of the whole constructor (which adds
MMEngine's serialisation of the data list and its ``gc.collect()``); the
last line scales the largest tree's times in proportion to the full
dataset's frames, an upper bound as fixed costs are scaled too. Page cache
warm (one untimed run first). ``--json`` keeps min / median / max of every
timing with the machine's description (load average included).

Example:
    python tools/analysis_tools/benchmark_lsvid_init.py \\
        --frame-scale 0.02 0.1 --repeats 3
"""
import argparse
import glob
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Tuple

import numpy as np

SPLITS = dict(train=(2831, 842), test=(11333, 2930))
NUM_QUERY = 3504
MEAN_FRAMES = 2982685 / 14943


def make_tree(root: str, frame_scale: float, seed: int = 0) -> int:
    """Write an LS-VID-layout tree of hard links; return its frame count."""
    import cv2
    import h5py

    from mmreid_video.datasets.lsvid import LIST_FILES
    rng = np.random.default_rng(seed)
    jpeg = cv2.imencode('.jpg', np.zeros((128, 64, 3), np.uint8))[1]
    os.makedirs(osp.join(root, 'list_sequence'))
    total, pid0 = 0, 1
    for split, (num, ids) in SPLITS.items():
        # sigma 0.8 around the paper's mean; at least one frame each.
        lens = rng.lognormal(np.log(MEAN_FRAMES) - 0.32, 0.8, num)
        lens = np.maximum(1, np.round(lens * frame_scale)).astype(int)
        pids = pid0 + np.sort(rng.integers(0, ids, num))
        lines = []
        for t, (pid, n) in enumerate(zip(pids, lens)):
            folder = osp.join(root, f'tracklet_{split}', f'{pid:04d}')
            os.makedirs(folder, exist_ok=True)
            stem, cam = f'{pid:04d}{t:05d}', rng.integers(1, 16)
            for f in range(n):
                if total % 60000 == 0:
                    source = osp.join(root, f'frame{total}.jpg')
                    jpeg.tofile(source)
                name = f'{stem}_{f:04d}_{cam}_0.jpg'
                os.link(source, osp.join(folder, name))
                total += 1
            lines.append(f'tracklet_{split}/{pid:04d}/{stem} {pid}\n')
        with open(osp.join(root, LIST_FILES[split]), 'w') as f:
            f.writelines(lines)
        pid0 += ids
    query = rng.choice(SPLITS['test'][0], NUM_QUERY, replace=False) + 1
    os.makedirs(osp.join(root, 'test', 'data'))
    with h5py.File(osp.join(root, 'test/data/info_test.mat'), 'w') as f:
        f['query'] = query[None].astype(float)  # MATLAB 3504x1, transposed
    return total


def glob_per_tracklet(root: str, split: str) -> int:
    """What the public loaders do: one glob per list line."""
    from mmreid_video.datasets.lsvid import LIST_FILES, read_sequence_list
    rows = read_sequence_list(osp.join(root, LIST_FILES[split]))
    return sum(
        len(sorted(glob.glob(osp.join(root, p) + '*'))) for p, _ in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--frame-scale',
        type=float,
        nargs='+',
        default=[0.02, 0.1],
        help='fraction of the real frames per tracklet, one run each')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--tmpdir', default=None, help='where to build the trees')
    parser.add_argument('--json', help='write the results to this file')
    args = parser.parse_args()
    from mmreid_video.datasets import LSVID
    from mmreid_video.utils.benchmark import (machine_info, time_calls,
                                              write_report)

    def timed(name: str, fn) -> float:
        """Median seconds (page cache warm); min / median / max kept."""
        stats = time_calls(fn, repeat=args.repeats)
        stats.pop('result')
        rows[-1][name] = stats
        return stats['median']

    report = dict(machine=machine_info(), rows=[])
    rows = report['rows']
    print('| frame scale | frames | split | load_data_list (s) | glob per '
          'tracklet (s) | ratio | LSVID() (s) |')
    print('|---|---|---|---|---|---|---|')
    last: Dict[str, Tuple[float, int, float]] = {}
    for scale in sorted(args.frame_scale):
        root = tempfile.mkdtemp(prefix='lsvid_', dir=args.tmpdir)
        try:
            frames = make_tree(root, scale)
            for split in ('train', 'test'):
                rows.append(
                    dict(frame_scale=scale, frames=frames, split=split))
                lazy = LSVID(root, split=split, lazy_init=True)
                ours = timed('load_data_list_s', lazy.load_data_list)
                ref = timed('glob_per_tracklet_s',
                            lambda: glob_per_tracklet(root, split))
                init = timed('init_s', lambda: LSVID(root, split=split))
                last[split] = (ours, frames, init)
                print(f'| {scale} | {frames:,} | {split} | {ours:.2f} | '
                      f'{ref:.2f} | {ref / ours:.1f}x | {init:.2f} |')
        finally:
            shutil.rmtree(root)
    full = MEAN_FRAMES * sum(n for n, _ in SPLITS.values())
    print(f'scaled to {full:,.0f} frames: ' + ', '.join(
        f'{split} load_data_list {t[0] * full / t[1]:.1f} s, LSVID() '
        f'{t[2] * full / t[1]:.1f} s' for split, t in last.items()))
    if args.json:
        write_report(report, args.json)


if __name__ == '__main__':
    main()

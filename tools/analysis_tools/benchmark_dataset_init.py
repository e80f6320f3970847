"""Time the initialisation of MARS from the real metadata.

Only metadata is read at initialisation, so the frames are not needed: the
real track tables and ``query_IDX.mat`` are copied into a temporary MARS
tree together with frame-name lists consistent with them (the published
lists are too large to keep in the repository). Reports the median
wall-clock and CPU seconds per split; CPU time is the steadier number on a
loaded machine.

Example::

    python tools/analysis_tools/benchmark_dataset_init.py \\
        --mars-info ../shared/data/mars_info
"""
import argparse
import os
import os.path as osp
import shutil
import statistics
import tempfile
import time

import numpy as np
from scipy.io import loadmat


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--mars-info',
        default='../shared/data/mars_info',
        help='folder with tracks_{train,test}_info.mat and query_IDX.mat')
    parser.add_argument('--runs', type=int, default=3)
    return parser.parse_args()


def names_of(table: np.ndarray) -> str:
    """Frame names consistent with a track table, one per line."""
    lines, count = [], {}
    for start, end, pid, cam in table.tolist():
        count[pid, cam] = count.get((pid, cam), 0) + 1
        pid4 = f'{pid:04d}' if pid >= 0 else '00-1'
        prefix = f'{pid4}C{cam}T{count[pid, cam]:04d}F'
        lines += [f'{prefix}{i:03d}.jpg' for i in range(1, end - start + 2)]
    return '\n'.join(lines) + '\n'


def make_tree(info: str, root: str) -> None:
    """A MARS tree with the real metadata and no frames."""
    os.makedirs(osp.join(root, 'info'))
    for sub in ('train', 'test'):
        os.makedirs(osp.join(root, f'bbox_{sub}'))
        mat = f'tracks_{sub}_info.mat'
        shutil.copy(osp.join(info, mat), osp.join(root, 'info', mat))
        table = loadmat(osp.join(info, mat))[f'track_{sub}_info']
        with open(osp.join(root, 'info', f'{sub}_name.txt'), 'w') as f:
            f.write(names_of(table))
    shutil.copy(
        osp.join(info, 'query_IDX.mat'), osp.join(root, 'info',
                                                  'query_IDX.mat'))


def main() -> None:
    args = parse_args()
    from mmreid_video.datasets import MARS
    with tempfile.TemporaryDirectory() as root:
        make_tree(args.mars_info, root)
        for split in ('train', 'test'):
            wall, cpu = [], []
            for _ in range(args.runs):
                w, c = time.perf_counter(), time.process_time()
                dataset = MARS(root, split=split)
                wall.append(time.perf_counter() - w)
                cpu.append(time.process_time() - c)
            print(f'MARS {split}: {len(dataset)} tracklets, init median '
                  f'{statistics.median(wall):.2f} s wall, '
                  f'{statistics.median(cpu):.2f} s CPU '
                  f'({args.runs} runs)')


if __name__ == '__main__':
    main()

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Time the initialisation of MARS from the real metadata.

Only metadata is read at initialisation, so the frames are not needed: the
real track tables and ``query_IDX.mat`` are written into a temporary MARS
tree together with frame-name lists consistent with them
(:mod:`mmreid_video.datasets.mars_layout`; the published lists are too
large to keep in the repository). Reports min / median / max wall-clock
and CPU seconds per split (one untimed run first); CPU time is the steadier
number on a loaded machine.

Example::

    python tools/analysis_tools/benchmark_dataset_init.py \\
        --mars-info ../shared/data/mars_info --json init.json
"""
import argparse
import tempfile


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--mars-info',
        default='../shared/data/mars_info',
        help='folder with tracks_{train,test}_info.mat and query_IDX.mat')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--json', help='write the results to this file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from mmreid_video.datasets import MARS
    from mmreid_video.datasets.mars_layout import (read_mars_info,
                                                   select_tracklets,
                                                   write_mars_info)
    from mmreid_video.utils.benchmark import (machine_info, time_calls,
                                              write_report)
    kept = select_tracklets(read_mars_info(args.mars_info), None)
    report = dict(machine=machine_info(), splits={})
    with tempfile.TemporaryDirectory() as root:
        write_mars_info(root, kept['tables'], kept['names'], kept['query'])
        for split in ('train', 'test'):
            stats = time_calls(
                lambda: MARS(root, split=split), repeat=args.runs)
            dataset = stats.pop('result')
            report['splits'][split] = dict(stats, tracklets=len(dataset))
            cpu = stats['cpu_s']
            print(f'MARS {split}: {len(dataset)} tracklets, init '
                  f"{stats['min']:.2f} / {stats['median']:.2f} / "
                  f"{stats['max']:.2f} s wall, {cpu['min']:.2f} / "
                  f"{cpu['median']:.2f} / {cpu['max']:.2f} s CPU (min / "
                  f'median / max of {args.runs} runs)')
    print(f"load average {report['machine']['load_average']}")
    if args.json:
        write_report(report, args.json)


if __name__ == '__main__':
    main()

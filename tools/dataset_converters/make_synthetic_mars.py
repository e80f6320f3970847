# Copyright (c) mmreid_video contributors. All rights reserved.
"""Write synthetic video re-ID data in the exact MARS layout.

The defaults are the data the demo configs create
(``configs/_base_/datasets/synthetic_mars.py``): one definition, the
defaults of :func:`mmreid_video.datasets.make_synthetic_mars` (read after
the arguments are parsed, so that ``--help`` answers at once).

Example:
    python tools/dataset_converters/make_synthetic_mars.py data/synthetic_mars
"""
import argparse
import inspect
import time

DEFAULT_HELP = "default: make_synthetic_mars's (the demo data)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a synthetic video re-ID dataset in the exact '
        'MARS layout (bbox_train/, bbox_test/, info/) into a missing or '
        'empty folder')
    parser.add_argument(
        'out_dir', help='output folder, e.g. data/synthetic_mars')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace synthetic data this tool wrote into out_dir before; '
        'a folder holding any other file is refused all the same')
    for name in ('seed', 'num_train_ids', 'num_test_ids', 'num_cameras',
                 'num_distractors', 'num_junk', 'height', 'width'):
        parser.add_argument(
            '--' + name.replace('_', '-'),
            type=int,
            default=argparse.SUPPRESS,
            help=DEFAULT_HELP)
    for name in ('tracklets_per_id', 'frames_per_tracklet'):
        parser.add_argument(
            '--' + name.replace('_', '-'),
            type=int,
            nargs=2,
            default=argparse.SUPPRESS,
            metavar=('MIN', 'MAX'),
            help=DEFAULT_HELP)
    args = parser.parse_args()
    from mmreid_video.datasets import make_synthetic_mars
    for name, param in inspect.signature(
            make_synthetic_mars).parameters.items():
        if name != 'root' and not hasattr(args, name):
            setattr(args, name, param.default)
    return args


def main() -> None:
    args = vars(parse_args())
    from mmreid_video.datasets import make_synthetic_mars
    out_dir = args.pop('out_dir')
    start = time.perf_counter()
    try:
        summary = make_synthetic_mars(out_dir, **args)
    except FileExistsError as e:
        raise SystemExit(f'make_synthetic_mars.py: {e}')
    print(f'Wrote {summary["num_train_tracklets"]} train and '
          f'{summary["num_test_tracklets"]} test tracklets '
          f'({summary["num_queries"]} queries) to {out_dir} in '
          f'{time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    main()

"""Write the synthetic demo dataset in the MARS layout.

Example:
    python tools/dataset_converters/make_demo_dataset.py data/demo_mars
"""
import argparse
import time

from mmreid_video.datasets import make_demo_dataset


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a synthetic video re-ID dataset in the exact '
        'MARS layout (bbox_train/, bbox_test/, info/)')
    parser.add_argument('out_dir', help='output folder, e.g. data/demo_mars')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--num-train-ids', type=int, default=40)
    parser.add_argument('--num-test-ids', type=int, default=40)
    parser.add_argument('--num-cameras', type=int, default=6)
    parser.add_argument(
        '--tracklets-per-id',
        type=int,
        nargs=2,
        default=(2, 4),
        metavar=('MIN', 'MAX'))
    parser.add_argument(
        '--frames-per-tracklet',
        type=int,
        nargs=2,
        default=(8, 24),
        metavar=('MIN', 'MAX'))
    parser.add_argument('--num-distractors', type=int, default=20)
    parser.add_argument('--num-junk', type=int, default=10)
    parser.add_argument('--height', type=int, default=64)
    parser.add_argument('--width', type=int, default=32)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    summary = make_demo_dataset(
        args.out_dir,
        seed=args.seed,
        num_train_ids=args.num_train_ids,
        num_test_ids=args.num_test_ids,
        num_cameras=args.num_cameras,
        tracklets_per_id=tuple(args.tracklets_per_id),
        frames_per_tracklet=tuple(args.frames_per_tracklet),
        num_distractors=args.num_distractors,
        num_junk=args.num_junk,
        height=args.height,
        width=args.width)
    print(f'Wrote {summary["num_train_tracklets"]} train and '
          f'{summary["num_test_tracklets"]} test tracklets '
          f'({summary["num_queries"]} queries) to {args.out_dir} in '
          f'{time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    main()

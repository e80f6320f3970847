# Copyright (c) mmreid_video contributors. All rights reserved.
"""Benchmark the re-ID evaluation at MARS scale.

Times, interleaved in one run, the bare ``Q x D @ D x G`` GEMM (the floor
on a CPU), distances, ranking alone on the dense matrix (*rank-only*), the
full evaluation (distances + ranking; mAP, CMC, mINP) and the fused
by-features evaluation of ``mmreid_video``, against a straightforward
per-query numpy reference implemented below, and checks that both
evaluators give identical numbers on the same distance matrix.
``--baseline REF`` times another version of the package (a git ref or a
path to a copy) next to this one in worker processes, on the same data,
and reports the ratios ours/baseline, so a slowdown shows before it lands.
Optionally times k-reciprocal re-ranking, a large gallery in bounded memory
(``--large-gallery N``) and evaluation on a GPU (``--device cuda``: same
numbers as the CPU given the same distances, and its time).

Examples:
    python tools/analysis_tools/benchmark_eval.py --dim 512 --repeat 7
    python tools/analysis_tools/benchmark_eval.py --repeat 7 --ref-repeat 0 \
        --baseline HEAD~3 --baseline /path/to/other/checkout
    python tools/analysis_tools/benchmark_eval.py --repeat 5 \
        --large-gallery 100000 --json work_dirs/benchmark_eval.json
    python tools/analysis_tools/benchmark_eval.py --device cuda --ref-repeat 1
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-query', type=int, default=1980)
    parser.add_argument('--num-gallery', type=int, default=11310)
    parser.add_argument('--num-ids', type=int, default=625)
    parser.add_argument('--num-distractors', type=int, default=3248)
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument('--dim', type=int, default=2048)
    parser.add_argument(
        '--signal',
        type=float,
        default=None,
        help='weight of the per-id centre in the random features; default '
        '0.32 * (2048 / dim) ** 0.3, a mAP in the 80s (as models reach on '
        'MARS); 0 gives chance-level lists')
    parser.add_argument(
        '--ap-mode', default='standard', choices=['standard', 'trapezoid'])
    parser.add_argument(
        '--repeat',
        type=int,
        default=5,
        help='runs of ours (and rounds with --baseline); medians reported')
    parser.add_argument(
        '--ref-repeat',
        type=int,
        default=3,
        help='runs of the per-query reference (0: none); median reported')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch threads (default: torch default)')
    parser.add_argument(
        '--rerank',
        action='store_true',
        help='also time k-reciprocal re-ranking (20/6/0.3)')
    parser.add_argument(
        '--large-gallery',
        type=int,
        default=None,
        help='also evaluate (fused) against a gallery of this many tracklets '
        '(extra distractors): time per gallery item and peak memory')
    parser.add_argument(
        '--device',
        default=None,
        help="also evaluate on this device (e.g. 'cuda'): equality with the "
        'CPU on the same distances, and its time')
    parser.add_argument(
        '--baseline',
        action='append',
        default=[],
        metavar='REF',
        help='also time this version of mmreid_video (a git ref of this '
        'repository, or a folder holding mmreid_video/) on the same data, '
        'in worker processes taking turns with this version; repeatable')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the results to this file')
    args = parser.parse_args()
    if args.repeat < 1 or args.ref_repeat < 0:
        parser.error('--repeat must be >= 1 and --ref-repeat >= 0')
    if args.signal is None:
        args.signal = 0.32 * (2048 / args.dim)**0.3
    return args


def main():
    args = parse_args()
    from _eval_runs import run  # noqa: I100 (script dir)
    run(args)


if __name__ == '__main__':
    main()

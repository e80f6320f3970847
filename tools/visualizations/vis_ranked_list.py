# Copyright (c) mmreid_video contributors. All rights reserved.
"""Draw ranked lists: query tracklets and their top-k gallery tracklets.

Three modes::

    # run the test, then draw (the dump is kept in OUT_DIR)
    python tools/visualizations/vis_ranked_list.py CONFIG CHECKPOINT
    # draw from a `tools/test.py CONFIG CKPT --out FILE` dump, no model run
    python tools/visualizations/vis_ranked_list.py CONFIG --dump FILE
    # draw from a `tools/search.py INDEX FEATURES --out FILE` results file
    python tools/visualizations/vis_ranked_list.py --search-results FILE

The config gives the test dataset (frame paths); search results carry
their frame paths. Query choice: ``--select first|random|best|worst`` (by
AP; dumps only) with ``--num``, optionally only the queries of ``--pids``;
or explicit ``--query-index`` positions. Writes
``OUT_DIR/ranked_list_{i}.png``, ``--per-figure`` queries each.
"""
import argparse
import os.path as osp
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw re-ID ranked lists to PNG files')
    parser.add_argument(
        'config',
        nargs='?',
        help='test config file (not with --search-results)')
    parser.add_argument(
        'checkpoint', nargs='?', help='checkpoint (runs the test)')
    parser.add_argument(
        '--dump', help='metric dump from tools/test.py --out (no test run)')
    parser.add_argument(
        '--search-results',
        metavar='FILE',
        help='results of tools/search.py --out (no config, no model run)')
    parser.add_argument(
        '--out-dir', default='work_dirs/vis_ranked_list', help='output folder')
    parser.add_argument('--topk', type=int, default=5, help='results shown')
    parser.add_argument(
        '--select',
        default='first',
        help='which queries: first, random, best or worst AP')
    parser.add_argument('--num', type=int, default=8, help='queries drawn')
    parser.add_argument(
        '--query-index',
        type=int,
        nargs='+',
        help='explicit 0-based query positions (overrides --select/--num)')
    parser.add_argument(
        '--pids', type=int, nargs='+', help='only queries of these persons')
    parser.add_argument(
        '--frames', type=int, default=4, help='frames shown per tracklet')
    parser.add_argument(
        '--per-figure', type=int, default=8, help='queries per PNG file')
    parser.add_argument('--seed', type=int, default=0, help='for random')
    parser.add_argument(
        '--work-dir', help='work dir of the test run (CHECKPOINT mode)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override config settings')
    args = parser.parse_args(argv)
    if args.search_results is not None:
        if args.config or args.dump or args.cfg_options or args.work_dir:
            parser.error('--search-results FILE draws without CONFIG, '
                         'CHECKPOINT, --dump, --cfg-options or --work-dir')
    elif args.config is None:
        parser.error('give CONFIG (with CHECKPOINT or --dump FILE) or '
                     '--search-results FILE')
    elif (args.checkpoint is None) == (args.dump is None):
        parser.error('give either CHECKPOINT (run the test) or --dump FILE')
    # The package is imported after parsing: --help answers at once.
    from mmreid_video.utils import finish_tool_args
    from mmreid_video.visualization.ranked_results import SELECT_MODES
    if args.select not in SELECT_MODES:
        parser.error(f'--select: invalid choice {args.select!r} (choose '
                     f'from {", ".join(SELECT_MODES)})')
    if args.search_results and args.select in ('best', 'worst'):
        parser.error(f'--select {args.select} sorts by AP, which search '
                     'results have not: use first or random')
    return finish_tool_args(parser, args)


def run_test(cfg, args: argparse.Namespace) -> tuple:
    """Test the checkpoint with a dump; return (dump file, dataset)."""
    from mmengine.runner import Runner
    dump_file = osp.join(osp.abspath(args.out_dir), 'ranked_lists.pkl')
    evaluators = cfg.test_evaluator
    if not isinstance(evaluators, list):
        evaluators = [evaluators]
    reid = [m for m in evaluators if 'ReID' in m.get('type', '')]
    if len(reid) != 1:
        raise ValueError('CHECKPOINT mode needs exactly one VideoReIDMetric '
                         f'in test_evaluator, found {len(reid)}')
    # Dump top-k lists at least as long as asked for.
    reid[0].out_file = dump_file
    reid[0].max_rank = max(reid[0].get('max_rank', 20), args.topk)
    cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    runner = Runner.from_cfg(cfg)
    runner.test()
    return dump_file, runner.test_dataloader.dataset


def draw_search_results(args: argparse.Namespace) -> tuple:
    """Draw from a results file of tools/search.py; return (figures,
    queries, protocol)."""
    from mmreid_video.retrieval.search_results import read_search_results
    from mmreid_video.visualization import ReIDVisualizer, choose_queries
    results = read_search_results(args.search_results)
    records = results['queries']
    queries = choose_queries(
        len(records),
        args.select,
        args.num,
        args.query_index,
        args.pids,
        args.seed,
        query_pids=[r['pid'] for r in records])
    figures = ReIDVisualizer(name='vis_ranked_list').draw_search_results(
        results,
        queries,
        args.topk,
        args.per_figure,
        args.frames,
        out_dir=args.out_dir,
        path=args.search_results)
    return figures, queries, results['protocol_text']


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    import mmengine
    from mmengine.registry import init_default_scope

    from mmreid_video.registry import DATASETS
    from mmreid_video.utils import load_config, report_errors_briefly
    from mmreid_video.visualization import (ReIDVisualizer, check_dump_matches,
                                            dataset_frames, load_ranking_dump,
                                            select_queries)
    report_errors_briefly()
    if args.search_results is not None:
        figures, queries, protocol = draw_search_results(args)
        return _report(args, figures, queries, args.search_results, protocol)
    cfg = load_config(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmreid_video'))
    mmengine.mkdir_or_exist(args.out_dir)
    if args.dump is None:
        dump_file, dataset = run_test(cfg, args)
    else:
        dump_file = args.dump
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
    dump = load_ranking_dump(dump_file)
    check_dump_matches(dump, dataset)
    queries = select_queries(dump, args.select, args.num, args.query_index,
                             args.pids, args.seed)
    # Draw only: the files go to --out-dir, not to a run's backends.
    figures = ReIDVisualizer(name='vis_ranked_list').draw_ranked_lists(
        dump,
        queries,
        dataset_frames(dataset, args.frames),
        args.topk,
        args.per_figure,
        args.frames,
        out_dir=args.out_dir)
    return _report(args, figures, queries, dump_file, dump['protocol'])


def _report(args: argparse.Namespace, figures: list, queries: list,
            source: str, protocol: str) -> List[str]:
    files = [
        osp.join(args.out_dir, f'ranked_list_{i}.png')
        for i in range(len(figures))
    ]
    print(f'Drew {len(queries)} queries (top-{args.topk}) from {source} '
          f'(protocol: {protocol}) into {", ".join(files)}')
    return files


if __name__ == '__main__':
    main()

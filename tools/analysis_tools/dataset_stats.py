# Copyright (c) mmreid_video contributors. All rights reserved.
"""Print the statistics of the train and test datasets of a config.

Example:
    python tools/analysis_tools/dataset_stats.py \\
        configs/_base_/datasets/mars.py
"""
import argparse
from typing import Dict, List

import numpy as np


def split_stats(infos: List[dict], distractor_pid=None) -> Dict:
    """Statistics of a list of data infos.

    Args:
        infos (list[dict]): Data infos with ``frame_paths``, ``pid``,
            ``camid``.
        distractor_pid (int, optional): A pid that marks distractor
            tracklets (MARS: 0); not counted as an id. Defaults to None.

    Returns:
        dict: ids, tracklets, distractors, frames, cameras, len_min,
        len_mean, len_max.
    """
    lens = np.array([len(i['frame_paths']) for i in infos])
    pids = {i['pid'] for i in infos}
    cams = {i['camid'] for i in infos}
    return dict(
        ids=len(pids - {distractor_pid}),
        tracklets=len(infos),
        distractors=sum(i['pid'] == distractor_pid for i in infos),
        frames=int(lens.sum()) if len(lens) else 0,
        # Unknown cameras are unique negative ids: count them as one.
        cameras=len({c
                     for c in cams if c >= 0}) + any(c < 0 for c in cams),
        len_min=int(lens.min()) if len(lens) else 0,
        len_mean=float(lens.mean()) if len(lens) else 0.0,
        len_max=int(lens.max()) if len(lens) else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description='Dataset statistics')
    parser.add_argument('config', help='config with train/test dataloaders')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override settings, e.g. train_dataloader.dataset.data_root=x')
    args = parser.parse_args()
    # The package is imported after parsing: --help answers at once.
    from mmengine.registry import init_default_scope

    from mmreid_video.registry import DATASETS
    from mmreid_video.utils import (finish_tool_args, load_config,
                                    report_errors_briefly)
    report_errors_briefly()
    args = finish_tool_args(parser, args)
    cfg = load_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmreid_video'))
    rows = []
    for loader in ('train_dataloader', 'test_dataloader'):
        ds_cfg = cfg[loader].dataset.copy()
        ds_cfg.pipeline = []  # statistics need metadata only
        ds = DATASETS.build(ds_cfg)
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        name = ds.metainfo['split']
        # Train pids are relabelled: only test pids can mark distractors.
        dpid = ds.metainfo.get('distractor_pid') if name == 'test' else None
        rows.append((name, split_stats(infos, dpid)))
        if name == 'test':
            rows.append(
                ('query', split_stats([i for i in infos if i['is_query']],
                                      dpid)))
            rows.append(('gallery',
                         split_stats([i for i in infos if i['is_gallery']],
                                     dpid)))
    print(f'{ds.metainfo.get("dataset_name", "")} ({args.config})')
    head = ('split', 'ids', 'tracklets', 'distractors', 'frames', 'cameras',
            'len min', 'len mean', 'len max')
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    for name, s in rows:
        print(f'| {name} | {s["ids"]:,} | {s["tracklets"]:,} | '
              f'{s["distractors"]:,} | {s["frames"]:,} | {s["cameras"]} | '
              f'{s["len_min"]} | {s["len_mean"]:.1f} | {s["len_max"]} |')


if __name__ == '__main__':
    main()

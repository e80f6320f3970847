# Copyright (c) mmreid_video contributors. All rights reserved.
"""Train and test every split of a split-based dataset (iLIDS-VID,
PRID-2011) and report the per-split and mean +- std CMC.

Each split runs ``tools/train.py CONFIG --work-dir WORK_DIR/split_<i>
--cfg-options <dataloaders>.dataset.split_id=<i>`` and then
``tools/test.py`` on the split's last checkpoint; the Rank-k values are read
from the test run's MMEngine json log (``<work_dir>/<timestamp>/
<timestamp>.json``, keys ``<prefix>/R1`` ...). Splits whose log already has
the results are not rerun (``--force`` reruns them, replacing their
checkpoints: ``train.py --overwrite``); a split whose training
was interrupted continues from its last checkpoint (``train.py --resume``).

Example:
    python tools/multi_split.py configs/baseline/baseline_r50_ilidsvid.py \\
        --work-dir work_dirs/baseline_ilidsvid_splits
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional

import numpy as np

from mmreid_video.checkpoint import find_resume_checkpoint

RANKS = ('R1', 'R5', 'R10', 'R20')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train + test each split of a split-based dataset')
    parser.add_argument(
        'config', help='a config whose dataset takes split_id (iLIDS-VID, '
        'PRID-2011)')
    parser.add_argument(
        '--work-dir',
        default=None,
        help='default: work_dirs/<config name>_splits')
    parser.add_argument(
        '--splits',
        type=int,
        nargs='+',
        default=list(range(10)),
        help='split ids to run (default: 0..9, the ten splits of both)')
    parser.add_argument(
        '--metric-prefix', default='reid', help='prefix of the metric keys')
    parser.add_argument(
        '--force', action='store_true', help='rerun finished splits')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides passed to train.py and test.py')
    return parser.parse_args()


def read_test_metrics(work_dir: str, prefix: str) -> Optional[Dict]:
    """Rank-k (and mAP) of the newest test json log under ``work_dir``.

    ``Runner.test`` dumps one json object per run to
    ``<work_dir>/<timestamp>/<timestamp>.json``; training logs live under
    ``vis_data/`` and are not read.

    Returns:
        dict | None: ``{'R1': ..., ...}`` or None if no test log exists.
    """
    logs = sorted(
        glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(logs):
        with open(path) as f:
            try:
                record = json.load(f)
            except json.JSONDecodeError:
                continue
        if isinstance(record, dict) and f'{prefix}/R1' in record:
            keys = RANKS + ('mAP', )
            return {
                k: float(record[f'{prefix}/{k}'])
                for k in keys if f'{prefix}/{k}' in record
            }
    return None


def run(cmd: List[str]) -> None:
    print('+ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def summarize(results: Dict[int, Dict]) -> str:
    """A table of each split and the mean +- std over splits."""
    keys = [
        k for k in RANKS + ('mAP', ) if all(k in r for r in results.values())
    ]
    lines = [
        '| split | ' + ' | '.join(keys) + ' |', '|' + '---|' * (len(keys) + 1)
    ]
    for i, r in sorted(results.items()):
        lines.append(f'| {i} | ' + ' | '.join(f'{r[k]:.2f}'
                                              for k in keys) + ' |')
    vals = {k: np.array([r[k] for r in results.values()]) for k in keys}
    lines.append('| mean +- std | ' +
                 ' | '.join(f'{v.mean():.2f} +- {v.std():.2f}'
                            for v in vals.values()) + ' |')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    tools = osp.dirname(osp.abspath(__file__))
    name = osp.splitext(osp.basename(args.config))[0]
    root = args.work_dir or osp.join('work_dirs', f'{name}_splits')
    results = {}
    for i in args.splits:
        work_dir = osp.join(root, f'split_{i}')
        metrics = None if args.force else read_test_metrics(
            work_dir, args.metric_prefix)
        if metrics is None:
            opts = [f'{loader}.dataset.split_id={i}' for loader in LOADERS]
            opts += args.cfg_options
            # An interrupted run continues from its last checkpoint; a split
            # without one starts afresh (train.py refuses an empty --resume);
            # --force replaces a split's run (train.py refuses to otherwise).
            resumable = not args.force and find_resume_checkpoint(work_dir)
            resume = ['--resume'] if resumable else (
                ['--overwrite'] if args.force else [])
            run([
                sys.executable,
                osp.join(tools, 'train.py'), args.config, '--work-dir',
                work_dir, *resume, '--cfg-options', *opts
            ])
            ckpt = find_resume_checkpoint(work_dir)
            if ckpt is None:
                raise FileNotFoundError(f'{work_dir}: training of split {i} '
                                        'saved no checkpoint')
            run([
                sys.executable,
                osp.join(tools, 'test.py'), args.config, ckpt, '--work-dir',
                work_dir, '--cfg-options', *opts
            ])
            metrics = read_test_metrics(work_dir, args.metric_prefix)
            if metrics is None:
                raise RuntimeError(f'no "{args.metric_prefix}/R1" in the '
                                   f'test json logs under {work_dir}')
        results[i] = metrics
        print(
            f'split {i}: ' + ', '.join(f'{k} {v:.2f}'
                                       for k, v in metrics.items()),
            flush=True)
    table = summarize(results)
    print(table)
    os.makedirs(root, exist_ok=True)
    summary = osp.join(root, 'summary.md')
    with open(summary + '.tmp', 'w') as f:
        f.write(table + '\n')
    os.replace(summary + '.tmp', summary)  # an old summary is never lost


if __name__ == '__main__':
    main()

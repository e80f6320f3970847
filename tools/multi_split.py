# Copyright (c) mmreid_video contributors. All rights reserved.
"""Train and test every split of a split-based dataset (iLIDS-VID,
PRID-2011) and report the per-split and mean ± std CMC (in %).

Each split runs ``tools/train.py CONFIG --work-dir WORK_DIR/split_<i>
--cfg-options <dataloaders>.dataset.split_id=<i>`` and then
``tools/test.py`` on the split's last checkpoint; the Rank-k values are read
from the test run's MMEngine json log (``<work_dir>/<timestamp>/
<timestamp>.json``, keys ``<prefix>/R1`` ...) and stored in
``split_<i>/test_result.json`` with the fingerprints of the evaluation
protocol, the test data, the model config and the checkpoint.

A rerun reuses a split's result ("cached from ...") only when all four are
unchanged; other test settings (e.g. ``--cfg-options
test_evaluator.ap_mode=trapezoid``) re-test the split's checkpoint without
retraining (``--retest`` re-tests every split anyway). A tested split is
never retrained (``--force`` retrains from scratch, replacing the split's
checkpoints: ``train.py --overwrite``; other training settings
than it was trained with are named in a warning); a split whose training
was interrupted continues from its last checkpoint (``train.py --resume``).
``summary.md`` names the protocol.

Example:
    python tools/multi_split.py configs/baseline/baseline_r50_ilidsvid.py \\
        --work-dir work_dirs/baseline_ilidsvid_splits
"""
import argparse
import os.path as osp
import subprocess
import sys
from typing import Dict, List

import numpy as np

RECORD_FILE = 'test_result.json'
TRAIN_SETTINGS_FILE = 'train_settings.json'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train + test each split of a split-based dataset')
    parser.add_argument(
        'config',
        help='a config whose dataset takes split_id (iLIDS-VID, '
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
        '--force',
        action='store_true',
        help='retrain and retest finished splits from scratch')
    parser.add_argument(
        '--retest',
        action='store_true',
        help="test every split's checkpoint again, even under unchanged "
        'settings (no retraining)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides passed to train.py and test.py')
    return parser.parse_args()


def run(cmd: List[str]) -> None:
    print('+ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def summarize(results: Dict[int, dict]) -> str:
    """``summary.md``: the protocol, each split and the mean ± sample std.

    Args:
        results (dict[int, dict]): Split id -> its result record
            (``metrics`` in %, ``protocol_text``).

    Returns:
        str: Markdown text.
    """
    from mmreid_video.evaluation.result_records import RESULT_KEYS
    keys = [
        k for k in RESULT_KEYS
        if all(k in r['metrics'] for r in results.values())
    ]
    protocols = dict.fromkeys(r['protocol_text'] for r in results.values())
    lines = [
        'Protocol: ' + ' | '.join(protocols), '',
        f'Values in %; mean ± std over the {len(results)} splits: the mean '
        'and the sample standard deviation (ddof=1).', '',
        '| split | ' + ' | '.join(keys) + ' |', '|' + '---|' * (len(keys) + 1)
    ]
    for i, r in sorted(results.items()):
        lines.append(f'| {i} | ' + ' | '.join(f'{r["metrics"][k]:.2f}'
                                              for k in keys) + ' |')
    cells = []
    for k in keys:
        values = np.array([r['metrics'][k] for r in results.values()])
        std = f'{values.std(ddof=1):.2f}' if len(values) > 1 else 'n/a'
        cells.append(f'{values.mean():.2f} ± {std}')
    lines.append('| mean ± std | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def run_split(i: int, args: argparse.Namespace, root: str) -> dict:
    """Train split ``i`` unless it was tested, then reuse or make its test
    result; returns the result record."""
    from mmreid_video.checkpoint import find_resume_checkpoint
    from mmreid_video.evaluation.result_records import (
        evaluation_fingerprints, read_test_log, reusable_result,
        training_changes, write_result_record, write_training_settings)
    from mmreid_video.utils import load_config, parse_cfg_options
    tools = osp.dirname(osp.abspath(__file__))
    work_dir = osp.join(root, f'split_{i}')
    record_file = osp.join(work_dir, RECORD_FILE)
    opts = [f'{loader}.dataset.split_id={i}' for loader in LOADERS]
    opts += args.cfg_options
    tested = osp.isfile(record_file) or read_test_log(
        work_dir, args.metric_prefix) is not None
    cfg = load_config(args.config)
    cfg.merge_from_dict(parse_cfg_options(opts))
    settings_file = osp.join(work_dir, TRAIN_SETTINGS_FILE)
    trained = args.force or not tested
    if trained:
        # An interrupted run continues from its last checkpoint; a split
        # without one starts afresh (train.py refuses an empty --resume);
        # --force replaces a split's run (train.py refuses to otherwise).
        resumable = not args.force and find_resume_checkpoint(work_dir)
        resume = ['--resume'
                  ] if resumable else (['--overwrite'] if args.force else [])
        run([
            sys.executable,
            osp.join(tools, 'train.py'), args.config, '--work-dir', work_dir,
            *resume, '--cfg-options', *opts
        ])
        write_training_settings(settings_file, cfg)
    else:
        changes = training_changes(settings_file, cfg)
        if changes:
            print(
                f'split {i}: WARNING: its checkpoint was trained with other '
                'settings than these (' + '; '.join(changes[:5]) +
                (f'; {len(changes) - 5} more' if len(changes) > 5 else '') +
                '); it is reused as it is (--force retrains)',
                flush=True)
    ckpt = find_resume_checkpoint(work_dir)
    fingerprints = evaluation_fingerprints(cfg, ckpt)
    if trained or args.retest:
        record, why = None, 'newly trained' if trained else '--retest'
    else:
        record, why = reusable_result(record_file, fingerprints)
    if record is not None:
        print(f'split {i}: cached from {record_file}', flush=True)
        return record
    if ckpt is None:
        raise FileNotFoundError(
            f'{work_dir}: split {i} has no checkpoint to test ({why}); '
            'rerun it with --force to train it again')
    print(f'split {i}: testing {ckpt} ({why})', flush=True)
    run([
        sys.executable,
        osp.join(tools, 'test.py'), args.config, ckpt, '--work-dir', work_dir,
        '--cfg-options', *opts
    ])
    test_log = read_test_log(work_dir, args.metric_prefix)
    if test_log is None:
        raise RuntimeError(f'no "{args.metric_prefix}/R1" in the test json '
                           f'logs under {work_dir}')
    return write_result_record(record_file, cfg, fingerprints, ckpt, test_log)


def main() -> None:
    args = parse_args()
    # Imported after parsing: --help answers at once.
    from mmreid_video.fileio import atomic_write
    name = osp.splitext(osp.basename(args.config))[0]
    root = args.work_dir or osp.join('work_dirs', f'{name}_splits')
    results = {}
    for i in args.splits:
        results[i] = run_split(i, args, root)
        print(
            f'split {i} (%): ' +
            ', '.join(f'{k} {v:.2f}'
                      for k, v in results[i]['metrics'].items()),
            flush=True)
    summary = summarize(results)
    print(summary)
    # Written whole, then renamed: an old summary is never lost.
    atomic_write((summary + '\n').encode(), osp.join(root, 'summary.md'))


if __name__ == '__main__':
    main()

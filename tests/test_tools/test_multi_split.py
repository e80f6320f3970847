# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/multi_split.py: its log reader and summary, and a 2-split run on
PRID-2011 fixtures with a tiny model."""
import json
import sys

import pytest
from tool_runner import DEMO_CONFIG, load_tool, run_tool, tiny_cfg_options

tool = load_tool('tools/multi_split.py')


def test_reads_test_logs_and_summarizes(tmp_path):
    assert tool.read_test_metrics(str(tmp_path), 'reid') is None
    # Runner.test dumps <work_dir>/<ts>/<ts>.json; val logs go to vis_data.
    (tmp_path / '20260101_000000/vis_data').mkdir(parents=True)
    (tmp_path / '20260101_000000/vis_data/scalars.json'
     ).write_text(json.dumps({'reid/R1': 1.0}) + '\n')
    record = {
        f'reid/{k}': v
        for k, v in dict(mAP=70.0, R1=80.0, R5=90.0, R10=95.0,
                         R20=99.0).items()
    }
    (tmp_path /
     '20260101_000000/20260101_000000.json').write_text(json.dumps(record))
    got = tool.read_test_metrics(str(tmp_path), 'reid')
    assert got == dict(R1=80.0, R5=90.0, R10=95.0, R20=99.0, mAP=70.0)
    table = tool.summarize({0: got, 1: {k: v + 2 for k, v in got.items()}})
    assert '| 1 | 82.00 | 92.00 | 97.00 | 101.00 | 72.00 |' in table
    assert '| mean +- std | 81.00 +- 1.00 |' in table


@pytest.mark.slow
def test_two_prid_splits_then_resume(tmp_path, prid_root):
    """Split 0, then splits 0 and 1: the finished split is not rerun."""
    opts = tiny_cfg_options(str(prid_root), max_epochs=1) + [
        'model.head.num_classes=4'
    ] + [
        f'{loader}.dataset.type=PRID2011'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ]
    work = tmp_path / 'splits'

    def run(*splits):
        return run_tool([
            sys.executable, 'tools/multi_split.py', DEMO_CONFIG,
            '--work-dir',
            str(work), '--splits', *splits, '--cfg-options', *opts
        ]).stdout

    first = run('0')
    assert first.count('tools/train.py') == 1
    assert 'dataset.split_id=0' in first
    second = run('0', '1')
    # Only split 1 trains and tests; split 0 is read from its test log.
    assert second.count('tools/train.py') == 1
    assert second.count('tools/test.py') == 1
    assert 'dataset.split_id=1' in second and 'split_id=0' not in second
    results = {
        i: tool.read_test_metrics(str(work / f'split_{i}'), 'reid')
        for i in (0, 1)
    }
    for metrics in results.values():
        assert set(metrics) == {'R1', 'R5', 'R10', 'R20', 'mAP'}
        # 4 test persons: R5 and beyond cover the whole gallery.
        assert 0 <= metrics['R1'] <= 100 and metrics['R5'] == 100.0
    summary = (work / 'summary.md').read_text()
    assert summary == tool.summarize(results) + '\n'
    assert summary.splitlines()[-1].startswith('| mean +- std | ')

# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/multi_split.py: its summary, and 2-split runs on PRID-2011
fixtures with a tiny model, re-run under another protocol."""
import argparse
import json
import os
import os.path as osp
import sys

import pytest
from tool_runner import (DEMO_CONFIG, load_tool, python_cmd, tiny_cfg_options,
                         tool_env)

tool = load_tool('tools/multi_split.py')


def _record(metrics, protocol='cosine distance, values in %'):
    return dict(metrics=metrics, protocol_text=protocol)


def test_summary_names_protocol_and_sample_std():
    got = dict(R1=80.0, R5=90.0, R10=95.0, R20=99.0, mAP=70.0)
    table = tool.summarize({
        0: _record(got),
        1: _record({k: v + 2
                    for k, v in got.items()}),
        2: _record({k: v + 4
                    for k, v in got.items()})
    })
    assert table.startswith('Protocol: cosine distance, values in %\n')
    assert 'sample standard deviation (ddof=1)' in table
    assert '| 1 | 82.00 | 92.00 | 97.00 | 101.00 | 72.00 |' in table
    # 80, 82, 84: sample std 2 (the population std would be 1.63).
    assert '| mean ± std | 82.00 ± 2.00 |' in table
    one = tool.summarize({3: _record(got)})
    assert '| mean ± std | 80.00 ± n/a |' in one


@pytest.mark.slow
def test_prid_split_rerun_under_another_protocol(tmp_path, prid_root,
                                                 monkeypatch, capfd):
    """Split 0; then again under the trapezoid AP: re-tested from its
    checkpoint, not retrained, with the new numbers; then cached. The tool
    runs in this process, its train.py and test.py in subprocesses (through
    the tests' fork server)."""
    opts = tiny_cfg_options(
        str(prid_root), max_epochs=1) + ['model.head.num_classes=4'] + [
            f'{loader}.dataset.type=PRID2011'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')
        ]
    work = tmp_path / 'splits'
    record_file = work / 'split_0/test_result.json'

    for name, value in tool_env().items():
        monkeypatch.setenv(name, value)
    # train.py and test.py through the tests' fork server, as run_tool does.
    run_tool = tool.run
    monkeypatch.setattr(tool, 'run',
                        lambda cmd: run_tool(python_cmd() + cmd[1:]))

    def run():
        monkeypatch.setattr(sys, 'argv', [
            'multi_split.py', DEMO_CONFIG, '--work-dir',
            str(work), '--splits', '0', '--cfg-options', *opts
        ])
        tool.main()
        return capfd.readouterr().out

    first = run()
    assert first.count('tools/train.py') == 1
    assert 'dataset.split_id=0' in first
    standard = json.loads(record_file.read_text())
    assert 'standard AP' in standard['protocol_text']

    opts.append('test_evaluator.ap_mode=trapezoid')
    second = run()
    assert 'tools/train.py' not in second
    assert second.count('tools/test.py') == 1
    assert 'split 0: testing' in second and (
        'the evaluation protocol (test_evaluator) changed') in second
    retested = json.loads(record_file.read_text())
    assert retested['test_log'] != standard['test_log']
    assert 'trapezoid AP' in retested['protocol_text']
    assert retested['fingerprints']['checkpoint'] == standard['fingerprints'][
        'checkpoint']
    # The trapezoid AP never exceeds the standard AP (equal only when every
    # positive is ranked first); R1 is the same.
    assert retested['metrics']['mAP'] <= standard['metrics']['mAP']
    assert retested['metrics']['R1'] == standard['metrics']['R1']
    # 4 test persons: R5 and beyond cover the whole gallery.
    assert retested['metrics']['R5'] == 100.0

    third = run()
    assert 'tools/' not in third
    assert f'split 0: cached from {record_file}' in third
    summary = (work / 'summary.md').read_text()
    assert summary == tool.summarize({0: retested}) + '\n'
    assert summary.startswith('Protocol: cosine distance, trapezoid AP, ')


def _fake_tools(monkeypatch, protocol='standard AP'):
    """tool.run stands in for train.py (writes a checkpoint) and test.py
    (writes a test json log); returns the list of tools run."""
    calls = []

    def fake_run(cmd):
        work_dir = cmd[cmd.index('--work-dir') + 1]
        name = osp.basename(cmd[1])
        calls.append(name)
        os.makedirs(work_dir, exist_ok=True)
        if name == 'train.py':
            with open(osp.join(work_dir, 'epoch_1.pth'), 'wb') as f:
                f.write(os.urandom(8))
            return
        stamp = f'2026010{len(calls)}_000000'
        os.makedirs(osp.join(work_dir, stamp))
        log = dict(
            {
                f'reid/{k}': 10.0 * len(calls)
                for k in ('R1', 'R5', 'R10', 'R20', 'mAP')
            }, **{'reid/protocol': protocol})
        with open(osp.join(work_dir, stamp, f'{stamp}.json'), 'w') as f:
            json.dump(log, f)

    monkeypatch.setattr(tool, 'run', fake_run)
    return calls


def _args(**kwargs):
    args = dict(
        config=DEMO_CONFIG,
        metric_prefix='reid',
        force=False,
        retest=False,
        cfg_options=[])
    return argparse.Namespace(**dict(args, **kwargs))


def test_reuse_rules(tmp_path, monkeypatch, capsys):
    """When a split trains, tests, or reuses its record."""
    calls = _fake_tools(monkeypatch)
    root = str(tmp_path)
    record = tool.run_split(0, _args(), root)
    assert calls == ['train.py', 'test.py']
    assert tool.run_split(0, _args(), root) == record and len(calls) == 2
    # --retest: test again, no training; --force: both.
    tool.run_split(0, _args(retest=True), root)
    assert calls[2:] == ['test.py']
    tool.run_split(0, _args(force=True), root)
    assert calls[3:] == ['train.py', 'test.py']
    # A new checkpoint (e.g. trained further by hand) is re-tested.
    with open(tmp_path / 'split_0/epoch_1.pth', 'ab') as f:
        f.write(b'more')
    tool.run_split(0, _args(), root)
    assert calls[5:] == ['test.py']
    # Settings that change no number (where the dump goes) keep the record.
    tool.run_split(0, _args(cfg_options=['test_evaluator.device=cpu']), root)
    assert len(calls) == 6
    # Other training settings: the checkpoint is reused, with a warning
    # naming them (loader speed settings do not count).
    capsys.readouterr()
    tool.run_split(0, _args(cfg_options=['train_dataloader.num_workers=0']),
                   root)
    assert 'WARNING' not in capsys.readouterr().out
    tool.run_split(0, _args(cfg_options=['train_cfg.max_epochs=99']), root)
    assert len(calls) == 6
    assert (
        'split 0: WARNING: its checkpoint was trained with other '
        "settings than these (train_cfg.max_epochs: 30 then, 99 now); "
        'it is reused as it is (--force retrains)') in capsys.readouterr().out
    # A split tested before results were recorded: re-tested, not retrained.
    os.remove(tmp_path / 'split_0/test_result.json')
    tool.run_split(0, _args(), root)
    assert calls[6:] == ['test.py']
    # Without its checkpoint, a record of the same settings is still used;
    # other settings cannot be tested and say why.
    os.remove(tmp_path / 'split_0/epoch_1.pth')
    tool.run_split(0, _args(), root)
    with pytest.raises(
            FileNotFoundError,
            match='split 0 has no checkpoint '
            r'to test \(the evaluation protocol'):
        tool.run_split(0, _args(cfg_options=['test_evaluator.rerank=True']),
                       root)

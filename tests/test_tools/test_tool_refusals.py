# Copyright (c) mmreid_video contributors. All rights reserved.
"""Tools refuse, before any work, what would lose results or data.

A second training on a held work_dir runs as a real process (its exit code
and nothing written); the other refusals happen before a Runner exists and
run the tool's ``main`` in this process."""
import os
import re
import sys

import pytest
from fixture_trees import make_lsvid_tree
from tool_runner import (DEMO_CONFIG, run_tool_fails, run_tool_main,
                         start_lock_holder)


@pytest.mark.slow
def test_second_training_on_a_work_dir_is_refused(tmp_path):
    holder = start_lock_holder(tmp_path)
    try:
        err = run_tool_fails([
            sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
            str(tmp_path)
        ])
    finally:
        holder.kill()
        holder.wait()
    assert f'work_dir {tmp_path} is in use by another training' in err
    assert f'pid: {holder.pid}' in err
    # Nothing of the second run was written.
    assert sorted(os.listdir(tmp_path)) == ['.train.lock']


def test_resume_with_nothing_to_resume(tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match=re.escape(
                f'--resume: the work_dir {tmp_path}/typo does not exist')):
        run_tool_main('tools/train.py', DEMO_CONFIG, '--work-dir',
                      str(tmp_path / 'typo'), '--resume')
    assert not os.path.exists(tmp_path / 'typo')
    nothing = re.escape(f'--resume: nothing to resume in {tmp_path}')
    with pytest.raises(FileNotFoundError, match=nothing):
        run_tool_main('tools/train.py', DEMO_CONFIG, '--work-dir',
                      str(tmp_path), '--resume')
    # `resume=True` in the config, as MMEngine reads it: same refusal.
    with pytest.raises(FileNotFoundError, match=nothing):
        run_tool_main('tools/train.py', DEMO_CONFIG, '--work-dir',
                      str(tmp_path), '--cfg-options', 'resume=True')
    assert os.listdir(tmp_path) == []


def test_unwritable_out_fails_before_extraction(tmp_path):
    (tmp_path / 'file').write_text('x')
    out = tmp_path / 'file' / 'results.pkl'
    with pytest.raises(
            PermissionError,
            match=re.escape(f'--out {out}: cannot write into') +
            '.*nothing was computed yet'):
        run_tool_main('tools/test.py', DEMO_CONFIG, 'missing.pth', '--out',
                      str(out), '--work-dir', str(tmp_path / 'w'))
    assert not os.path.exists(tmp_path / 'w')  # stopped before the Runner


@pytest.mark.slow
def test_dataset_layout_error_is_its_message_alone(tmp_path):
    """A data_root one level off: the tool prints the "did you mean"
    message, no traceback above it, and exits with status 1 (every tool
    that builds a dataset calls utils.report_errors_briefly)."""
    inner = tmp_path / 'LS-VID'
    inner.mkdir()
    make_lsvid_tree(inner)
    err = run_tool_fails([
        sys.executable, 'tools/analysis_tools/dataset_stats.py',
        'configs/_base_/datasets/lsvid.py', '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path}',
        f'test_dataloader.dataset.data_root={tmp_path}'
    ],
                         exit_code=1)
    assert err.startswith('DatasetLayoutError: LSVID: "'), err
    assert f'Did you mean data_root="{inner}"?' in err
    assert 'Traceback' not in err

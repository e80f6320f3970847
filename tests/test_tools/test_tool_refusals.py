# Copyright (c) mmreid_video contributors. All rights reserved.
"""Tools refuse, before any work, what would lose results or data."""
import os
import subprocess
import sys

from fixture_trees import make_lsvid_tree
from tool_runner import DEMO_CONFIG, REPO


def _fails(args, **kwargs):
    proc = subprocess.run(
        args,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        **kwargs)
    assert proc.returncode != 0, proc.stdout[-3000:]
    return proc.stderr


def test_second_training_on_a_work_dir_is_refused(tmp_path):
    hold = ('import sys, time; from mmreid_video.utils import lock_work_dir; '
            'lock_work_dir(sys.argv[1]); print("locked", flush=True); '
            'time.sleep(300)')
    holder = subprocess.Popen(
        [sys.executable, '-c', hold, str(tmp_path)],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO),
        stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        err = _fails([
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
    err = _fails([
        sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(tmp_path / 'typo'), '--resume'
    ])
    assert f'--resume: the work_dir {tmp_path}/typo does not exist' in err
    assert not os.path.exists(tmp_path / 'typo')
    err = _fails([
        sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(tmp_path), '--resume'
    ])
    assert f'--resume: nothing to resume in {tmp_path}' in err
    # `resume=True` in the config, as MMEngine reads it: same refusal.
    err = _fails([
        sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', 'resume=True'
    ])
    assert f'--resume: nothing to resume in {tmp_path}' in err


def test_unwritable_out_fails_before_extraction(tmp_path):
    (tmp_path / 'file').write_text('x')
    out = tmp_path / 'file' / 'results.pkl'
    err = _fails([
        sys.executable, 'tools/test.py', DEMO_CONFIG, 'missing.pth', '--out',
        str(out), '--work-dir',
        str(tmp_path / 'w')
    ])
    assert f'PermissionError: --out {out}: cannot write into' in err
    assert 'nothing was computed yet' in err
    assert not os.path.exists(tmp_path / 'w')  # stopped before the Runner


def test_dataset_layout_error_is_its_message_alone(tmp_path):
    """A data_root one level off: the tool prints the "did you mean"
    message, no traceback above it, and exits with status 1 (every tool
    that builds a dataset calls utils.report_errors_briefly)."""
    inner = tmp_path / 'LS-VID'
    inner.mkdir()
    make_lsvid_tree(inner)
    proc = subprocess.run([
        sys.executable, 'tools/analysis_tools/dataset_stats.py',
        'configs/_base_/datasets/lsvid.py', '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path}',
        f'test_dataloader.dataset.data_root={tmp_path}'
    ],
                          cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=REPO),
                          capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith('DatasetLayoutError: LSVID: "'), proc.stderr
    assert f'Did you mean data_root="{inner}"?' in proc.stderr
    assert 'Traceback' not in proc.stderr

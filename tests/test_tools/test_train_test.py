# Copyright (c) mmreid_video contributors. All rights reserved.
"""End-to-end runs of tools/train.py, tools/test.py and tools/dist_train.sh.

The session's one tiny training (``tiny_trained_run`` of tests/conftest.py)
is tested, resumed and refused here; only what needs another training (a
killed run, AMP, two processes) trains again."""
import glob
import json
import os
import os.path as osp
import pickle
import signal
import subprocess
import sys
import time

import pytest
import torch
from tool_runner import (DEMO_CONFIG, REPO, run_tool, run_tool_fails,
                         start_tool, tiny_cfg_options, train_cmd)

pytestmark = pytest.mark.slow


def _val_metrics(work_dir) -> dict:
    logs = glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json'))
    assert logs, f'no scalars.json under {work_dir}'
    with open(logs[0]) as f:
        records = [json.loads(line) for line in f]
    return [r for r in records if 'reid/mAP' in r][-1]


def test_train_then_test_with_dump(tmp_path, tiny_trained_run):
    run = tiny_trained_run
    assert osp.isfile(run.checkpoint)
    assert glob.glob(osp.join(run.work_dir, '*', 'vis_data', 'events.out.*'))
    for noise in ('requires_grad=True to a scalar',
                  '"FileClient" will be deprecated'):
        assert noise not in run.log
    metrics = _val_metrics(run.work_dir)
    for key in ('reid/mAP', 'reid/R1', 'reid/R5', 'reid/R10', 'reid/R20',
                'reid/mINP'):
        assert 0 <= metrics[key] <= 100
    out = tmp_path / 'results.pkl'
    proc = run_tool([
        sys.executable, 'tools/test.py', DEMO_CONFIG, run.checkpoint,
        '--work-dir',
        str(tmp_path / 'test'), '--out',
        str(out), '--cfg-options', *tiny_cfg_options(run.data_root)
    ])
    assert 'reid/mAP' in proc.stdout + proc.stderr
    with open(out, 'rb') as f:
        dump = pickle.load(f)
    assert len(dump['query_indices']) > 0 and len(dump['gallery_indices'])

    # A checkpoint of another model (here: 8 vs 9 ids) is refused.
    err = run_tool_fails([
        sys.executable, 'tools/test.py', DEMO_CONFIG, run.checkpoint,
        '--work-dir',
        str(tmp_path / 'test2'), '--cfg-options',
        *tiny_cfg_options(run.data_root), 'model.head.num_classes=9'
    ])
    assert (f'Checkpoint {run.checkpoint} does not fit the model VideoReID'
            in err)
    assert 'head.classifier.weight: checkpoint (8, 64) vs model (9, 64)' \
        in err
    # ... and names the config copy its training (with num_classes=8 from
    # --cfg-options) wrote into the work_dir.
    copy = osp.join(run.work_dir, 'baseline_r18_demo.py')
    assert f'It was trained with the config copy {copy} ' in err
    assert f'`python tools/test.py {copy} {run.checkpoint}`' in err
    # A best checkpoint holds weights only: resuming from it is refused.
    best = glob.glob(osp.join(run.work_dir, 'best_*.pth'))[0]
    err = run_tool_fails(
        run.train_cmd(tmp_path / 'from_best', '--resume', best))
    assert f'Cannot resume from {best}: it lacks the optimizer state' in err


def _wait_for(path, proc, timeout=300):
    start = time.time()
    while not osp.exists(path):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() - start < timeout, f'{path} never appeared'
        time.sleep(0.05)


def test_resume_after_kill_is_bitwise_exact(tmp_path, tiny_trained_run):
    """The same training killed after its first epoch and resumed ends
    with the weights of the session's uninterrupted run."""
    killed = tmp_path / 'killed'
    proc = start_tool(tiny_trained_run.train_cmd(killed))
    # last_checkpoint is written after epoch_1.pth is complete.
    _wait_for(killed / 'last_checkpoint', proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    last = f'epoch_{tiny_trained_run.max_epochs}.pth'
    assert not osp.exists(killed / last), 'killed too late'

    run_tool(tiny_trained_run.train_cmd(killed, '--resume'))
    expected = torch.load(tiny_trained_run.checkpoint, map_location='cpu')
    resumed = torch.load(killed / last, map_location='cpu')
    assert expected['meta']['iter'] == resumed['meta']['iter']
    for key, value in expected['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
    # The resumed run ends with a best checkpoint.
    assert glob.glob(str(killed / 'best_reid_mAP_epoch_*.pth'))


def test_cpu_amp_trains_with_bf16_wrapper(tmp_path, tiny_mars_root):
    if torch.cuda.is_available():
        pytest.skip('--amp uses the GPU AmpOptimWrapper when CUDA is present')
    # Last stride 1: torch 2.14's CPU bfloat16 3x3 stride-2 convolution to
    # a one-pixel-wide output reads uninitialised memory (NaN in ~3 % of
    # runs; docs/train_test.md, mixed precision).
    proc = run_tool(
        train_cmd(tmp_path, tiny_mars_root, '--amp', max_epochs=1) +
        ['model.backbone.strides=(1,2,2,1)'])
    assert 'CPUAmpOptimWrapper' in proc.stdout + proc.stderr
    assert osp.isfile(tmp_path / 'epoch_1.pth')


def test_dist_train_two_cpu_processes(tmp_path, tiny_mars_root, free_port):
    env_port = str(free_port)
    proc = subprocess.run(
        [
            'bash', 'tools/dist_train.sh', DEMO_CONFIG, '2', '--work-dir',
            str(tmp_path), '--cfg-options',
            *tiny_cfg_options(tiny_mars_root, 1)
        ],
        cwd=REPO,
        # PYTHON: the interpreter running the tests, also from a venv that
        # is not activated (no `python` of it on PATH).
        env=dict(
            os.environ,
            PORT=env_port,
            OMP_NUM_THREADS='1',
            PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    # On CPU the tools initialise gloo and use the wrapper without devices.
    assert 'ReIDDistributedDataParallel' in log
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    assert 0 <= _val_metrics(tmp_path)['reid/mAP'] <= 100

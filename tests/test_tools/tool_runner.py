# Copyright (c) mmreid_video contributors. All rights reserved.
"""Helpers to run the repository tools on a tiny MARS-layout dataset and
to import a tool script as a module.

A tool runs in its own process (:func:`run_tool`, :func:`run_tool_fails`,
:func:`start_tool`) where the test needs one: a training, a test, an exit
code. :func:`run_tool` and :func:`run_tool_fails` start it through the
session's fork server (:func:`python_cmd`, ``tool_forkserver``), which
saves the import of torch & co. per run; :func:`start_tool` (killed
mid-run, its pid read) starts a fresh interpreter. A refusal that happens
before any Runner is built runs the tool's ``main`` in the test's process
instead (:func:`run_tool_main`).
"""
import atexit
import contextlib
import importlib.util
import io
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
from types import ModuleType
from typing import List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'demo', 'baseline_r18_demo.py')
# The TensorBoard line of docs/train_test.md.
TENSORBOARD = ("visualizer.vis_backends=[dict(type='LocalVisBackend'),"
               "dict(type='TensorboardVisBackend')]")


def tiny_cfg_options(data_root: str, max_epochs: int = 2) -> List[str]:
    """``--cfg-options`` that shrink the demo config to seconds per epoch."""
    opts = [
        'model.backbone.stem_channels=8',
        'model.backbone.base_channels=8',
        'model.head.in_channels=64',
        'model.head.num_classes=8',
        'train_dataloader.batch_size=8',
        'train_dataloader.sampler.num_ids=4',
        'train_dataloader.sampler.num_instances=2',
        f'train_cfg.max_epochs={max_epochs}',
        # max_epochs must be the sum of the lr schedule's stages.
        f'param_scheduler.stages.stage1.epochs={max_epochs}',
        f'train_cfg.val_interval={max_epochs}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.logger.interval=1',
        'randomness.deterministic=True'
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.dataset.type=MARS',
            f'{loader}.dataset.data_root={data_root}',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    return opts


def train_cmd(work_dir,
              data_root: str,
              *extra: str,
              max_epochs: int = 2) -> List[str]:
    """``tools/train.py`` on the demo config shrunk by
    :func:`tiny_cfg_options`; ``extra`` goes before ``--cfg-options``."""
    return [
        sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(work_dir), *extra, '--cfg-options',
        *tiny_cfg_options(data_root, max_epochs)
    ]


def tool_env() -> dict:
    """The environment of a tool subprocess: this checkout, one thread,
    matplotlib's headless backend.

    MKL's threads are pinned too: MMEngine's Runner sets MKL_NUM_THREADS in
    this process's environment (when a test builds one), and a tool run
    should not depend on which tests ran before it. The backend is set, not
    guessed, so that the fork server's preloaded matplotlib is the one every
    run would import."""
    return dict(
        os.environ,
        PYTHONPATH=REPO,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        MPLBACKEND='Agg')


FORKSERVER = osp.join(osp.dirname(osp.abspath(__file__)), 'tool_forkserver.py')
_forkserver: dict = {}


def python_cmd() -> List[str]:
    """The command that stands for ``python`` in a tool run of the tests.

    It is the client of the session's fork server (``tool_forkserver``,
    started on first use): the tool runs as under a fresh interpreter, but
    without importing torch & co. again (~2.5 s of CPU per run). With
    ``MMREID_TESTS_FRESH_PYTHON=1`` it is this interpreter, as for users.
    """
    if os.environ.get('MMREID_TESTS_FRESH_PYTHON') == '1':
        return [sys.executable]
    if not _forkserver:
        sock = osp.join(tempfile.mkdtemp(prefix='mmreid_fork_'), 'socket')
        server = subprocess.Popen(
            [sys.executable, FORKSERVER, '--serve', sock],
            cwd=REPO,
            env=tool_env(),
            stdout=subprocess.PIPE,
            text=True)
        assert server.stdout.readline().strip() == 'ready', \
            f'the fork server {FORKSERVER} did not start'
        atexit.register(_stop_forkserver, server, osp.dirname(sock))
        _forkserver.update(socket=sock)
    return [sys.executable, '-I', '-S', FORKSERVER, _forkserver['socket']]


def _stop_forkserver(server: subprocess.Popen, folder: str) -> None:
    server.terminate()
    server.wait()
    shutil.rmtree(folder, ignore_errors=True)


def tool_process(args: List[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a tool in its own process (``sys.executable`` through
    :func:`python_cmd`) from the repository root, output captured, whatever
    its exit code."""
    if args[0] == sys.executable:
        args = python_cmd() + args[1:]
    return subprocess.run(
        args,
        cwd=REPO,
        env=tool_env(),
        capture_output=True,
        text=True,
        **kwargs)


def run_tool(args: List[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a repository tool in a subprocess; fail with its output."""
    proc = tool_process(args, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def run_tool_fails(args: List[str],
                   exit_code: Optional[int] = None,
                   **kwargs) -> str:
    """Run a repository tool that must fail: exit with ``exit_code``, or
    with any code but 0 if None; return its stderr. Otherwise the test
    fails with the tool's output."""
    proc = tool_process(args, **kwargs)
    failed = proc.returncode != 0 if exit_code is None else \
        proc.returncode == exit_code
    assert failed, (f'{args[1:3]} exited with {proc.returncode}:\n'
                    f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc.stderr


def start_tool(args: List[str]) -> subprocess.Popen:
    """Start a repository tool in the background (to kill it mid-run);
    its stderr is kept for the failure message."""
    return subprocess.Popen(
        args,
        cwd=REPO,
        env=tool_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True)


def run_tool_main(relative_path: str, *argv: str) -> str:
    """Run ``main()`` of a repository tool in this process under a patched
    ``sys.argv``; return its stdout.

    Only for tool calls that fail or finish before a Runner is built (a
    Runner changes process-wide state, e.g. deterministic algorithms). The
    tool's errors propagate as they are; an argparse exit becomes a
    RuntimeError holding the usage error.
    """
    module = load_tool(relative_path)
    out, errs = io.StringIO(), io.StringIO()
    old_argv = sys.argv
    sys.argv = [osp.join(REPO, relative_path), *argv]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(errs):
            module.main()
    except SystemExit as e:
        raise RuntimeError(f'exit {e.code}: {errs.getvalue()}') from None
    finally:
        sys.argv = old_argv
    return out.getvalue()


LOCK_HOLDER = ('import sys, time\n'
               'from mmreid_video.utils import lock_work_dir\n'
               'lock_work_dir(sys.argv[1])\n'
               'print("locked", flush=True)\n'
               'time.sleep(300)\n')


def start_lock_holder(work_dir) -> subprocess.Popen:
    """Start a process that holds the training lock of ``work_dir``, as a
    running training does, and return once it holds it; kill it when done.
    """
    proc = subprocess.Popen([sys.executable, '-c', LOCK_HOLDER,
                             str(work_dir)],
                            cwd=REPO,
                            env=tool_env(),
                            stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def load_tool(relative_path: str) -> ModuleType:
    """Import a script of the repository (``tools/...``, ``demo/...``; not
    a package) as a module named after its file."""
    path = osp.join(REPO, relative_path)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

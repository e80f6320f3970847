# Copyright (c) mmreid_video contributors. All rights reserved.
"""tool_forkserver: a tool run through the session's fork server behaves
as under a fresh ``python`` (argv, cwd, environment, output, exit code,
errors, kill), or runs under a fresh one when the server cannot stand in."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from tool_runner import REPO, python_cmd, tool_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get('MMREID_TESTS_FRESH_PYTHON') == '1',
        reason='MMREID_TESTS_FRESH_PYTHON=1: no fork server')
]

SHOW = ('import json, os, sys; print(json.dumps(dict(argv=sys.argv, '
        'cwd=os.getcwd(), name=__name__, path0=sys.path[0], '
        'var=os.environ.get("MY_VAR"), ppid=os.getppid())))')


def _run(args, cwd=REPO, **env):
    return subprocess.run(
        python_cmd() + args,
        cwd=cwd,
        env=dict(tool_env(), **env),
        capture_output=True,
        text=True,
        timeout=60)


def _shown(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_script_code_and_module_runs(tmp_path):
    script = tmp_path / 'show.py'
    script.write_text(SHOW + '\nsys.exit(3)\n')
    proc = _run([str(script), 'a', '--b'], cwd=str(tmp_path), MY_VAR='x')
    assert proc.returncode == 3, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown['argv'] == [str(script), 'a', '--b']
    assert shown['cwd'] == str(tmp_path) and shown['var'] == 'x'
    assert shown['name'] == '__main__' and shown['path0'] == str(tmp_path)
    # A child of the server, not of this process.
    assert shown['ppid'] != os.getpid()

    shown = _shown(_run(['-c', SHOW, 'x'], MY_VAR='y'))
    assert shown['argv'] == ['-c', 'x'] and shown['path0'] == ''
    assert shown['var'] == 'y' and shown['name'] == '__main__'

    (tmp_path / 'showmod.py').write_text(SHOW)
    shown = _shown(_run(['-m', 'showmod', 'z'], cwd=str(tmp_path)))
    assert shown['argv'] == [str(tmp_path / 'showmod.py'), 'z']
    assert shown['path0'] == str(tmp_path)


def test_errors_and_output_streams():
    proc = _run([
        '-c', 'import sys; print("out"); print("err", '
        'file=sys.stderr); raise ValueError("broken thing")'
    ])
    assert proc.returncode == 1
    assert proc.stdout == 'out\n'
    assert proc.stderr.startswith('err\n')
    assert 'ValueError: broken thing' in proc.stderr
    for sig in (signal.SIGTERM, signal.SIGKILL):
        proc = _run(['-c', f'import os; os.kill(os.getpid(), {int(sig)})'])
        assert proc.returncode == -sig
    # Fresh random state per run, as in a fresh interpreter.
    code = 'import random; print(random.random())'
    assert _run(['-c', code]).stdout != _run(['-c', code]).stdout


def test_fresh_interpreter_when_the_server_cannot_stand_in():
    code = 'import os, sys; print(os.getppid(), sys.flags.optimize)'
    # An interpreter option, and import-time settings of another value.
    for args, env in ((['-O', '-c',
                        code], {}), (['-c', code], dict(OMP_NUM_THREADS='2'))):
        proc = _run(args, **env)
        assert proc.returncode == 0, proc.stderr
        ppid, optimize = proc.stdout.split()
        assert int(ppid) == os.getpid()  # the client became python
        assert optimize == str(int('-O' in args))


def test_killing_the_client_kills_the_run(tmp_path):
    pid_file = tmp_path / 'pid'
    code = (f'import os, time; open({str(pid_file)!r}, "w").write('
            'str(os.getpid())); time.sleep(60)')
    client = subprocess.Popen(
        python_cmd() + ['-c', code], cwd=REPO, env=tool_env())
    start = time.monotonic()
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() - start < 30
        time.sleep(0.02)
    run = int(pid_file.read_text())
    client.kill()
    client.wait()
    while os.path.exists(f'/proc/{run}'):
        assert time.monotonic() - start < 30, 'the run outlived its client'
        time.sleep(0.02)
    assert sys.executable  # the test process itself is untouched

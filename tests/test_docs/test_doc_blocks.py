# Copyright (c) mmreid_video contributors. All rights reserved.
"""Run every command and snippet of README.md and docs/ as written.

Blocks run in page order, in one sandbox that looks like a fresh checkout
after the README's first command: the repository's ``configs``, ``tools``,
``demo`` and ``projects`` linked in, a copy of the tests' tiny synthetic
MARS tree (seed 0, as the demo configs read it) at ``data/synthetic_mars``
(where the demo config reads it), and the
interpreter running the tests first on ``PATH`` as ``python``. ``pip`` is a
no-op there (the environment is installed already) and ``python -m pytest``
is left to CI, which runs it. A block that needs what a test machine lacks
(real benchmark data, a GPU, a browser) starts with ``# needs: <what>``.
"""
import os
import os.path as osp
import re
import shlex
import shutil
import stat
import subprocess

import pytest
from doc_blocks import (REPO, RUNNABLE_LANGS, TEXT_LANGS, DocBlock, doc_pages,
                        read_blocks, runnable_blocks)
from tool_runner import python_cmd, tool_env

LINKED = ('configs', 'tools', 'demo', 'projects')
# Within the page test's timeout (setup.cfg, and the mark below).
BLOCK_TIMEOUT_S = 300
# Upper-case stand-ins (CONFIG, CKPT, ...) and <angle-bracket> slots.
PLACEHOLDER = re.compile(r'\b(?:CONFIG|CKPT|CHECKPOINT|WORK_DIR|N)\b|<[^<>]+>')

PYTHON_SHIM = """#!/bin/sh
# The interpreter running the tests; the test suite itself is CI's job.
if [ "$1" = "-m" ] && [ "$2" = "pytest" ]; then
  echo "doc test: 'python -m pytest' is run by CI"; exit 0
fi
exec {python} "$@"
"""
PIP_SHIM = """#!/bin/sh
echo "doc test: the environment is installed already (pip $*)"
"""


def _write_exe(path: str, text: str) -> None:
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


@pytest.fixture(scope='module')
def sandbox(tmp_path_factory, tiny_mars_root) -> dict:
    """A checkout-like folder and the environment to run blocks in."""
    root = tmp_path_factory.mktemp('docs_sandbox')
    for name in LINKED:
        os.symlink(osp.join(REPO, name), root / name)
    # A copy: the pages' commands may write next to or into it.
    shutil.copytree(tiny_mars_root, root / 'data' / 'synthetic_mars')
    bin_dir = root / '.bin'
    bin_dir.mkdir()
    # Through the tests' fork server, as the tool tests run their tools.
    _write_exe(
        str(bin_dir / 'python'),
        PYTHON_SHIM.format(python=' '.join(map(shlex.quote, python_cmd()))))
    _write_exe(str(bin_dir / 'pip'), PIP_SHIM)
    env = dict(
        tool_env(), PATH=f'{bin_dir}{os.pathsep}{os.environ.get("PATH", "")}')
    return dict(root=str(root), env=env)


def _run(block: DocBlock, sandbox: dict) -> None:
    if block.lang == 'python':
        script = osp.join(sandbox['root'], '.block.py')
        with open(script, 'w') as f:
            f.write(block.code)
        args = python_cmd() + [script]
    else:
        args = ['bash', '-euo', 'pipefail', '-c', block.code]
    proc = subprocess.run(
        args,
        cwd=sandbox['root'],
        env=sandbox['env'],
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S)
    assert proc.returncode == 0, (
        f'{block.name} ({block.lang}) failed with exit code '
        f'{proc.returncode}:\n{block.code}\n--- stdout ---\n'
        f'{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-5000:]}')


def _pages_in_run_order() -> list:
    # README first: its demo training makes the checkpoint later pages use.
    pages = doc_pages()
    return sorted(pages, key=lambda p: p != 'README.md')


def test_every_block_runs_or_says_what_it_needs():
    """A runnable-language block without ``# needs:`` is run below; its
    commands must not hide placeholders a reader cannot run (a Python
    block's stand-in names fail when it runs, and its strings may show
    layouts such as ``<data_root>/...``)."""
    for block in runnable_blocks():
        if block.lang == 'python':
            continue
        for line in block.code.splitlines():
            hits = PLACEHOLDER.findall(line.split('#', 1)[0])
            assert not hits, (f'{block.name}: placeholder {hits} in a block '
                              f'that runs as written: {line!r}; add '
                              "'# needs: ...' or use real paths")


def test_every_block_has_a_known_language():
    """A block tagged e.g. ``py`` or ``console`` would escape the run."""
    known = RUNNABLE_LANGS + TEXT_LANGS
    unknown = [(b.name, b.lang) for page in doc_pages()
               for b in read_blocks(page) if b.lang not in known]
    assert not unknown, f'blocks of unknown language {unknown}; use one ' \
        f'of {known}'


@pytest.mark.slow
# The README's page trains the demo (45 epochs on the tiny tree).
@pytest.mark.timeout(600)
@pytest.mark.parametrize('page', _pages_in_run_order())
def test_page_blocks_run(page, sandbox):
    blocks = [b for b in read_blocks(page) if b in runnable_blocks()]
    for block in blocks:
        _run(block, sandbox)

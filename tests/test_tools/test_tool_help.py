# Copyright (c) mmreid_video contributors. All rights reserved.
"""Every tool answers ``--help`` at once: it parses its arguments before
importing torch and the mm* packages (issue 25.5)."""
import glob
import os.path as osp
import resource
import subprocess
import sys

import pytest
from tool_runner import REPO, load_tool, tool_env

TOOLS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
    # ``_name.py``: a private module of a tool, not a command.
    if not osp.basename(p).startswith('_')) + ['demo/video_reid_demo.py']
# CPU seconds (user + sys) of the whole child process; importing torch and
# the mm* packages alone takes 2-3 s of CPU, argparse a few hundredths.
CPU_LIMIT_S = 3.0


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_every_tool_is_listed():
    assert 'tools/train.py' in TOOLS and len(TOOLS) > 20


# A fresh interpreter per tool (not the tests' fork server): its CPU time is
# what is measured.
@pytest.mark.slow
@pytest.mark.parametrize('tool', TOOLS)
def test_help_answers_at_once(tool):
    before = _children_cpu_s()
    proc = subprocess.run([sys.executable, tool, '--help'],
                          cwd=REPO,
                          env=tool_env(),
                          capture_output=True,
                          text=True,
                          timeout=120)
    cpu_s = _children_cpu_s() - before
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith('usage:'), proc.stdout[:500]
    assert cpu_s < CPU_LIMIT_S, f'{tool} --help took {cpu_s:.2f} s of CPU'


def test_choices_written_out_before_import_match_the_package():
    """The tools spell out the package's choices to answer ``--help``
    before importing it; the copies must not drift from the originals."""
    from mmreid_video.retrieval.feature_shards import SUBSETS
    from mmreid_video.retrieval.search_results import EXCLUSION
    for tool in ('tools/build_index.py', 'tools/search.py'):
        assert load_tool(tool).SUBSETS == SUBSETS, tool
    assert load_tool('tools/search.py').RULES == tuple(EXCLUSION)

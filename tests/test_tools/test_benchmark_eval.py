# Copyright (c) mmreid_video contributors. All rights reserved.
"""benchmark_eval.py end to end on a tiny MARS-like split."""
import json
import os.path as osp
import sys

import pytest
from tool_runner import REPO, run_tool, run_tool_fails

pytestmark = pytest.mark.slow

TOOL = 'tools/analysis_tools/benchmark_eval.py'
TINY = [
    '--num-query', '120', '--num-gallery', '600', '--num-ids', '40',
    '--num-distractors', '150', '--dim', '32'
]


def test_benchmark_eval_tiny(tmp_path):
    out = tmp_path / 'bench.json'
    run_tool([
        sys.executable, TOOL, *TINY, '--repeat', '1', '--ref-repeat', '1',
        '--large-gallery', '1200', '--device', 'cpu', '--json',
        str(out)
    ])
    report = json.loads(out.read_text())
    assert report['identical_to_reference'] is True
    assert report['fused_identical_to_dense'] is True
    assert report['metrics']['num_valid_queries'] == 120
    assert 0.5 < report['metrics']['mAP'] <= 1
    times = report['time_s']
    assert times['gemm']['runs'] == 1
    # The full evaluation is distances + rank-only, run by run.
    assert times['full']['median'] == pytest.approx(
        times['distances']['median'] + times['rank_only']['median'])
    assert report['speedup']['rank_only'] > 0
    assert report['fused_vs_gemm']['cpu'] > 0
    assert len(report['machine']['load_average']) in (0, 3)
    large = report['large_gallery']
    assert large['num_gallery'] == 1200
    assert large['per_item_vs_mars_scale'] > 0
    device = report['device']
    assert device['device'] == 'cpu'
    assert device['fused_time_s']['runs'] == 1
    for key in ('ties_identical_to_cpu', 'identical_to_cpu_on_same_distances',
                'fused_identical_to_dense', 'rank_gallery_identical'):
        assert device[key] is True, key


def test_benchmark_eval_baseline(tmp_path):
    # A git ref (extracted with git archive) and a path to a copy of the
    # package, timed in workers taking turns with this version.
    out = tmp_path / 'bench.json'
    package = osp.join(REPO, 'mmreid_video')
    proc = run_tool([
        sys.executable, TOOL, *TINY, '--repeat', '2', '--ref-repeat', '0',
        '--baseline', 'HEAD', '--baseline', package, '--json',
        str(out)
    ])
    report = json.loads(out.read_text())
    assert 'identical_to_reference' not in report  # --ref-repeat 0
    head, copy = report['baseline']
    assert head['ref'] == 'HEAD' and len(head['commit']) == 40
    assert copy['package'] == REPO and copy['commit'] == ''
    for entry in (head, copy):
        assert entry['identical_results'] is True
        for name in ('rank_only', 'fused'):
            assert entry[name]['ours_s']['runs'] == 2
            assert entry[name]['baseline_s']['median'] > 0
            assert entry[name]['ratio'] > 0
    assert 'vs HEAD' in proc.stdout and 'ours/baseline' in proc.stdout


@pytest.mark.parametrize('ref,message', [
    ('no-such-ref', 'neither a folder holding mmreid_video/ nor a commit'),
    ('docs', 'the folder holds no mmreid_video/__init__.py'),
])
def test_benchmark_eval_bad_baseline(ref, message):
    # Refused before any timing, naming the value.
    err = run_tool_fails([sys.executable, TOOL, '--baseline', ref],
                         timeout=120)
    assert f'--baseline {ref}: {message}' in err

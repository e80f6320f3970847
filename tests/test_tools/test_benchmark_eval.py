# Copyright (c) mmreid_video contributors. All rights reserved.
"""benchmark_eval.py end to end on a tiny MARS-like split."""
import json
import sys

import pytest
from tool_runner import run_tool


@pytest.mark.slow
def test_benchmark_eval_tiny(tmp_path):
    out = tmp_path / 'bench.json'
    run_tool([
        sys.executable, 'tools/analysis_tools/benchmark_eval.py',
        '--num-query', '120', '--num-gallery', '600', '--num-ids', '40',
        '--num-distractors', '150', '--dim', '32', '--repeat', '1',
        '--ref-repeat', '1', '--large-gallery', '1200', '--device', 'cpu',
        '--json', str(out)
    ])
    report = json.loads(out.read_text())
    assert report['identical_to_reference'] is True
    assert report['fused_identical_to_dense'] is True
    assert report['metrics']['num_valid_queries'] == 120
    assert 0.5 < report['metrics']['mAP'] <= 1
    assert len(report['times_s']['gemm']) == 1
    assert report['fused_vs_gemm']['cpu'] > 0
    large = report['large_gallery']
    assert large['num_gallery'] == 1200
    assert large['per_item_vs_mars_scale'] > 0
    device = report['device']
    assert device['device'] == 'cpu'
    for key in ('ties_identical_to_cpu', 'identical_to_cpu_on_same_distances',
                'fused_identical_to_dense', 'rank_gallery_identical'):
        assert device[key] is True, key

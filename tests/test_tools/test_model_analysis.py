# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/analysis_tools/benchmark_model.py (inference and --train) and
get_flops.py on the demo configs, the CNN and the ViT encoder."""
import re
import sys

import pytest
from tool_runner import run_tool, run_tool_fails

pytestmark = pytest.mark.slow

R18_DEMO = 'configs/demo/denseil_r18_demo.py'
VIT_DEMO = 'configs/demo/denseil_vit-tiny_demo.py'
SMALL = ['--frames', '2', '--shape', '64', '32', '--threads', '1']


def benchmark(*args) -> str:
    return run_tool([
        sys.executable, 'tools/analysis_tools/benchmark_model.py', R18_DEMO,
        VIT_DEMO, *SMALL, '--warmup', '0', '--runs', '2', *args
    ]).stdout


@pytest.mark.parametrize('stage', ['1', '2'])
def test_train_iterations_of_two_configs(stage):
    out = benchmark('--train', '--stage', stage, '--clips', '8', '--amp',
                    'bfloat16')
    assert f'amp=bfloat16 stage={stage} batch=8 clips' in out
    for config in (R18_DEMO, VIT_DEMO):
        assert re.search(rf'{config}: median [\d.]+ ms/iter = [\d.]+ it/s',
                         out), out
    assert re.search(r'time ratio B/A: of medians [\d.]+', out), out


def test_train_needs_identity_batches():
    err = run_tool_fails([
        sys.executable, 'tools/analysis_tools/benchmark_model.py', VIT_DEMO,
        '--train', '--clips', '6', *SMALL
    ])
    assert 'needs --clips = a multiple of 4, >= 8' in err


def test_inference_and_flops_of_the_vit_demo():
    out = benchmark('--part-runs', '2')
    assert re.search(r'ratio B/A: of medians [\d.]+', out), out
    flops = run_tool([
        sys.executable, 'tools/analysis_tools/get_flops.py', VIT_DEMO,
        '--frames', '3', '--shape', '64', '32'
    ]).stdout
    encoder = re.search(
        r'encoder \(backbone\)\s+params\s+([\d.]+) M\s+'
        r'FLOPs\s+([\d.]+) G', flops)
    assert encoder, flops
    # 4 layers of width 96 on 3 frames of 8x4 patches: ~0.3 M parameters.
    assert 0.2 < float(encoder.group(1)) < 0.6
    assert 'DIDecoder' in flops

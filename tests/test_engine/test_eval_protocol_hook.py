# Copyright (c) mmreid_video contributors. All rights reserved.
"""EvalProtocolHook on a real Runner: impossible settings are refused
before the checkpoint is read or a descriptor extracted; the protocol is in
the test log line and json log."""
import glob
import json
import os.path as osp
import sys
from unittest import mock

import pytest
from mmengine.runner import CheckpointLoader, Runner

from mmreid_video.models import VideoReID
from mmreid_video.utils import load_config, parse_cfg_options

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)), 'test_tools'))
from tool_runner import DEMO_CONFIG, tiny_cfg_options  # noqa: E402


def _runner(tmp_path, data_root, name, *options):
    cfg = load_config(DEMO_CONFIG)
    cfg.merge_from_dict(
        parse_cfg_options(tiny_cfg_options(data_root) + list(options)))
    cfg.work_dir = str(tmp_path / name)
    cfg.experiment_name = name
    return Runner.from_cfg(cfg)


def test_k1_refused_before_checkpoint_and_extraction(tmp_path, tiny_mars_root):
    runner = _runner(tmp_path, tiny_mars_root, 'k1',
                     'test_evaluator.rerank=True',
                     'test_evaluator.rerank_cfg.k1=1000',
                     f'load_from={tmp_path}/never_read.pth')
    with mock.patch.object(CheckpointLoader, 'load_checkpoint') as load, \
            mock.patch.object(VideoReID, 'test_step') as extract, \
            pytest.raises(ValueError) as err:
        runner.test()
    load.assert_not_called()
    extract.assert_not_called()
    assert str(err.value).startswith(
        'test_evaluator.rerank_cfg.k1=1000 does not fit the test set: '
        're-ranking needs k1 < Q + G = ')


def test_protocol_in_log_line_and_json(tmp_path, tiny_mars_root):
    runner = _runner(tmp_path, tiny_mars_root, 'log',
                     'test_evaluator.ap_mode=trapezoid')
    runner.test()  # random weights: only the protocol is checked
    logs = glob.glob(str(tmp_path / 'log' / '*' / '*.json'))
    with open(logs[0]) as f:
        record = json.load(f)
    protocol = ('cosine distance, trapezoid AP, no re-ranking, '
                'query_in_gallery=True, excluded: same pid and camera as the '
                'query, CMC to rank 20, values in %')
    assert record['reid/protocol'] == protocol
    with open(glob.glob(str(tmp_path / 'log' / '*' / '*.log'))[0]) as f:
        text = f.read()
    line = next(ln for ln in text.splitlines()
                if 'Epoch(test)' in ln and 'reid/mAP' in ln)
    assert f'reid/protocol: {protocol}' in line
    # The metric's own table says it too, with the unit.
    assert 'Re-ID results (%): ' in text and f'Protocol: {protocol}' in text

# Copyright (c) mmreid_video contributors. All rights reserved.
"""EvalProtocolHook on a real Runner: impossible settings are refused
before the checkpoint is read or a descriptor extracted; the protocol is in
the test log line and json log. A resumed best score of another protocol
is forgotten."""
import glob
import json
import os.path as osp
import sys
from types import SimpleNamespace
from unittest import mock

import pytest
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner import BaseLoop, CheckpointLoader, Runner

from mmreid_video.engine.hooks import EvalProtocolHook
from mmreid_video.evaluation import VideoReIDMetric
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


@pytest.mark.slow  # a Runner
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


@pytest.mark.slow  # a Runner
def test_protocol_in_log_line_and_json(tmp_path, tiny_mars_root):
    runner = _runner(tmp_path, tiny_mars_root, 'log',
                     'test_evaluator.ap_mode=trapezoid')
    runner.test()  # random weights: only the protocol is checked
    logs = glob.glob(str(tmp_path / 'log' / '*' / '*.json'))
    with open(logs[0]) as f:
        record = json.load(f)
    protocol = ('cosine distance, trapezoid AP, no re-ranking, '
                'query_in_gallery=True, excluded: same pid and camera as the '
                'query, CMC to rank 20, queries without a valid match '
                'skipped, values in %')
    assert record['reid/protocol'] == protocol
    with open(glob.glob(str(tmp_path / 'log' / '*' / '*.log'))[0]) as f:
        text = f.read()
    line = next(ln for ln in text.splitlines()
                if 'Epoch(test)' in ln and 'reid/mAP' in ln)
    assert f'reid/protocol: {protocol}' in line
    # The metric's own table says it too, with the unit.
    assert 'Re-ID results (%): ' in text and f'Protocol: {protocol}' in text


class _Loop(BaseLoop):
    """A built val loop with a two-tracklet dataset and given metrics."""

    def __init__(self, metrics) -> None:
        infos = [
            dict(pid=1, camid=0, is_query=True, is_gallery=False),
            dict(pid=1, camid=1, is_query=False, is_gallery=True)
        ]
        self.dataloader = SimpleNamespace(dataset=_Infos(infos))
        self.evaluator = SimpleNamespace(metrics=metrics)

    def run(self) -> None:
        pass


class _Infos(list):

    def get_data_info(self, i: int) -> dict:
        return self[i]


def test_resumed_best_score_of_another_protocol_is_forgotten():
    hook = EvalProtocolHook()
    hub = MessageHub.get_instance('eval_protocol_hook_test')
    runner = SimpleNamespace(
        _val_loop=_Loop([VideoReIDMetric(ap_mode='trapezoid')]),
        _test_loop=None,
        cfg=Config(dict(val_evaluator=dict(type='VideoReIDMetric'))),
        message_hub=hub,
        logger=MMLogger.get_instance('eval_protocol_hook_test'))
    hook.before_run(runner)
    # Resumed under the same protocol: the best score stays.
    hook.after_val_epoch(runner)
    hub.update_info('best_score', 50.0)
    hook.before_train(runner)
    assert hub.get_info('best_score') == 50.0
    # Resumed from a run validated with the standard AP: forgotten.
    hub.update_info('val/reid/protocol', 'cosine distance, standard AP, ...')
    hub.update_info('best_ckpt', 'best_reid_mAP_epoch_10.pth')
    hook.before_train(runner)
    assert hub.get_info('best_score') is None
    assert hub.get_info('best_ckpt') is None

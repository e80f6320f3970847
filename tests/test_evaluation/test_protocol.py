# Copyright (c) mmreid_video contributors. All rights reserved.
"""evaluation.protocol: one description of a metric's protocol, and the
checks that refuse impossible settings early."""
import pickle
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from mmreid_video.evaluation import (VideoReIDMetric, check_metric_fits,
                                     check_rerank_cfg, describe_protocol)
from mmreid_video.registry import METRICS

init_default_scope('mmreid_video')

TEXT = ('cosine distance, standard AP, no re-ranking, query_in_gallery=True, '
        'excluded: same pid and camera as the query, CMC to rank 20, '
        'queries without a valid match skipped, values in %')


def test_describe_instance_config_and_plain_settings():
    settings, text = describe_protocol(
        VideoReIDMetric(), query_in_gallery=True)
    assert text == TEXT
    assert settings == dict(
        metric='VideoReIDMetric',
        distance='cosine',
        ap_mode='standard',
        rerank=False,
        query_in_gallery=True,
        exclusion='same pid and camera as the query',
        max_rank=20,
        no_positive='skip',
        unit='%')
    # A config dict gives the same settings as the metric it builds; where
    # results go (out_file, device, prefix) is not part of the protocol.
    cfg = dict(
        type='VideoReIDMetric',
        distance='euclidean',
        ap_mode='trapezoid',
        rerank=True,
        rerank_cfg=dict(k1=8),
        out_file='x.pkl',
        device='cpu',
        prefix='p')
    from_cfg = describe_protocol(cfg)
    assert from_cfg == describe_protocol(METRICS.build(cfg))
    assert from_cfg[0]['rerank'] == dict(k1=8, k2=6, lambda_value=0.3)
    assert from_cfg[1].startswith('euclidean distance, trapezoid AP, '
                                  're-ranking k1=8 k2=6 lambda=0.3, ')
    assert 'x.pkl' not in from_cfg[1] and 'cpu' not in from_cfg[1]
    # Plain settings (e.g. a search) are taken as they are.
    assert describe_protocol(
        dict(distance='cosine', exclusion='same camera',
             unit='%'))[1] == ('cosine distance, excluded: same camera, '
                               'values in %')


def test_new_constructor_argument_is_picked_up():
    """A setting added to the metric appears without editing protocol.py."""

    class WithNewSetting(VideoReIDMetric):

        def __init__(self, new_setting: int = 1, **kwargs) -> None:
            super().__init__(**kwargs)
            self.new_setting = new_setting

    settings, text = describe_protocol(WithNewSetting(new_setting=3))
    assert settings['new_setting'] == 3
    assert text.endswith('queries without a valid match skipped, '
                         'new_setting=3, values in %')
    _, text = describe_protocol(VideoReIDMetric(no_positive='zero'))
    assert 'queries without a valid match count AP 0' in text


def test_rerank_cfg_refused_at_construction():
    for rerank_cfg, match in ((dict(k=1), 'Unknown `rerank_cfg` keys'),
                              (dict(k1=3), r'1 <= rerank_cfg.k2 <= '
                               r'rerank_cfg.k1, got k1=3, k2=6'),
                              (dict(k1=2.5), 'k1` must be an integer'),
                              (dict(lambda_value=2), r'in \[0, 1\], got 2')):
        with pytest.raises(ValueError, match=match):
            VideoReIDMetric(rerank_cfg=rerank_cfg)
    check_rerank_cfg(dict(k1=3, k2=3, lambda_value=0))


def _labels(pids, camids, is_query, is_gallery):
    return dict(
        pid=np.array(pids),
        camid=np.array(camids),
        is_query=np.array(is_query),
        is_gallery=np.array(is_gallery))


def test_checks_against_the_test_set(tmp_path):
    # 2 queries, 3 gallery items: Q + G = 5.
    labels = _labels([1, 2, 1, 2, 3], [0, 0, 1, 1, 1],
                     [True, True, False, False, False],
                     [False, False, True, True, True])
    check_metric_fits(
        VideoReIDMetric(rerank=True, rerank_cfg=dict(k1=4, k2=2)), labels,
        'test_evaluator')
    with pytest.raises(
            ValueError,
            match=r'^val_evaluator.0.rerank_cfg.k1=5 does not fit the test '
            r'set: re-ranking needs k1 < Q \+ G = 2 \+ 3 = 5'):
        check_metric_fits(
            VideoReIDMetric(rerank=True, rerank_cfg=dict(k1=5, k2=2)), labels,
            'val_evaluator.0')
    # Re-ranking off: k1 is not used.
    check_metric_fits(
        VideoReIDMetric(rerank_cfg=dict(k1=50)), labels, 'test_evaluator')
    # Every match in the query's own camera: nothing to evaluate.
    same_cam = dict(labels, camid=np.array([0, 1, 0, 1, 1]))
    with pytest.raises(ValueError, match='None of the 2 queries'):
        check_metric_fits(VideoReIDMetric(), same_cam, 'test_evaluator')
    # A query set alone (a custom JSON of one's own footage) is searched.
    queries_only = dict(labels, is_gallery=np.zeros(5, bool))
    with pytest.raises(
            ValueError,
            match='has 2 queries and 0 gallery '
            'tracklets; test_evaluator needs both.*search.py'):
        check_metric_fits(VideoReIDMetric(), queries_only, 'test_evaluator')
    with pytest.raises(PermissionError, match='test_evaluator.out_file'):
        check_metric_fits(
            VideoReIDMetric(out_file='/proc/nope/x.pkl'), labels,
            'test_evaluator')
    gpus = torch.cuda.device_count()
    with pytest.raises(
            RuntimeError,
            match=f"test_evaluator.device='cuda:{gpus}' but this machine has "
            f'{gpus} CUDA device'):
        check_metric_fits(
            VideoReIDMetric(device=f'cuda:{gpus}'), labels, 'test_evaluator')
    with pytest.raises(ValueError, match="device='gpu' is not a device"):
        check_metric_fits(
            VideoReIDMetric(device='gpu'), labels, 'test_evaluator')


def test_metric_table_and_dump_name_the_protocol(tmp_path):
    from test_metrics.test_video_reid_metric import make_samples
    out = tmp_path / 'dump.pkl'
    metric = VideoReIDMetric(out_file=str(out))
    metric.process(None, make_samples())
    module = 'mmreid_video.evaluation.metrics.video_reid_metric'
    with mock.patch(f'{module}.print_log') as log:
        metric.evaluate(4)
    table = log.call_args_list[0].args[0]
    assert table.startswith('Re-ID results (%): 2 queries (2 with a valid '
                            f'match), 3 gallery\nProtocol: {TEXT}\n')
    with open(out, 'rb') as f:
        assert pickle.load(f)['protocol'] == TEXT

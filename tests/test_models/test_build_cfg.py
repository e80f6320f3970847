# Copyright (c) mmreid_video contributors. All rights reserved.
"""Models remember the config they were built from (``build_cfg``)."""
from fixture_models import tiny_denseil_cfg, tiny_video_reid_cfg
from torch import nn

from mmreid_video.models import VideoReID
from mmreid_video.registry import MODELS


def test_the_built_class_records_its_own_arguments():
    cfg = tiny_denseil_cfg(two_stage=False)
    model = MODELS.build(cfg)
    # DenseIL's arguments as given (not those it passes to VideoReID).
    assert model.build_cfg == cfg
    assert 'in_channels' in cfg['head']  # given, not filled in
    cfg['neck']['num_heads'] = 8  # a copy: later changes do not leak in
    assert model.build_cfg['neck']['num_heads'] == 2
    assert MODELS.build(tiny_video_reid_cfg()).build_cfg == \
        tiny_video_reid_cfg()


def test_modules_instead_of_configs_leave_no_config():
    cfg = tiny_video_reid_cfg()
    cfg.pop('type')
    cfg['neck'] = MODELS.build(cfg['neck'])
    assert isinstance(cfg['neck'], nn.Module)
    assert VideoReID(**cfg).build_cfg is None

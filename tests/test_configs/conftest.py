# Copyright (c) mmreid_video contributors. All rights reserved.
"""Helpers shared by the config tests: build models from shipped configs
with random initialization (no checkpoint downloads)."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS


def no_pretrained(cfg):
    """Copy of a (model) config without downloads: every ``init_cfg`` that
    loads a checkpoint and every ``encoder_checkpoint`` become None."""

    def loads_weights(init_cfg) -> bool:
        items = init_cfg if isinstance(init_cfg, list) else [init_cfg]
        return any(
            isinstance(i, dict) and i.get('type') == 'Pretrained'
            for i in items)

    if isinstance(cfg, dict):
        return type(cfg)({
            k: None if (k == 'init_cfg' and loads_weights(v))
            or k == 'encoder_checkpoint' else no_pretrained(v)
            for k, v in cfg.items()
        })
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(no_pretrained(v) for v in cfg)
    return cfg


@pytest.fixture
def build_model():
    """Build ``cfg.model`` with random init (``init_weights`` not called)."""

    def build(cfg: Config) -> torch.nn.Module:
        return MODELS.build(no_pretrained(copy.deepcopy(cfg.model)))

    return build


@pytest.fixture(autouse=True)
def default_scope():
    init_default_scope('mmreid_video')

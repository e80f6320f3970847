# Copyright (c) mmreid_video contributors. All rights reserved.
"""CPU process-group set-up and tear-down for the tools' launchers."""
import os
from unittest import mock

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmreid_video.utils import setup_distributed, teardown_distributed


def _single_rank_env(port: int) -> dict:
    return dict(
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port))


def test_setup_then_teardown_on_cpu(free_port):
    cfg = Config(dict(model_wrapper_cfg=None))
    with mock.patch.dict(os.environ, _single_rank_env(free_port)), \
            mock.patch.object(torch.cuda, 'is_available', return_value=False):
        try:
            setup_distributed(cfg, 'pytorch')
            assert torch_dist.is_initialized()
            assert torch_dist.get_backend() == 'gloo'
            assert cfg.env_cfg.dist_cfg.backend == 'gloo'
            assert cfg.model_wrapper_cfg.type == \
                'mmreid_video.ReIDDistributedDataParallel'
            assert cfg.model_wrapper_cfg.broadcast_buffers is False
        finally:
            teardown_distributed()
    assert not torch_dist.is_initialized()


def test_setup_is_a_no_op_without_launcher():
    cfg = Config(dict())
    setup_distributed(cfg, 'none')
    assert 'env_cfg' not in cfg and 'model_wrapper_cfg' not in cfg
    assert not torch_dist.is_initialized()
    teardown_distributed()  # nothing to tear down: must not raise

# Copyright (c) mmreid_video contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import init_default_scope
from torch import nn

from mmreid_video.registry import OPTIM_WRAPPERS


def test_bf16_autocast_inside_optim_context():
    init_default_scope('mmreid_video')
    model = nn.Linear(4, 2)
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='CPUAmpOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    assert model.weight.dtype == torch.float32
    before = model.weight.detach().clone()
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(before, model.weight)
    # Outside the context the model runs in float32 again.
    assert model(torch.randn(3, 4)).dtype == torch.float32


def test_float16_is_refused_on_cpu():
    with pytest.raises(ValueError, match='bfloat16'):
        OPTIM_WRAPPERS.build(
            dict(
                type='CPUAmpOptimWrapper',
                dtype='float16',
                optimizer=torch.optim.SGD(
                    nn.Linear(1, 1).parameters(), lr=0.1)))

# Copyright (c) mmreid_video contributors. All rights reserved.
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS

T, H, W = 2, 64, 32
# The slim DenseIL of the demo config and its optimizer (Adam, weight decay
# 5e-4, SkipFrozenOptimWrapperConstructor inherited from the schedule).
DEMO = Config.fromfile(
    osp.join(
        osp.dirname(__file__), '..', '..', 'configs', 'demo',
        'denseil_r18_demo.py'))
DENSEIL, OPTIM = DEMO.model, DEMO.optim_wrapper
# The optional paramwise_cfg of docs/config.md.
NO_DECAY = dict(
    norm_decay_mult=0.0,
    bias_decay_mult=0.0,
    custom_keys={'.step_emb.': dict(decay_mult=0.0)})


def batch():
    gen = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (T, 3, H, W), dtype=torch.uint8, generator=gen)
            for _ in range(4)
        ],
        data_samples=[
            DataSample(metainfo=dict(clip_len=T, num_clips=1)).set_gt_label(
                i % 2) for i in range(4)
        ])


def encoder(model):
    return {
        k: v.clone()
        for k, v in model.named_parameters()
        if k.startswith(('backbone.', 'encoder_head.'))
    }


def step(model, wrapper):
    """One training step that leaves zeroed, not None, gradients."""
    data = model.data_preprocessor(batch(), True)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    wrapper.update_params(loss, zero_kwargs=dict(set_to_none=False))


def run_stage2(constructor):
    init_default_scope('mmreid_video')
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(DENSEIL))
    cfg = dict(copy.deepcopy(OPTIM), constructor=constructor)
    wrapper = build_optim_wrapper(model, cfg)
    step(model, wrapper)  # stage 1: the encoder gets (then zeroed) grads
    grads = [p.grad for p in model.backbone.parameters()]
    assert all(g is not None and not g.any() for g in grads)
    model.set_train_stage(2)
    before = encoder(model)
    decoder = [p.clone() for p in model.neck.parameters()]
    for _ in range(2):
        step(model, wrapper)
    # The decoder did train.
    assert not all(
        torch.equal(a, b) for a, b in zip(decoder, model.neck.parameters()))
    return before, encoder(model)


@pytest.mark.slow
def test_frozen_encoder_bit_identical_after_stage2_steps():
    before, after = run_stage2('SkipFrozenOptimWrapperConstructor')
    for name, value in before.items():
        assert torch.equal(after[name], value), name
    # The plain constructor decays the frozen encoder: the check can fail.
    before, after = run_stage2('DefaultOptimWrapperConstructor')
    assert not all(torch.equal(after[k], v) for k, v in before.items())


def test_paramwise_no_decay_on_tables_norms_biases():
    init_default_scope('mmreid_video')
    model = MODELS.build(copy.deepcopy(DENSEIL))
    cfg = dict(copy.deepcopy(OPTIM), paramwise_cfg=NO_DECAY)
    wrapper = build_optim_wrapper(model, cfg)
    decay = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            decay[names[id(param)]] = group['weight_decay']
    assert decay['neck.step_emb.frame_embed'] == 0
    assert decay['neck.step_emb.block_embed'] == 0
    assert decay['neck.layers.0.norm1.weight'] == 0
    assert decay['neck.layers.0.ffn.0.bias'] == 0
    assert decay['backbone.bn1.weight'] == 0
    assert OPTIM.constructor == 'SkipFrozenOptimWrapperConstructor'
    assert decay['neck.layers.0.ffn.0.weight'] == pytest.approx(5e-4)
    assert decay['backbone.conv1.weight'] == pytest.approx(5e-4)
    assert decay['head.classifier.weight'] == pytest.approx(5e-4)


def test_base_constructor_builds_the_optimizer_and_frozen_stay_put():
    """``base_constructor`` (here mmpretrain's layer-wise lr decay, as the
    ViT schedules use it) builds the param groups; frozen parameters are
    still never updated."""
    init_default_scope('mmreid_video')
    model = MODELS.build(copy.deepcopy(DENSEIL))
    model.get_layer_depth = lambda name, prefix='': (
        (0, 2) if name.startswith('backbone.') else (1, 2))
    cfg = dict(
        copy.deepcopy(OPTIM),
        base_constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
        paramwise_cfg=dict(layer_decay_rate=0.5))
    wrapper = build_optim_wrapper(model, cfg)
    lrs = sorted({round(g['lr'], 12) for g in wrapper.optimizer.param_groups})
    # Depth 0 of 2 layers gets lr * 0.5 ** 1, depth 1 the base lr.
    assert lrs == [5e-4, 1e-3]
    model.set_train_stage(2)
    frozen = [p for p in model.backbone.parameters() if not p.requires_grad]
    before = [p.clone() for p in frozen]
    for p in frozen:
        p.grad = torch.zeros_like(p)
    wrapper.optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, frozen))

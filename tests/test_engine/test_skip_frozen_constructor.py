import copy

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS

T, H, W = 2, 32, 16
DENSEIL = dict(
    type='DenseIL',
    backbone=dict(
        type='mmpretrain.ResNet',
        depth=18,
        stem_channels=8,
        base_channels=8,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1)),
    neck=dict(
        type='DIDecoder',
        in_channels=[8, 16, 32, 64],
        num_stripes=2,
        embed_dims=16,
        num_heads=2),
    head=dict(type='BNNeckHead', in_channels=16, num_classes=2),
    encoder_head=dict(type='BNNeckHead', in_channels=64, num_classes=2))
OPTIM = dict(
    type='OptimWrapper',
    constructor='SkipFrozenOptimWrapperConstructor',
    optimizer=dict(type='Adam', lr=1e-2, weight_decay=5e-4))
# The optional paramwise_cfg of docs/config.md.
NO_DECAY = dict(
    norm_decay_mult=0.0,
    bias_decay_mult=0.0,
    custom_keys={'.step_emb.': dict(decay_mult=0.0)})


def batch():
    gen = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(0, 256, (T, 3, H, W), dtype=torch.uint8,
                          generator=gen) for _ in range(4)
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
    assert decay['neck.layers.0.ffn.0.weight'] == pytest.approx(5e-4)
    assert decay['backbone.conv1.weight'] == pytest.approx(5e-4)
    assert decay['head.classifier.weight'] == pytest.approx(5e-4)

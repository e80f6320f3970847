# Copyright (c) mmreid_video contributors. All rights reserved.
"""DenseIL and the baseline on mmpretrain's Vision Transformer, built from
the shipped ViT configs (random init, no downloads)."""
import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.models import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.structures import DataSample

from mmreid_video.evaluation.functional import evaluate_rank
from mmreid_video.registry import MODELS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
VIT_CONFIGS = [
    'denseil/denseil_vit-b16_mars.py', 'denseil/denseil_clip-vit-b16_mars.py',
    'baseline/baseline_vit-b16_mars.py',
    'baseline/baseline_clip-vit-b16_mars.py'
]
DENSEIL_VIT = VIT_CONFIGS[0]
# A narrow ViT keeps the tests fast; depth (12), patches (16x16),
# out_indices, frame size and the decoder are the configs' own.
WIDTH = 48
NARROW = dict(
    embed_dims=WIDTH, num_layers=12, num_heads=2, feedforward_channels=96)
B, T, H, W = 2, 8, 256, 128


@pytest.fixture(autouse=True)
def setup():
    init_default_scope('mmreid_video')
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops: avoid oversubscribing the CPU
    yield
    torch.set_num_threads(threads)


def load_cfg(path: str, init_cfg=None, **options) -> Config:
    """A shipped ViT config with a narrow ViT and ``init_cfg`` instead of
    the published checkpoint (None: random init, no download)."""
    cfg = Config.fromfile(str(CONFIG_DIR / path))
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    cfg.model.backbone.init_cfg = init_cfg
    cfg.model.backbone.arch = NARROW
    if cfg.model.type == 'DenseIL':
        cfg.model.neck.in_channels = [WIDTH] * 4
    else:
        cfg.model.head.in_channels = WIDTH
    cfg.merge_from_dict(options)
    return cfg


def build(cfg: Config) -> torch.nn.Module:
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('path', VIT_CONFIGS)
def test_builds_and_describes_8_frame_clips(path):
    cfg = load_cfg(path)
    model = build(cfg)
    vit = model.backbone
    assert isinstance(vit, VisionTransformer)
    assert vit.patch_resolution == (16, 8)
    assert vit.pos_embed.shape == (1, 16 * 8 + 1, WIDTH)
    # CLIP's encoder normalises the tokens before the first layer.
    assert isinstance(vit.pre_norm, torch.nn.LayerNorm) == ('clip' in path)
    clips = torch.rand(B, T, 3, H, W)
    if cfg.model.type == 'DenseIL':
        assert list(vit.out_indices) == [2, 5, 8, 11]
        dims = {1: WIDTH, 2: cfg.model.neck.embed_dims}
    else:
        assert list(vit.out_indices) == [11]
        dims = {None: WIDTH}
    for stage, width in dims.items():
        if stage is not None:
            model.set_train_stage(stage)
        with torch.no_grad():
            feats = model.extract_feat(clips)
        assert feats.shape == (B, width), stage
        assert torch.isfinite(feats).all()
        # A camera-agnostic backbone ignores camera ids.
        with torch.no_grad():
            torch.testing.assert_close(
                model.extract_feat(clips, torch.tensor([0, 1])), feats)


@pytest.mark.parametrize('patch_cfg, grid', [({}, (16, 8)),
                                             ({
                                                 'stride': 12,
                                                 'padding': 0
                                             }, (21, 10))])
def test_decoder_gets_4_stripes_per_frame_of_every_paired_layer(
        patch_cfg, grid):
    cfg = load_cfg(DENSEIL_VIT, **{'model.backbone.patch_cfg': patch_cfg})
    model = build(cfg)
    model.set_train_stage(2)
    maps, tokens = [], []
    model.neck.ppool.register_forward_hook(
        lambda m, args, out: maps.extend(f.shape for f in args[0]))
    for layer in model.neck.layers:
        layer.register_forward_hook(lambda m, args, out: tokens.append(
            (args[0].shape, args[1].shape)))
    with torch.no_grad():
        model.extract_feat(torch.rand(B, T, 3, H, W))
    # Layers 3, 6, 9, 12 of the ViT: patch-token maps of the whole grid.
    assert maps == [(B * T, WIDTH, *grid)] * 4
    # Each decoder layer: T * 4 stripe tokens (queries and its layer's).
    d = cfg.model.neck.embed_dims
    assert tokens == [((B, T * 4, d), (B, T * 4, d))] * 4


@pytest.mark.parametrize('backbone_type',
                         ['mmpretrain.VisionTransformer', 'CameraAwareViT'])
@pytest.mark.parametrize('patch_cfg, grid',
                         [({}, (16, 8)),
                          (dict(stride=12, padding=0), (21, 10))])
def test_pos_embed_of_a_224_checkpoint_is_resized_on_load(
        tmp_path, backbone_type, patch_cfg, grid):
    source = VisionTransformer(arch=NARROW, img_size=224, patch_size=16)
    source.init_weights()
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['head.layers.head.weight'] = torch.zeros(10, WIDTH)
    path = tmp_path / 'vit_224.pth'
    torch.save(dict(state_dict=state), path)
    options = {
        'model.backbone.type': backbone_type,
        'model.backbone.patch_cfg': patch_cfg
    }
    if backbone_type == 'CameraAwareViT':
        options['model.backbone.num_cameras'] = 6
    init_cfg = dict(
        type='Pretrained', checkpoint=str(path), prefix='backbone.')
    model = build(load_cfg(DENSEIL_VIT, init_cfg, **options))
    vit = model.backbone
    assert vit.pos_embed.shape == (1, grid[0] * grid[1] + 1, WIDTH)
    expected = resize_pos_embed(source.pos_embed, (14, 14), grid, 'bicubic', 1)
    torch.testing.assert_close(vit.pos_embed, expected)
    torch.testing.assert_close(vit.layers[11].ffn.layers[1].weight,
                               source.layers[11].ffn.layers[1].weight)
    torch.testing.assert_close(vit.cls_token, source.cls_token)


@pytest.mark.parametrize('path, decay', [(DENSEIL_VIT, 0.75),
                                         (VIT_CONFIGS[1], 0.65)])
def test_layer_wise_lr_decay(path, decay):
    cfg = load_cfg(path)
    model = build(cfg)
    # (OptimWrapper adds a group of its own that logs the base lr.)
    groups = {
        g['param_name']: g
        for g in build_optim_wrapper(model, cfg.optim_wrapper).param_groups
        if 'param_name' in g
    }
    lr = cfg.optim_wrapper.optimizer.lr
    # 14 depths: patch embedding (0), layers 1..12, the rest (13).
    for name, depth in (('backbone.patch_embed.projection.weight',
                         0), ('backbone.pos_embed',
                              0), ('backbone.layers.0.attn.qkv.weight', 1),
                        ('backbone.layers.11.ffn.layers.1.weight',
                         12), ('neck.layers.0.cross_attn.q.weight',
                               13), ('encoder_head.classifier.weight', 13)):
        assert groups[name]['lr'] == pytest.approx(lr * decay**(13 - depth))
    assert groups['backbone.pos_embed']['weight_decay'] == 0
    assert groups['backbone.layers.0.ln1.weight']['weight_decay'] == 0
    assert groups['neck.step_emb.frame_embed']['weight_decay'] == 0
    assert groups['backbone.layers.0.attn.qkv.weight']['weight_decay'] > 0


def with_cameras(camids, num_clips=1):
    return [
        DataSample(metainfo=dict(camid=c, num_clips=num_clips,
                                 clip_len=T)).set_gt_label(i)
        for i, c in enumerate(camids)
    ]


@pytest.mark.slow  # a ViT forward
def test_camera_embedding_takes_each_samples_camid():
    cfg = load_cfg(
        DENSEIL_VIT, **{
            'model.backbone.type': 'CameraAwareViT',
            'model.backbone.num_cameras': 6,
            'model.clips_per_forward': 3
        })
    model = build(cfg)
    model.set_train_stage(2)
    # Two tracklets of two clips each: the same frames, seen by cameras.
    clip = torch.rand(1, T, 3, H, W)
    clips = clip.expand(4, -1, -1, -1, -1)
    with torch.no_grad():
        feats = [
            s.pred_feature
            for s in model.predict(clips, with_cameras([0, 5], 2))
        ]
        same = [
            s.pred_feature
            for s in model.predict(clips, with_cameras([5, 5], 2))
        ]
        single = model.extract_feat(clip, torch.tensor([5]))[0]
    assert not torch.allclose(feats[0], feats[1])
    torch.testing.assert_close(same[0], same[1])
    torch.testing.assert_close(feats[1], same[0])
    torch.testing.assert_close(feats[1], single)
    # Training reads camid as well.
    model.train()
    losses = model.loss(torch.rand(2, T, 3, H, W), with_cameras([1, 2]))
    assert torch.isfinite(losses['loss_ce'])
    with pytest.raises(KeyError, match=r"samples \[0\] have no 'camid'"):
        model.predict(clips[:1], [DataSample()])
    with pytest.raises(ValueError, match='needs the camera id'):
        model.extract_feat(clip)


def synthetic_clips(pids, seed, num_ids=6):
    """Clips of ``num_ids`` persons (4 coloured bands each) under noise."""
    palette = np.random.default_rng(0).uniform(0, 255, (num_ids, 4, 3))
    rng = np.random.default_rng(seed)
    frames = palette[pids].repeat(16, axis=1)[:, None, :, None]  # N,1,64,1,3
    frames = frames + rng.normal(0, 40, (len(pids), 3, 64, 32, 3))
    frames += rng.uniform(-40, 40, (len(pids), 1, 1, 1, 3))  # illumination
    clips = torch.from_numpy(frames.clip(0, 255).astype(np.uint8))
    return list(clips.permute(0, 1, 4, 2, 3))  # (3, 3, 64, 32) each


@pytest.mark.slow
def test_demo_vit_learns():
    cfg = Config.fromfile(str(CONFIG_DIR / 'demo/denseil_vit-tiny_demo.py'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    pids = np.repeat(np.arange(6), 4)[:16]  # 4 persons x 4 clips a batch
    losses = []
    for step in range(40):
        ids = (pids + step) % 6
        batch = dict(
            inputs=synthetic_clips(ids, seed=step),
            data_samples=[
                DataSample(metainfo=dict(clip_len=3)).set_gt_label(int(i))
                for i in ids
            ])
        model.train()
        losses.append(model.train_step(batch, optim)['loss'].item())
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5]), losses
    model.eval()
    gallery_ids, query_ids = np.arange(6).repeat(3), np.arange(6)
    with torch.no_grad():
        feats = [
            model.extract_feat(
                model.data_preprocessor(
                    dict(
                        inputs=synthetic_clips(ids, seed=100 + k),
                        data_samples=[
                            DataSample(metainfo=dict(clip_len=3)) for _ in ids
                        ]))['inputs'])
            for k, ids in enumerate((query_ids, gallery_ids))
        ]
    q, g = (torch.nn.functional.normalize(f, dim=1) for f in feats)
    res = evaluate_rank((1 - q @ g.T).numpy(), query_ids, gallery_ids,
                        np.zeros(6), np.ones(18))
    # Chance is about 0.3 (3 of 18 gallery clips match a query).
    assert res['mAP'] > 0.8, res['mAP']

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Every shipped config loads, builds its model, hooks, evaluator and data
pipelines (random init, no downloads, no datasets), and inherits as
documented."""
import copy
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml
from mmcv.transforms import Compose
from mmengine.config import Config

from mmreid_video.registry import HOOKS, METRICS, TRANSFORMS

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / 'configs'
SHIPPED = sorted(
    p for p in CONFIG_DIR.rglob('*.py') if '_base_' not in p.parts)
DENSEIL_MARS = CONFIG_DIR / 'denseil' / 'denseil_r50_mars.py'
# Training identities per benchmark (SPEC Table 1; LS-VID: its paper;
# PRID-2011: half of the 178 persons): the classifier width.
NUM_IDS = {
    'mars': 625,
    'dukev': 702,
    'ilidsvid': 150,
    'lsvid': 842,
    'prid2011': 89
}
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def config_id(path: Path) -> str:
    return str(path.relative_to(CONFIG_DIR))


def write_tracklet(root: Path, num_frames: int = 11) -> list:
    """A tiny tracklet on disk (64 x 32 JPEG frames)."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(num_frames):
        path = root / f'0001C1T0001F{i + 1:03d}.jpg'
        cv2.imwrite(
            str(path), rng.integers(0, 256, (64, 32, 3), dtype=np.uint8))
        paths.append(str(path))
    return paths


def test_configs_are_shipped():
    names = {config_id(p) for p in SHIPPED}
    for ds in NUM_IDS:
        assert f'baseline/baseline_r50_{ds}.py' in names
        assert f'denseil/denseil_r50_{ds}.py' in names


def test_model_index_lists_every_config_of_its_folders():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    for metafile in index['Import']:
        meta = yaml.safe_load((REPO / metafile).read_text())
        listed = {m['Config'] for m in meta['Models']}
        folder = Path(metafile).parent
        shipped = {str(folder / p.name) for p in (REPO / folder).glob('*.py')}
        assert listed == shipped, metafile
        collections = {c['Name'] for c in meta['Collections']}
        assert all(m['In Collection'] in collections for m in meta['Models'])


@pytest.mark.parametrize('path', SHIPPED, ids=config_id)
def test_config_builds(path, build_model):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmreid_video'
    model = build_model(cfg)
    assert model.backbone is not None and model.head is not None
    ds = osp.splitext(path.name)[0].rsplit('_', 1)[-1]
    if ds in NUM_IDS:
        assert model.head.num_classes == NUM_IDS[ds]
        if hasattr(model, 'encoder_head'):  # DenseIL's stage-1 head
            assert model.encoder_head.num_classes == NUM_IDS[ds]
    for hook in cfg.get('custom_hooks', []):
        HOOKS.build(copy.deepcopy(hook))
    for hook in cfg.get('default_hooks', {}).values():
        if hook is not None:
            HOOKS.build(copy.deepcopy(hook))
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key) is not None:
            METRICS.build(copy.deepcopy(cfg[key]))


@pytest.mark.parametrize('path', SHIPPED, ids=config_id)
def test_config_pipelines_run(path, tmp_path):
    """Each pipeline entry is registered, and every pipeline turns a small
    on-disk tracklet into a packed (N, 3, H, W) uint8 input."""
    cfg = Config.fromfile(str(path))
    frames = write_tracklet(tmp_path)
    for key in DATALOADERS:
        dataset = cfg[key].dataset
        is_train = key == 'train_dataloader'
        for transform in dataset.pipeline:
            assert TRANSFORMS.get(transform['type']) is not None, transform
        # Frames are resized while loading (LoadFrames.scale) or after.
        scales = [
            t['scale'] for t in dataset.pipeline
            if t['type'] in ('LoadFrames', 'ClipResize') and t.get('scale')
        ]
        assert scales, f'{key}: no resize'
        width, height = scales[-1]
        pipeline = Compose(copy.deepcopy(dataset.pipeline))
        info = dict(
            frame_paths=frames,
            pid=3,
            camid=0,
            tracklet_id='0001C1T0001',
            sample_idx=0)
        if not is_train:
            info.update(is_query=True, is_gallery=True)
        packed = pipeline(info)
        inputs, sample = packed['inputs'], packed['data_samples']
        clip_len = sample.metainfo['clip_len']
        assert inputs.dtype == torch.uint8
        assert inputs.shape[1:] == (3, height, width), key
        assert inputs.shape[0] == clip_len * sample.metainfo['num_clips']
        if is_train:
            assert sample.metainfo['num_clips'] == 1
            assert int(sample.gt_label) == 3
        elif dataset.pipeline[0]['type'] == 'AllFramesSample':
            # All-frames protocol: consecutive chunks cover every frame.
            assert sample.metainfo['num_clips'] == -(-len(frames) // clip_len)


def write_child(tmp_path: Path, base: Path, body: str) -> str:
    path = tmp_path / 'child.py'
    path.write_text(f'_base_ = [{str(base)!r}]\n{body}')
    return str(path)


def test_override_num_classes_keeps_the_rest(tmp_path, build_model):
    base = CONFIG_DIR / 'baseline' / 'baseline_r50_mars.py'
    child = Config.fromfile(
        write_child(tmp_path, base, 'model = dict(head=dict(num_classes=7))'))
    parent = Config.fromfile(str(base))
    assert child.model.head.num_classes == 7
    assert build_model(child).head.classifier.out_features == 7
    # A nested override merges: the rest of the head and model is inherited.
    child.model.head.num_classes = parent.model.head.num_classes
    assert child.model.to_dict() == parent.model.to_dict()


@pytest.mark.slow  # full-size models
def test_override_backbone_depth_and_cfg_options(tmp_path, build_model):
    base = CONFIG_DIR / 'baseline' / 'baseline_r50_dukev.py'
    cfg = Config.fromfile(
        write_child(
            tmp_path, base, 'model = dict(backbone=dict(depth=18), '
            'head=dict(in_channels=512))'))
    assert cfg.model.backbone.depth == 18
    # Untouched backbone keys (last stride 1, ImageNet weights) survive.
    assert cfg.model.backbone.strides == (1, 2, 2, 1)
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    assert cfg.model.head.num_classes == 702
    # What `--cfg-options` does on the command line.
    cfg.merge_from_dict({
        'model.head.num_classes': 5,
        'train_dataloader.dataset.data_root': '/data/duke'
    })
    assert cfg.train_dataloader.dataset.data_root == '/data/duke'
    assert cfg.train_dataloader.dataset.split == 'train'
    model = build_model(cfg).eval()
    with torch.no_grad():
        feat = model.extract_feat(torch.rand(2, 2, 3, 64, 32))
    assert feat.shape == (2, 512)
    assert model.head.classifier.out_features == 5


@pytest.mark.slow  # full-size models
def test_denseil_backbone_swap_needs_backbone_and_neck_only(
        tmp_path, build_model):
    """The extension contract: a config inheriting denseil_r50_mars.py
    changes only the backbone dict and the neck's per-block channels."""
    cfg = Config.fromfile(
        write_child(
            tmp_path, DENSEIL_MARS, 'model = dict(\n'
            "    backbone=dict(type='mmpretrain.ResNet', depth=18, "
            'init_cfg=None),\n'
            '    neck=dict(in_channels=[64, 128, 256, 512]))'))
    model = build_model(cfg).eval()
    clips = torch.rand(2, 4, 3, 64, 32)
    # Both branches fit the new widths: stage 1 (encoder: backbone ->
    # temporal pooling -> BNNeck) and stage 2 (backbone -> DI decoder ->
    # BNNeck).
    for stage, dims in ((1, 512), (2, cfg.model.neck.embed_dims)):
        model.set_train_stage(stage)
        with torch.no_grad():
            feat = model.extract_feat(clips)
        assert feat.shape == (2, dims), f'stage {stage}'
        assert torch.isfinite(feat).all()

# Copyright (c) mmreid_video contributors. All rights reserved.
"""The configs shipped under projects/ build (random init) and run a tiny
forward through both DenseIL branches, changing only what a backbone swap
needs. A config a user adds under projects/ is not held to these promises."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
# The shipped project configs: each promises to swap only the backbone of
# the DenseIL config. Checked by name, so a user's own config under projects/
# (e.g. with channels_last=True) is not tested against these promises.
SHIPPED = [
    'example_backbone/configs/denseil_tinystagenet_mars.py',
    'mmpretrain_backbones/configs/denseil_r101_mars.py',
    'mmpretrain_backbones/configs/denseil_rx50_mars.py',
    'mmpretrain_backbones/configs/denseil_convnext-t_mars.py',
    'mmpretrain_backbones/configs/denseil_swin-t_mars.py',
]
PROJECT_CONFIGS = [REPO / 'projects' / name for name in SHIPPED]
DENSEIL_MARS = REPO / 'configs' / 'denseil' / 'denseil_r50_mars.py'
# What a backbone swap may change in the inherited DenseIL model.
SWAP_KEYS = ('backbone', 'neck')
# Stride-32 backbones need 128 rows for 4 stripes on their last 4x2 map.
INPUT_HW = {
    'denseil_convnext-t_mars.py': (128, 64),
    'denseil_swin-t_mars.py': (128, 64),
}


def config_id(path: Path) -> str:
    return str(path.relative_to(REPO / 'projects'))


@pytest.fixture(autouse=True)
def repo_on_path(monkeypatch):
    # `custom_imports = ['projects.<name>....']` imports from the repo root,
    # as `PYTHONPATH=$PWD python tools/train.py ...` does.
    monkeypatch.syspath_prepend(str(REPO))


def test_projects_ship_configs():
    names = {config_id(p) for p in (REPO / 'projects').glob('*/configs/*.py')}
    assert 'example_backbone/configs/denseil_tinystagenet_mars.py' in names
    for arch in ('r101', 'rx50', 'convnext-t', 'swin-t'):
        assert (f'mmpretrain_backbones/configs/denseil_{arch}_mars.py'
                in names)


# Builds full-size backbones (ConvNeXt-T, ResNet-101, Swin-T, ...).
@pytest.mark.slow
@pytest.mark.parametrize('path', PROJECT_CONFIGS, ids=config_id)
def test_project_config_swaps_backbone_only(path, build_model):
    cfg = Config.fromfile(str(path))
    parent = Config.fromfile(str(DENSEIL_MARS))
    for key in set(cfg.model) | set(parent.model):
        if key not in SWAP_KEYS:
            assert cfg.model.get(key) == parent.model.get(key), key
    # Within the neck only the per-block widths change.
    neck, parent_neck = dict(cfg.model.neck), dict(parent.model.neck)
    neck.pop('in_channels')
    parent_neck.pop('in_channels')
    assert neck == parent_neck

    model = build_model(cfg).eval()
    torch.manual_seed(0)
    clips = torch.rand(1, 2, 3, *INPUT_HW.get(path.name, (64, 32)))
    # The heads' widths follow the neck: last block / decoder width.
    widths = (cfg.model.neck.in_channels[-1], cfg.model.neck.embed_dims)
    for stage, width in zip((1, 2), widths):
        model.set_train_stage(stage)
        with torch.no_grad():
            feat = model.extract_feat(clips)
        assert feat.shape == (1, width), f'stage {stage}'
        assert torch.isfinite(feat).all()


def test_example_backbone_registered_by_custom_imports():
    from mmreid_video.registry import MODELS
    Config.fromfile(
        str(REPO / 'projects/example_backbone/configs/'
            'denseil_tinystagenet_mars.py'))
    from projects.example_backbone.mmreid_example import TinyStageNet
    assert MODELS.get('TinyStageNet') is TinyStageNet

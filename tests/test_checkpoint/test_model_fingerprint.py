# Copyright (c) mmreid_video contributors. All rights reserved.
"""Weights of another architecture with the same names and shapes are
refused where they are loaded (issue 23)."""
import pytest
import torch
from fixture_models import tiny_denseil_cfg, tiny_video_reid_cfg
from mmengine.config import Config

from mmreid_video.apis import init_model
from mmreid_video.checkpoint import architecture_meta, check_same_architecture
from mmreid_video.checkpoint.model_fingerprint import architecture
from mmreid_video.registry import MODELS


def _checkpoint(tmp_path, cfg, meta):
    path = tmp_path / 'model.pth'
    torch.save(
        dict(state_dict=MODELS.build(cfg).state_dict(), meta=meta), path)
    return str(path)


def test_architecture_drops_training_only_settings():
    cfg = tiny_video_reid_cfg(
        clips_per_forward=8,
        backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='x')))
    cfg['head']['loss_ce'] = dict(type='CrossEntropyLoss')
    cfg['type'] = 'mmreid_video.VideoReID'
    arch = architecture(cfg)
    assert arch['type'] == 'VideoReID'
    assert 'clips_per_forward' not in arch
    assert 'init_cfg' not in arch['backbone']
    assert 'loss_ce' not in arch['head']
    assert arch['backbone']['strides'] == [1, 2, 2, 1]  # tuples as lists
    assert architecture_meta(cfg)['model_fingerprint'] == architecture_meta(
        tiny_video_reid_cfg())['model_fingerprint']


@pytest.mark.slow  # two models, a checkpoint
@pytest.mark.parametrize('saved', ['fingerprint', 'config text'])
def test_other_variant_with_the_same_shapes_is_refused(tmp_path, saved):
    dense = tiny_denseil_cfg(neck=dict(variant='dense'))
    meta = (
        architecture_meta(dense) if saved == 'fingerprint' else dict(
            cfg=Config(dict(model=dense)).pretty_text))
    path = _checkpoint(tmp_path, dense, meta)
    init_model(Config(dict(model=tiny_denseil_cfg())), path)  # the default
    vanilla = Config(
        dict(model=tiny_denseil_cfg(neck=dict(variant='vanilla'))))
    with pytest.raises(RuntimeError) as info:
        init_model(vanilla, path)
    msg = str(info.value)
    assert f'Checkpoint {path} was trained with another model ' in msg
    assert "model.neck.variant: 'dense' -> 'vanilla'" in msg
    vanilla.allow_partial_load = True
    init_model(vanilla, path)  # on purpose: a warning only


def test_defaults_spelled_out_are_the_same_model(tmp_path):
    explicit = tiny_denseil_cfg(
        neck=dict(variant='dense', ffn_ratio=4), two_stage=True)
    path = _checkpoint(tmp_path, explicit, architecture_meta(explicit))
    init_model(Config(dict(model=tiny_denseil_cfg())), path)


def test_unrecorded_checkpoint_loads_with_a_warning(tmp_path, caplog):
    model = MODELS.build(tiny_video_reid_cfg())
    records = []
    logger = type('L', (), {'warning': lambda self, m: records.append(m)})()
    check_same_architecture(
        model.build_cfg, dict(state_dict={}), 'w.pth', logger=logger)
    assert records and 'w.pth records no model config' in records[0]
    # A model built from modules has no config to compare: no check.
    check_same_architecture(None, dict(meta={}), 'w.pth', logger=logger)
    assert len(records) == 1

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Weights of another model are refused unless partial loading is asked."""
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import save_checkpoint
from torch import nn

from mmreid_video.apis import init_model
from mmreid_video.checkpoint import check_weights_match, load_model_weights


class _Net(nn.Module):

    def __init__(self, out=2, extra=False):
        super().__init__()
        self.fc = nn.Linear(4, out)
        self.bn = nn.BatchNorm1d(out)
        if extra:
            self.proj = nn.Linear(out, 3)


def test_matching_checkpoint_loads(tmp_path):
    src, dst = _Net(), _Net()
    save_checkpoint(
        {
            'state_dict':
            {f'module.{k}': v
             for k, v in src.state_dict().items()}
        }, str(tmp_path / 'a.pth'))
    ckpt = load_model_weights(dst, str(tmp_path / 'a.pth'))
    assert 'state_dict' in ckpt
    assert torch.equal(dst.fc.weight, src.fc.weight)


def test_missing_unexpected_and_reshaped_keys_are_named(tmp_path):
    path = str(tmp_path / 'other.pth')
    save_checkpoint({'state_dict': _Net(out=5).state_dict()}, path)
    model = _Net(extra=True)
    before = model.fc.weight.clone()
    with pytest.raises(RuntimeError) as info:
        load_model_weights(model, path)
    msg = str(info.value)
    assert msg.startswith(f'Checkpoint {path} does not fit the model _Net: ')
    assert "2 of the model's 9 keys are missing from it " \
        '(proj.weight, proj.bias)' in msg
    assert 'fc.weight: checkpoint (5, 4) vs model (2, 4)' in msg
    assert '`allow_partial_load = True`' in msg
    assert torch.equal(model.fc.weight, before)  # nothing was loaded

    save_checkpoint({'state_dict': {'head.w': torch.ones(1)}}, path)
    with pytest.raises(
            RuntimeError,
            match=r'1 of its keys are unknown to the model '
            r'\(head.w\)'):
        load_model_weights(_Net(), path)


def test_partial_loading_on_request(tmp_path):
    path = str(tmp_path / 'backbone_only.pth')
    src = _Net()
    save_checkpoint({'state_dict': {'fc.weight': src.fc.weight}}, path)
    model = _Net(extra=True)
    load_model_weights(model, path, allow_partial=True)
    assert torch.equal(model.fc.weight, src.fc.weight)


def test_state_dict_must_hold_tensors():
    with pytest.raises(
            TypeError,
            match="entry 'fc.weight' of its weights "
            'is a list, not a tensor'):
        check_weights_match(_Net(), {'state_dict': {'fc.weight': [1]}}, 'f')
    with pytest.raises(TypeError, match='"state_dict" is a str'):
        check_weights_match(_Net(), {'state_dict': 'x'}, 'f')


def _head_config(num_classes):
    """A registered model small enough to build in milliseconds."""
    return Config(
        dict(
            default_scope='mmreid_video',
            model=dict(
                type='BNNeckHead', in_channels=8, num_classes=num_classes)))


def test_init_model_refuses_another_model(tmp_path):
    path = str(tmp_path / 'four_ids.pth')
    save_checkpoint({'state_dict': init_model(_head_config(4)).state_dict()},
                    path)
    init_model(_head_config(4), path)
    with pytest.raises(
            RuntimeError,
            match='classifier.weight: checkpoint '
            r'\(4, 8\) vs model \(6, 8\)'):
        init_model(_head_config(6), path)
    cfg = _head_config(6)
    cfg.allow_partial_load = True
    init_model(cfg, path)


def test_mismatch_names_the_training_config_copy(tmp_path):
    """The copy whose text the checkpoint records is named; other copies
    (e.g. a test run's) are not."""
    trained = "model = dict(head=dict(num_classes=8))\n"
    (tmp_path / 'cfg.py').write_text(trained.replace('8', '4'))
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    (run / 'config.py').write_text(trained)
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint(
        {
            'state_dict': _Net(out=5).state_dict(),
            'meta': dict(cfg=trained)
        }, path)
    with pytest.raises(RuntimeError) as info:
        load_model_weights(_Net(), path)
    assert (f'It was trained with the config copy {run / "config.py"} '
            in str(info.value))
    (run / 'config.py').unlink()
    with pytest.raises(RuntimeError, match='no copy of it is next to it'):
        load_model_weights(_Net(), path)

# Copyright (c) mmreid_video contributors. All rights reserved.
import copy

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS, TRANSFORMS


def build(**kwargs):
    init_default_scope('mmreid_video')
    return TRANSFORMS.build(dict(type='PackReIDInputs', **kwargs))


def results_dict(num=8, **extra):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (num, 6, 4, 3), dtype=np.uint8)
    return dict(
        imgs=imgs,
        pid=5,
        camid=2,
        tracklet_id='0005C3T0002',
        sample_idx=7,
        num_clips=num // 4,
        clip_len=4,
        frame_inds=np.arange(num),
        **extra)


def test_pack_train():
    results = results_dict()
    packed = build()(copy.deepcopy(results))
    assert set(packed) == {'inputs', 'data_samples'}
    inputs = packed['inputs']
    assert inputs.dtype == torch.uint8 and inputs.shape == (8, 3, 6, 4)
    assert inputs.is_contiguous()
    np.testing.assert_array_equal(inputs.numpy(),
                                  results['imgs'].transpose(0, 3, 1, 2))
    sample = packed['data_samples']
    assert sample.gt_label.tolist() == [5]
    assert sample.metainfo == dict(
        pid=5,
        camid=2,
        tracklet_id='0005C3T0002',
        sample_idx=7,
        num_clips=2,
        clip_len=4)


def test_pack_test_sample_without_label():
    results = results_dict(is_query=True, is_gallery=False)
    sample = build(with_label=False)(results)['data_samples']
    assert 'gt_label' not in sample
    assert sample.is_query is True and sample.is_gallery is False
    assert sample.pid == 5
    sample = build(meta_keys=('pid',
                              'frame_inds'))(results_dict())['data_samples']
    assert set(sample.metainfo) == {'pid', 'frame_inds'}


def test_pack_errors_and_repr():
    results = results_dict()
    del results['pid']
    with pytest.raises(KeyError, match="needs the key 'pid'"):
        build()(results)
    with pytest.raises(ValueError, match='imgs must be a uint8 array'):
        build()(dict(imgs=np.zeros((2, 4, 4, 3), np.float32), pid=1))
    with pytest.raises(TypeError, match='meta_keys must be'):
        build(meta_keys='pid')
    with pytest.raises(TypeError, match='with_label must be'):
        build(with_label=1)
    assert repr(build(meta_keys=('pid', ), with_label=False)) == (
        "PackReIDInputs(meta_keys=('pid',), with_label=False)")


def test_train_and_test_pipelines_feed_the_data_preprocessor(tmp_path):
    """Pipeline output, collated, goes through ReIDDataPreprocessor."""
    init_default_scope('mmreid_video')
    paths = []
    for i in range(11):
        paths.append(str(tmp_path / f'{i:04d}.jpg'))
        cv2.imwrite(paths[-1], np.full((64, 32, 3), 20 * i, np.uint8))
    train = Compose([
        TRANSFORMS.build(cfg)
        for cfg in (dict(type='RestrictedRandomSample', clip_len=4),
                    dict(type='LoadFrames', scale=(16, 32)),
                    dict(type='ClipResize', scale=(16, 32)),
                    dict(type='FrameRandomFlip', prob=0.5),
                    dict(type='SequenceRandomErasing', prob=0.5),
                    dict(type='PackReIDInputs'))
    ])
    test = Compose([
        TRANSFORMS.build(cfg)
        for cfg in (dict(type='AllFramesSample', clip_len=4),
                    dict(type='LoadFrames', scale=(16, 32)),
                    dict(type='PackReIDInputs', with_label=False))
    ])
    preprocessor = MODELS.build(dict(type='ReIDDataPreprocessor'))
    info = dict(frame_paths=paths, pid=1, camid=0, tracklet_id='t')
    batch = pseudo_collate([train(dict(info)), train(dict(info))])
    out = preprocessor(batch, training=True)
    assert out['inputs'].shape == (2, 4, 3, 32, 16)
    assert out['inputs'].dtype == torch.float32
    batch = pseudo_collate([
        test(dict(info, is_query=True, is_gallery=True)),
        test(
            dict(info, frame_paths=paths[:3], is_query=False, is_gallery=True))
    ])
    out = preprocessor(batch)
    # ceil(11 / 4) + ceil(3 / 4) chunks.
    assert out['inputs'].shape == (3 + 1, 4, 3, 32, 16)

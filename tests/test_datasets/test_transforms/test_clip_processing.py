# Copyright (c) mmreid_video contributors. All rights reserved.
import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmreid_video.registry import TRANSFORMS


def build(type_, **kwargs):
    init_default_scope('mmreid_video')
    return TRANSFORMS.build(dict(type=type_, **kwargs))


def random_clip(num=8, height=32, width=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (num, height, width, 3), dtype=np.uint8)


def test_clip_resize():
    resize = build('ClipResize', scale=(8, 16))
    assert repr(resize) == (
        "ClipResize(scale=(8, 16), interpolation='bilinear')")
    imgs = random_clip()
    out = resize(dict(imgs=imgs.copy(), img_shape=(32, 16)))
    assert out['imgs'].shape == (8, 16, 8, 3) and out['imgs'].dtype == np.uint8
    assert out['img_shape'] == (16, 8)
    # Each frame equals an OpenCV bilinear resize of it.
    for i in (0, 3, 7):
        np.testing.assert_array_equal(
            out['imgs'][i],
            cv2.resize(imgs[i], (8, 16), interpolation=cv2.INTER_LINEAR))
    # Already at the target size: the very same array comes back.
    same = out['imgs']
    assert resize(dict(imgs=same))['imgs'] is same
    with pytest.raises(ValueError, match='scale must be'):
        build('ClipResize', scale=(8, ))
    with pytest.raises(ValueError, match='interpolation must be'):
        build('ClipResize', scale=(8, 16), interpolation='cubic')


def test_frame_flip_matches_mask():
    flip = build('FrameRandomFlip', prob=0.5)
    assert repr(flip) == 'FrameRandomFlip(prob=0.5)'
    imgs = random_clip()
    out = flip(dict(imgs=imgs.copy()))
    mask = out['flip']
    assert mask.shape == (8, ) and mask.dtype == bool
    for i in range(8):
        expected = imgs[i, :, ::-1] if mask[i] else imgs[i]
        np.testing.assert_array_equal(out['imgs'][i], expected)
    # A non-contiguous clip (a view) is flipped correctly too.
    view = imgs[:, ::2]
    out = build('FrameRandomFlip', prob=1.0)(dict(imgs=view))
    np.testing.assert_array_equal(out['imgs'], view[:, :, ::-1])


def test_frame_flip_independent_per_frame():
    flip = build('FrameRandomFlip', prob=0.5)
    np.random.seed(0)
    masks = np.stack(
        [flip(dict(imgs=random_clip(8, 4, 4)))['flip'] for _ in range(300)])
    per_clip = masks.sum(axis=1)
    # Mixed clips (some frames flipped, some not) are the majority: with
    # independent flips P(mixed) = 1 - 2 / 2**8.
    assert (per_clip % 8 != 0).mean() > 0.9
    assert abs(masks.mean() - 0.5) < 0.05
    # Frames are not correlated with one another.
    corr = np.corrcoef(masks.T.astype(float))[np.triu_indices(8, 1)]
    assert np.abs(corr).max() < 0.25
    for prob, expected in ((0.0, False), (1.0, True)):
        out = build('FrameRandomFlip', prob=prob)(dict(imgs=random_clip()))
        assert np.all(out['flip'] == expected)
    with pytest.raises(ValueError, match='prob must be in'):
        build('FrameRandomFlip', prob=1.5)


def test_erasing_same_rectangle_in_every_frame():
    erase = build('SequenceRandomErasing', prob=1.0)
    np.random.seed(1)
    for _ in range(50):
        imgs = random_clip(8, 64, 32)
        out = erase(dict(imgs=imgs.copy()))
        x1, y1, x2, y2 = out['erase_bbox']
        assert 0 <= x1 < x2 <= 32 and 0 <= y1 < y2 <= 64
        area = (x2 - x1) * (y2 - y1) / (64 * 32)
        assert 0.01 < area < 0.45  # (0.02, 0.4) up to rounding
        region = out['imgs'][:, y1:y2, x1:x2]
        assert np.all(region == np.array([124, 116, 104], np.uint8))
        # Outside the rectangle nothing changes.
        mask = np.ones((64, 32), bool)
        mask[y1:y2, x1:x2] = False
        np.testing.assert_array_equal(out['imgs'][:, mask], imgs[:, mask])


def test_erasing_random_fill_and_probability():
    erase = build('SequenceRandomErasing', prob=1.0, mode='rand')
    out = erase(dict(imgs=random_clip(8, 64, 32)))
    x1, y1, x2, y2 = out['erase_bbox']
    region = out['imgs'][:, y1:y2, x1:x2]
    # Per-pixel noise, identical in every frame of the clip.
    assert np.all(region == region[0])
    assert len(np.unique(region[0])) > 10
    erase = build('SequenceRandomErasing', prob=0.3, fill_color=0)
    np.random.seed(2)
    boxes = [
        erase(dict(imgs=random_clip(2, 16, 8)))['erase_bbox']
        for _ in range(1000)
    ]
    rate = np.mean([b is not None for b in boxes])
    assert 0.25 < rate < 0.35
    imgs = random_clip()
    out = build('SequenceRandomErasing', prob=0.0)(dict(imgs=imgs.copy()))
    assert out['erase_bbox'] is None
    np.testing.assert_array_equal(out['imgs'], imgs)


def test_erasing_args_and_repr():
    assert repr(build('SequenceRandomErasing')) == (
        'SequenceRandomErasing(prob=0.5, area_range=(0.02, 0.4), '
        "aspect_range=(0.3, 3.33), mode='const', fill_color=(124, 116, 104))")
    bad = [
        dict(prob=-0.1),
        dict(area_range=(0.4, 0.02)),
        dict(area_range=(0.0, 0.4)),
        dict(area_range=(0.1, 1.5)),
        dict(aspect_range=(3, 0.3)),
        dict(mode='random'),
        dict(fill_color=(1, 2)),
        dict(fill_color=256)
    ]
    for kwargs in bad:
        with pytest.raises(ValueError, match='SequenceRandomErasing'):
            build('SequenceRandomErasing', **kwargs)


def test_pad_crop_shifts_whole_clip():
    crop = build('ClipPadCrop', padding=3)
    assert repr(crop) == 'ClipPadCrop(padding=3, pad_val=0)'
    np.random.seed(0)
    imgs = random_clip(4, 20, 10).clip(1, 255)  # keep 0 for padding only
    shifts = set()
    for _ in range(100):
        out = crop(dict(imgs=imgs.copy()))['imgs']
        assert out.shape == imgs.shape
        found = None
        for dy in range(-3, 4):
            for dx in range(-3, 4):
                ref = np.zeros_like(imgs)
                ref[:, max(-dy, 0):20 - max(dy, 0),
                    max(-dx, 0):10 - max(dx, 0)] = \
                    imgs[:, max(dy, 0):20 + min(dy, 0),
                         max(dx, 0):10 + min(dx, 0)]
                if np.array_equal(out, ref):
                    found = (dy, dx)
        assert found is not None
        shifts.add(found)
    assert len(shifts) > 20
    with pytest.raises(ValueError, match='padding must be'):
        build('ClipPadCrop', padding=-1)

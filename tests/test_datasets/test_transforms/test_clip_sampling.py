# Copyright (c) mmreid_video contributors. All rights reserved.
import copy

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmreid_video.registry import TRANSFORMS


def build(type_, **kwargs):
    init_default_scope('mmreid_video')
    return TRANSFORMS.build(dict(type=type_, **kwargs))


def tracklet(num_frames):
    return dict(
        frame_paths=[f'f{i:03d}.jpg' for i in range(num_frames)],
        tracklet_id='0001C1T0001')


def chunks(num_frames, clip_len):
    edges = [i * num_frames // clip_len for i in range(clip_len + 1)]
    return list(zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize('name', [
    'RestrictedRandomSample', 'EvenlySample', 'ChunkMiddleSample',
    'AllFramesSample'
])
def test_common(name):
    sampler = build(name, clip_len=4)
    extra = ", last_chunk='weighted'" if name == 'AllFramesSample' else ''
    assert repr(sampler) == f'{name}(clip_len=4{extra})'
    results = tracklet(10)
    inputs = copy.deepcopy(results)
    out = sampler(results)
    assert out['frame_paths'] == inputs['frame_paths']
    assert out['clip_len'] == 4
    assert out['frame_inds'].dtype == np.int64
    assert out['frame_inds'].shape == (out['num_clips'] * 4, )
    assert out['frame_inds'].min() >= 0 and out['frame_inds'].max() <= 9
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match='clip_len must be'):
            build(name, clip_len=bad)
    with pytest.raises(ValueError, match="'0001C1T0001' has no frames"):
        sampler(tracklet(0))
    with pytest.raises(KeyError, match='frame_paths'):
        sampler(dict(tracklet_id='x'))


def test_restricted_random_one_frame_per_chunk_and_coverage():
    sampler = build('RestrictedRandomSample', clip_len=8)
    np.random.seed(0)
    num_frames = 50
    bounds = chunks(num_frames, 8)
    seen = [set() for _ in range(8)]
    for _ in range(2000):
        out = sampler(tracklet(num_frames))
        assert out['num_clips'] == 1
        inds = out['frame_inds']
        assert inds.shape == (8, )
        for i, (start, end) in enumerate(bounds):
            assert start <= inds[i] < end
            seen[i].add(int(inds[i]))
    # Every frame of every chunk is drawn at some point.
    for i, (start, end) in enumerate(bounds):
        assert seen[i] == set(range(start, end))


def test_restricted_random_uniform_within_chunk():
    sampler = build('RestrictedRandomSample', clip_len=2)
    np.random.seed(0)
    draws = np.stack([sampler(tracklet(8))['frame_inds'] for _ in range(4000)])
    counts = np.bincount(draws[:, 0], minlength=4)
    assert counts.sum() == 4000 and np.all(np.abs(counts - 1000) < 150)
    assert set(np.unique(draws[:, 1])) == {4, 5, 6, 7}


def test_restricted_random_reproducible_with_numpy_seed():
    sampler = build('RestrictedRandomSample', clip_len=8)
    np.random.seed(3)
    first = [sampler(tracklet(100))['frame_inds'] for _ in range(5)]
    np.random.seed(3)
    second = [sampler(tracklet(100))['frame_inds'] for _ in range(5)]
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(
    'name', ['RestrictedRandomSample', 'ChunkMiddleSample', 'EvenlySample'])
def test_short_tracklets_repeat_in_order(name):
    sampler = build(name, clip_len=8)
    np.testing.assert_array_equal(
        sampler(tracklet(1))['frame_inds'], np.zeros(8))
    np.testing.assert_array_equal(
        sampler(tracklet(8))['frame_inds'], np.arange(8))
    inds = sampler(tracklet(3))['frame_inds']
    assert set(inds.tolist()) == {0, 1, 2}
    assert np.all(np.diff(inds) >= 0)
    if name != 'EvenlySample':
        np.testing.assert_array_equal(inds, [0, 0, 0, 1, 1, 1, 2, 2])


def test_chunk_middle_exact():
    sampler = build('ChunkMiddleSample', clip_len=4)
    np.testing.assert_array_equal(
        sampler(tracklet(12))['frame_inds'], [1, 4, 7, 10])
    np.testing.assert_array_equal(
        sampler(tracklet(10))['frame_inds'], [0, 3, 5, 8])


def test_evenly_exact():
    sampler = build('EvenlySample', clip_len=4)
    np.testing.assert_array_equal(
        sampler(tracklet(10))['frame_inds'], [0, 3, 6, 9])
    np.testing.assert_array_equal(
        sampler(tracklet(3))['frame_inds'], [0, 1, 1, 2])


@pytest.mark.parametrize('num_frames', [1, 3, 8, 13, 16, 17, 100])
def test_all_frames_covers_every_frame_once(num_frames):
    clip_len = 8
    out = build('AllFramesSample', clip_len=clip_len)(tracklet(num_frames))
    num_clips = -(-num_frames // clip_len)
    assert out['num_clips'] == num_clips
    inds = out['frame_inds']
    assert inds.shape == (num_clips * clip_len, )
    # Consecutive chunks: every frame exactly once, then padding by the
    # last frame.
    np.testing.assert_array_equal(inds[:num_frames], np.arange(num_frames))
    assert np.all(inds[num_frames:] == num_frames - 1)


@pytest.mark.parametrize('num_frames', [3, 8, 17, 22])
def test_all_frames_last_chunk_modes(num_frames):
    clip_len = 8
    num_clips = -(-num_frames // clip_len)
    padded = np.minimum(np.arange(num_clips * clip_len), num_frames - 1)
    pad = build('AllFramesSample', clip_len=clip_len, last_chunk='pad')
    out = pad(tracklet(num_frames))
    np.testing.assert_array_equal(out['frame_inds'], padded)
    assert 'frame_valid' not in out
    # 'weighted': padded alike, the padding marked invalid.
    weighted = build(
        'AllFramesSample', clip_len=clip_len)(
            tracklet(num_frames))
    np.testing.assert_array_equal(weighted['frame_inds'], padded)
    valid = weighted['frame_valid']
    assert valid.dtype == np.bool_ and valid.shape == padded.shape
    assert valid[:num_frames].all() and not valid[num_frames:].any()
    out = build(
        'AllFramesSample', clip_len=clip_len, last_chunk='overlap')(
            tracklet(num_frames))
    assert 'frame_valid' not in out
    if num_frames < clip_len:  # one chunk: padded like 'pad'
        np.testing.assert_array_equal(out['frame_inds'], padded)
    else:  # the last T real frames, every frame covered
        np.testing.assert_array_equal(out['frame_inds'][:-clip_len],
                                      padded[:-clip_len])
        np.testing.assert_array_equal(
            out['frame_inds'][-clip_len:],
            np.arange(num_frames - clip_len, num_frames))
    with pytest.raises(ValueError, match='last_chunk must be one of'):
        build('AllFramesSample', last_chunk='drop')
    assert repr(pad) == "AllFramesSample(clip_len=8, last_chunk='pad')"


def test_all_frames_cycle_pads_with_the_chunk_own_frames():
    """TCLNet: the short chunk repeats its own frames in order."""
    cycle = build('AllFramesSample', clip_len=8, last_chunk='cycle')
    out = cycle(tracklet(3))
    np.testing.assert_array_equal(out['frame_inds'], [0, 1, 2, 0, 1, 2, 0, 1])
    out = cycle(tracklet(19))
    assert out['num_clips'] == 3 and 'frame_valid' not in out
    np.testing.assert_array_equal(out['frame_inds'][:16], np.arange(16))
    np.testing.assert_array_equal(out['frame_inds'][16:],
                                  [16, 17, 18, 16, 17, 18, 16, 17])
    np.testing.assert_array_equal(
        cycle(tracklet(16))['frame_inds'], np.arange(16))

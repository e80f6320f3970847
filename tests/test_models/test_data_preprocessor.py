# Copyright (c) mmreid_video contributors. All rights reserved.
from unittest import TestCase

import numpy as np
import torch
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def _sample(clip_len, num_clips=None):
    meta = dict(clip_len=clip_len)
    if num_clips is not None:
        meta['num_clips'] = num_clips
    return DataSample(metainfo=meta).set_gt_label(1)


class TestReIDDataPreprocessor(TestCase):
    DEFAULT_ARGS = dict(type='ReIDDataPreprocessor', mean=MEAN, std=STD)

    def setUp(self):
        init_default_scope('mmreid_video')
        self.pre = MODELS.build(self.DEFAULT_ARGS)

    def test_train_batch_shape_and_values(self):
        frames = [
            torch.randint(0, 256, (4, 3, 8, 6), dtype=torch.uint8)
            for _ in range(3)
        ]
        samples = [_sample(4, 1) for _ in range(3)]
        out = self.pre(dict(inputs=frames, data_samples=samples), True)
        self.assertEqual(out['inputs'].shape, (3, 4, 3, 8, 6))
        self.assertEqual(out['inputs'].dtype, torch.float32)
        self.assertIs(out['data_samples'], samples)
        # Channel c of frame t of sample b = (x - mean[c]) / std[c].
        for c in range(3):
            expected = (frames[1][2, c].float() - MEAN[c]) / STD[c]
            torch.testing.assert_close(out['inputs'][1, 2, c], expected)

    def test_constant_value(self):
        frames = [torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)]
        out = self.pre(dict(inputs=frames, data_samples=[_sample(2)]))
        self.assertAlmostEqual(
            out['inputs'][0, 0, 0, 0, 0].item(), (255 - 123.675) / 58.395,
            places=5)
        self.assertAlmostEqual(
            out['inputs'][0, 1, 2, 3, 3].item(), (255 - 103.53) / 57.375,
            places=5)

    def test_multi_clip_test_batch(self):
        # A 3-clip tracklet followed by a 1-clip tracklet, T=2.
        frames = [
            torch.arange(6, dtype=torch.uint8).view(6, 1, 1,
                                                    1).expand(6, 3, 4,
                                                              2).contiguous(),
            torch.zeros(2, 3, 4, 2, dtype=torch.uint8)
        ]
        samples = [_sample(2, 3), _sample(2, 1)]
        out = self.pre(dict(inputs=frames, data_samples=samples))
        inputs = out['inputs']
        self.assertEqual(inputs.shape, (4, 2, 3, 4, 2))
        # Clip k of the first tracklet holds frames 2k and 2k+1, in order.
        raw = inputs[:3, :, 0, 0, 0] * STD[0] + MEAN[0]
        torch.testing.assert_close(
            raw, torch.arange(6.).view(3, 2), atol=1e-4, rtol=0)

    def test_frame_valid_is_checked_and_kept(self):
        frames = [torch.zeros(6, 3, 4, 2, dtype=torch.uint8)]
        good = np.array([1, 1, 1, 1, 1, 0], bool)
        sample = _sample(2, 3)
        sample.set_metainfo(dict(frame_valid=good))
        out = self.pre(dict(inputs=frames, data_samples=[sample]))
        self.assertEqual(out['inputs'].shape, (3, 2, 3, 4, 2))
        np.testing.assert_array_equal(out['data_samples'][0].frame_valid, good)
        for bad, message in (
            (good[:5], r'sample 0 has shape \(5,\), expected \(6,\)'),
            (good.astype(np.uint8), 'must be booleans'),
            (np.array([1, 1, 1, 1, 0, 0], bool), r'clips \[2\] have no real'),
        ):
            sample.set_metainfo(dict(frame_valid=bad))
            with self.assertRaisesRegex(ValueError, message):
                self.pre(dict(inputs=frames, data_samples=[sample]))

    def test_stacked_tensor_input(self):
        frames = torch.randint(0, 256, (2, 4, 3, 8, 6), dtype=torch.uint8)
        out = self.pre(
            dict(inputs=frames, data_samples=[_sample(4),
                                              _sample(4)]))
        self.assertEqual(out['inputs'].shape, (2, 4, 3, 8, 6))

    def test_errors(self):
        frames = [torch.zeros(6, 3, 4, 2, dtype=torch.uint8)]
        with self.assertRaisesRegex(ValueError, 'num_clips \\* clip_len'):
            self.pre(dict(inputs=frames, data_samples=[_sample(4)]))
        with self.assertRaisesRegex(ValueError, 'num_clips \\* clip_len'):
            self.pre(dict(inputs=frames, data_samples=[_sample(2, 2)]))
        with self.assertRaisesRegex(KeyError, 'clip_len'):
            self.pre(dict(inputs=frames, data_samples=[DataSample()]))
        with self.assertRaisesRegex(ValueError, 'one data sample per input'):
            self.pre(dict(inputs=frames))
        with self.assertRaisesRegex(ValueError, 'share clip_len'):
            self.pre(
                dict(inputs=frames * 2, data_samples=[_sample(2),
                                                      _sample(3)]))
        with self.assertRaisesRegex(ValueError, 'share one size'):
            self.pre(
                dict(
                    inputs=[frames[0], frames[0][:, :, :2]],
                    data_samples=[_sample(2), _sample(2)]))
        with self.assertRaisesRegex(ValueError, 'std'):
            MODELS.build(dict(type='ReIDDataPreprocessor', std=[1, 0, 1]))

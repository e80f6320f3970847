# Copyright (c) mmreid_video contributors. All rights reserved.
from unittest import TestCase

import torch
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS


class TestTemporalAvgPool(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')
        self.neck = MODELS.build(dict(type='TemporalAvgPool'))

    def test_values(self):
        # 2 clips x 3 frames, 4 channels, 2x2 maps.
        maps = torch.rand(6, 4, 2, 2)
        out = self.neck((torch.rand(6, 2, 4, 4), maps), num_frames=3)
        self.assertEqual(out.shape, (2, 4))
        expected = maps.mean(dim=(2, 3)).view(2, 3, 4).mean(dim=1)
        torch.testing.assert_close(out, expected)
        # A bare tensor works as well.
        torch.testing.assert_close(self.neck(maps, num_frames=3), expected)

    def test_frame_valid_averages_real_frames(self):
        maps = torch.rand(6, 4, 2, 2)
        valid = torch.tensor([[True, True, True], [True, False, False]])
        out = self.neck((maps, ), num_frames=3, frame_valid=valid)
        frames = maps.mean(dim=(2, 3)).view(2, 3, 4)
        torch.testing.assert_close(out[0], frames[0].mean(0))
        torch.testing.assert_close(out[1], frames[1, 0])
        # Even non-finite padding counts zero.
        maps[4:] = float('nan')
        torch.testing.assert_close(
            self.neck((maps, ), num_frames=3, frame_valid=valid), out)
        with self.assertRaisesRegex(ValueError, 'frame_valid of shape'):
            self.neck((maps, ), num_frames=3, frame_valid=valid[:, :2])

    def test_single_clip_keeps_batch_axis(self):
        out = self.neck((torch.rand(2, 5, 1, 1), ), num_frames=2)
        self.assertEqual(out.shape, (1, 5))

    def test_channels_last(self):
        maps = torch.rand(4, 8, 3, 2)
        out = self.neck((maps.to(memory_format=torch.channels_last), ),
                        num_frames=2)
        torch.testing.assert_close(out, self.neck((maps, ), num_frames=2))

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, 'num_frames=4'):
            self.neck((torch.rand(6, 4, 2, 2), ), num_frames=4)
        with self.assertRaisesRegex(TypeError, 'TemporalAvgPool expects'):
            self.neck((torch.rand(6, 4), ), num_frames=3)

# Copyright (c) mmreid_video contributors. All rights reserved.
from unittest import TestCase

import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS


class TestPPool(TestCase):
    DEFAULT_ARGS = dict(
        type='PPool', in_channels=[4, 6], num_stripes=[2, 4], embed_dims=8)

    def setUp(self):
        init_default_scope('mmreid_video')

    def test_shapes_and_stripe_means(self):
        ppool = MODELS.build(self.DEFAULT_ARGS)
        feats = (torch.rand(6, 4, 8, 4), torch.rand(6, 6, 8, 2))
        tokens = ppool(feats, num_frames=3)
        self.assertEqual([t.shape for t in tokens],
                         [torch.Size([2, 3, 2, 8]),
                          torch.Size([2, 3, 4, 8])])
        # Stripe n of block 1 is the mean of rows 2n, 2n+1 of the map.
        pooled = ppool.pool(feats[1], 1)
        expected = feats[1][:, :, 2:4].mean(dim=(2, 3))
        torch.testing.assert_close(pooled[:, 1], expected)
        # Height not a multiple of N: adaptive pooling bins.
        odd = torch.rand(6, 6, 7, 2)
        torch.testing.assert_close(
            ppool.pool(odd, 1),
            F.adaptive_avg_pool2d(odd, (4, 1)).flatten(2).transpose(1, 2))
        # Projection ends with LayerNorm: zero mean per token.
        torch.testing.assert_close(
            tokens[0].mean(-1), torch.zeros(2, 3, 2), atol=1e-5, rtol=0)

    def test_single_stripe_count_for_all_blocks(self):
        ppool = MODELS.build(
            dict(
                type='PPool', in_channels=[4, 6], num_stripes=3, embed_dims=8))
        self.assertEqual(ppool.num_stripes, [3, 3])

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, 'one per block'):
            MODELS.build(
                dict(type='PPool', in_channels=[4, 6], num_stripes=[2]))
        ppool = MODELS.build(self.DEFAULT_ARGS)
        with self.assertRaisesRegex(ValueError, 'smaller than num_stripes'):
            ppool((torch.rand(2, 4, 8, 4), torch.rand(2, 6, 2, 2)), 1)
        with self.assertRaisesRegex(ValueError, r'\(B\*T, 4, H, W\)'):
            ppool((torch.rand(2, 5, 8, 4), torch.rand(2, 6, 8, 2)), 1)
        with self.assertRaisesRegex(ValueError, 'multiple of num_frames'):
            ppool((torch.rand(5, 4, 8, 4), torch.rand(5, 6, 8, 2)), 2)
        with self.assertRaisesRegex(ValueError, 'got 1 feature maps'):
            ppool((torch.rand(2, 4, 8, 4), ), 1)

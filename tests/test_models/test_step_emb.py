# Copyright (c) mmreid_video contributors. All rights reserved.
from unittest import TestCase

import torch
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS


class TestSTEPEmbedding(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')

    def test_learned_is_factorised_sum(self):
        emb = MODELS.build(
            dict(
                type='STEPEmbedding',
                embed_dims=8,
                max_frames=4,
                max_stripes=3,
                max_blocks=2))
        self.assertEqual(
            sum(p.numel() for p in emb.parameters()), (4 + 3 + 2) * 8)
        tokens = torch.zeros(2, 4, 3, 8)
        out = emb(tokens, block=1)
        expected = (
            emb.frame_embed[2] + emb.stripe_embed[1] + emb.block_embed[1])
        torch.testing.assert_close(out[1, 2, 1], expected)
        # Positions differ from each other (non-zero init at construction).
        self.assertFalse(torch.allclose(out[0, 0, 0], out[0, 1, 0]))
        self.assertFalse(torch.allclose(out[0, 0, 0], out[0, 0, 1]))
        self.assertFalse(torch.allclose(out, emb(tokens, block=0)))

    def test_sinusoidal(self):
        emb = MODELS.build(
            dict(type='STEPEmbedding', embed_dims=6, mode='sinusoidal'))
        self.assertEqual(list(emb.parameters()), [])
        out = emb(torch.zeros(1, 2, 1, 6), block=0)
        # Position 0 of every table is (0, 1, 0, 1, ...): three tables summed.
        torch.testing.assert_close(out[0, 0, 0],
                                   torch.tensor([0., 3., 0., 3., 0., 3.]))
        # Frame 1, stripe 0, block 0: sin(1)+0+0 in the first dim.
        self.assertAlmostEqual(out[0, 1, 0, 0].item(), 0.841471, places=5)
        self.assertNotIn('frame_embed', emb.state_dict())

    def test_limits(self):
        emb = MODELS.build(
            dict(
                type='STEPEmbedding',
                embed_dims=4,
                max_frames=8,
                max_stripes=4,
                max_blocks=2))
        emb(torch.zeros(1, 8, 4, 4), block=1)  # at the limits: fine
        with self.assertRaisesRegex(ValueError, 'max_frames=8'):
            emb(torch.zeros(1, 9, 4, 4), block=0)
        with self.assertRaisesRegex(ValueError, 'max_stripes=4'):
            emb(torch.zeros(1, 8, 5, 4), block=0)
        with self.assertRaisesRegex(ValueError, 'max_blocks=2'):
            emb(torch.zeros(1, 8, 4, 4), block=2)
        with self.assertRaisesRegex(ValueError, r'\(B, T, N, 4\)'):
            emb(torch.zeros(1, 8, 4, 3), block=0)
        with self.assertRaisesRegex(ValueError, 'must be one of'):
            MODELS.build(dict(type='STEPEmbedding', embed_dims=4, mode='rope'))
        with self.assertRaisesRegex(ValueError, 'even'):
            MODELS.build(
                dict(type='STEPEmbedding', embed_dims=5, mode='sinusoidal'))

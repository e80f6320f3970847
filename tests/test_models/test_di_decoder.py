# Copyright (c) mmreid_video contributors. All rights reserved.
from unittest import TestCase

import torch
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS

IN_CHANNELS = [4, 8, 12, 16]
# (H, W) per block, every H a multiple of 4 stripes.
SIZES = [(16, 8), (8, 4), (4, 2), (4, 2)]
B, T = 2, 3


def make_feats(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.rand(B * T, c, h, w, generator=gen)
        for c, (h, w) in zip(IN_CHANNELS, SIZES))


def permute_frames(feats, order):
    return tuple(
        f.view(B, T, *f.shape[1:])[:, order].reshape(f.shape) for f in feats)


def permute_stripes(feats, order, num_stripes=4):
    out = []
    for f in feats:
        n, c, h, w = f.shape
        stripes = f.view(n, c, num_stripes, h // num_stripes, w)
        out.append(stripes[:, :, order].reshape(n, c, h, w))
    return tuple(out)


class TestDIDecoder(TestCase):
    DEFAULT_ARGS = dict(
        type='DIDecoder',
        in_channels=IN_CHANNELS,
        num_stripes=4,
        embed_dims=16,
        num_heads=2)

    def setUp(self):
        init_default_scope('mmreid_video')

    def build(self, seed=0, **kwargs):
        torch.manual_seed(seed)
        neck = MODELS.build({**self.DEFAULT_ARGS, **kwargs})
        neck.init_weights()
        return neck.eval()

    def test_shapes_every_variant(self):
        feats = make_feats()
        for variant in ('dense', 'vanilla', 'self'):
            for use_step_emb in (True, False):
                neck = self.build(variant=variant, use_step_emb=use_step_emb)
                self.assertEqual(len(neck.layers), 4)
                out = neck(feats, num_frames=T)
                self.assertEqual(out.shape, (B, 16))
                self.assertTrue(torch.isfinite(out).all())
        # Train mode (dropout on) and batch of one clip keep the shapes.
        neck = self.build().train()
        one = tuple(f[:T] for f in feats)
        self.assertEqual(neck(one, num_frames=T).shape, (1, 16))

    def test_variants_differ(self):
        feats = make_feats()
        outs = {
            v: self.build(variant=v)(feats, num_frames=T)
            for v in ('dense', 'vanilla', 'self')
        }
        # dense and vanilla share all weights (same seed); only the keys and
        # values of the second attention differ.
        dense, vanilla = self.build(), self.build(variant='vanilla')
        for (k1, p1), (k2, p2) in zip(dense.state_dict().items(),
                                      vanilla.state_dict().items()):
            self.assertEqual(k1, k2)
            torch.testing.assert_close(p1, p2)
        self.assertFalse(torch.allclose(outs['dense'], outs['vanilla']))
        self.assertFalse(torch.allclose(outs['dense'], outs['self']))
        self.assertFalse(torch.allclose(outs['vanilla'], outs['self']))

    def test_blocks_used(self):
        self_neck = self.build(variant='self')
        self.assertEqual(self_neck.used_blocks, [3])
        self.assertEqual(len(self_neck.ppool.projs), 1)
        self.assertFalse(hasattr(self_neck.layers[0], 'cross_attn'))
        neck = self.build(layer_blocks=[1, 3], num_stripes=[1, 2, 4, 4])
        self.assertEqual(neck.used_blocks, [1, 3])
        self.assertEqual(neck.input_block, 1)
        self.assertEqual(len(neck.layers), 2)
        self.assertEqual(neck.ppool.num_stripes, [2, 4])
        tokens = neck.tokens(make_feats(), num_frames=T)
        self.assertEqual(tokens[1].shape, (B, T * 2, 16))
        self.assertEqual(neck(make_feats(), num_frames=T).shape, (B, 16))

    def manual(self, neck, feats, input_block, memories):
        """The decoder computed by hand from its tokens and layers."""
        tokens = neck.tokens(feats, T)
        h = tokens[input_block]
        for layer, memory in zip(neck.layers, memories):
            h = layer(h, torch.cat([tokens[b] for b in memory], dim=1))
        return h.mean(dim=1)

    def test_input_block_and_multi_block_memory(self):
        feats = make_feats()
        default = self.build()
        ref = default(feats, T)
        # Defaults unchanged: h0 from the first paired block, one block per
        # layer; the same in the explicit forms.
        torch.testing.assert_close(
            ref, self.manual(default, feats, 0, [[0], [1], [2], [3]]))
        for kwargs in (dict(input_block=0),
                       dict(layer_blocks=[[0], [1], [2], [3]])):
            torch.testing.assert_close(self.build(**kwargs)(feats, T), ref)
        # The same weights (same seed, same blocks), read differently.
        neck = self.build(input_block=2)
        self.assertEqual(neck.input_block, 2)
        out = neck(feats, T)
        torch.testing.assert_close(
            out, self.manual(default, feats, 2, [[0], [1], [2], [3]]))
        self.assertFalse(torch.allclose(out, ref, atol=1e-4))
        cumulative = [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3]]
        neck = self.build(layer_blocks=cumulative)
        self.assertEqual(neck.layer_memories, cumulative)
        out = neck(feats, T)
        torch.testing.assert_close(out,
                                   self.manual(default, feats, 0, cumulative))
        self.assertFalse(torch.allclose(out, ref, atol=1e-4))
        # An input block outside the memories is pooled too.
        neck = self.build(
            layer_blocks=[3, 3], input_block=1, num_stripes=[1, 2, 4, 4])
        self.assertEqual(neck.used_blocks, [1, 3])
        self.assertEqual(neck.ppool.num_stripes, [2, 4])
        self.assertEqual(neck(feats, T).shape, (B, 16))
        # 'self' uses the input block alone.
        neck = self.build(variant='self', input_block=1)
        self.assertEqual(neck.used_blocks, [1])

    def test_step_emb_breaks_permutation_invariance(self):
        feats = make_feats()
        frames = permute_frames(feats, [2, 0, 1])
        stripes = permute_stripes(feats, [3, 1, 0, 2])
        for variant in ('dense', 'vanilla', 'self'):
            nostep = self.build(variant=variant, use_step_emb=False)
            ref = nostep(feats, T)
            torch.testing.assert_close(nostep(frames, T), ref)
            torch.testing.assert_close(nostep(stripes, T), ref)
            step = self.build(variant=variant)
            ref = step(feats, T)
            self.assertFalse(torch.allclose(step(frames, T), ref))
            self.assertFalse(torch.allclose(step(stripes, T), ref))
        sinus = self.build(step_emb_cfg=dict(mode='sinusoidal'))
        self.assertFalse(torch.allclose(sinus(frames, T), sinus(feats, T)))

    def test_padded_frames_count_zero(self):
        """With frame_valid, a clip decodes as if it had its real frames
        only: padded tokens are no keys and are not pooled."""
        feats = make_feats()
        valid = torch.tensor([[True, True, False], [True, False, False]])
        other = tuple(f.clone() for f in make_feats(seed=1))
        for variant, layer_blocks in (('dense', None), ('vanilla', None),
                                      ('self', None), ('dense', [[0], [0, 1],
                                                                 [2, 3]])):
            neck = self.build(variant=variant, layer_blocks=layer_blocks)
            out = neck(feats, T, frame_valid=valid)
            for b, r in enumerate(valid.sum(1).tolist()):
                # Clip b alone, cut to its r real frames.
                real = tuple(f.view(B, T, *f.shape[1:])[b, :r] for f in feats)
                torch.testing.assert_close(
                    out[b], neck(real, r)[0], atol=1e-5, rtol=1e-5)
            # New content in the padded frames changes nothing ...
            mixed = tuple(
                torch.where(
                    valid.view(B, T, 1, 1, 1), f.view(B, T, *f.shape[1:]),
                    g.view(B, T, *g.shape[1:])).view(f.shape)
                for f, g in zip(feats, other))
            torch.testing.assert_close(
                neck(mixed, T, frame_valid=valid), out, atol=1e-6, rtol=0)
            # ... unmasked, it does.
            self.assertFalse(torch.allclose(neck(mixed, T), out, atol=1e-4))
        full = torch.ones(B, T, dtype=torch.bool)
        torch.testing.assert_close(
            neck(feats, T, frame_valid=full), neck(feats, T))
        with self.assertRaisesRegex(ValueError, 'frame_valid of shape'):
            neck(feats, T, frame_valid=full[:, :2])

    def test_gradients_reach_every_parameter(self):
        neck = self.build().train()
        neck(make_feats(), T).sum().backward()
        no_grad = [n for n, p in neck.named_parameters() if p.grad is None]
        self.assertEqual(no_grad, [])

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, 'must be one of'):
            self.build(variant='cross')
        with self.assertRaisesRegex(ValueError, 'layer_blocks'):
            self.build(layer_blocks=[0, 4])
        with self.assertRaisesRegex(ValueError, 'or of non-empty lists'):
            self.build(layer_blocks=[[0, 1], []])
        with self.assertRaisesRegex(ValueError, 'layer_blocks'):
            self.build(layer_blocks=[[0, 5]])
        with self.assertRaisesRegex(ValueError, r'`input_block`=4 must be'):
            self.build(input_block=4)
        with self.assertRaisesRegex(ValueError, 'one per block'):
            self.build(num_stripes=[4, 4])
        with self.assertRaisesRegex(ValueError, 'not divisible'):
            self.build(num_heads=3)
        neck = self.build()
        with self.assertRaisesRegex(ValueError, 'out_indices'):
            neck(make_feats()[1:], T)
        with self.assertRaisesRegex(ValueError, 'max_frames=2'):
            self.build(step_emb_cfg=dict(max_frames=2))(make_feats(), T)

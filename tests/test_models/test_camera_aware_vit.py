# Copyright (c) mmreid_video contributors. All rights reserved.
"""CameraAwareViT: mmpretrain's ViT whose tokens get a per-camera vector."""
from unittest import TestCase

import torch
from mmengine.registry import init_default_scope
from mmpretrain.models import VisionTransformer

from mmreid_video.registry import MODELS

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
VIT = dict(
    arch=ARCH,
    img_size=(32, 16),
    patch_size=8,
    out_indices=(0, 1),
    out_type='featmap')
DEFAULT_ARGS = dict(type='CameraAwareViT', num_cameras=3, **VIT)


class TestCameraAwareViT(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')
        torch.manual_seed(0)
        self.vit = MODELS.build(DEFAULT_ARGS)
        self.vit.init_weights()
        self.vit.eval()  # mmpretrain backbones' train() returns None
        self.frames = torch.rand(4, 3, 32, 16)

    def forward(self, frames, camera_ids):
        with torch.no_grad():
            return self.vit(frames, torch.tensor(camera_ids))

    def test_outputs(self):
        outs = self.forward(self.frames, [0, 1, 2, 0])
        self.assertEqual([o.shape for o in outs], [(4, 32, 4, 2)] * 2)
        self.assertEqual(self.vit.camera_embed.shape, (3, 1, 32))
        # init_weights draws the table (TransReID: truncated normal).
        self.assertGreater(self.vit.camera_embed.std().item(), 0.005)

    def test_output_depends_on_camera_id_only(self):
        same = self.frames[:1].expand(3, -1, -1, -1)
        outs = self.forward(same, [0, 1, 1])[-1]
        self.assertFalse(torch.allclose(outs[0], outs[1]))
        torch.testing.assert_close(outs[1], outs[2])
        # Each frame only sees its own camera's vector, whatever the batch.
        mixed = self.forward(self.frames, [2, 0, 1, 2])[-1]
        for i, cam in enumerate([2, 0, 1, 2]):
            alone = self.forward(self.frames[i:i + 1], [cam])[-1]
            torch.testing.assert_close(mixed[i:i + 1], alone)

    def test_equals_the_vit_up_to_the_camera_vector(self):
        vit = VisionTransformer(**VIT)
        vit.eval()
        missing, unexpected = vit.load_state_dict(
            self.vit.state_dict(), strict=False)
        self.assertEqual(missing, [])
        self.assertEqual(unexpected, ['camera_embed'])
        with torch.no_grad():
            plain = vit(self.frames)[-1]
            # One shared vector for all cameras: no camera information.
            self.vit.camera_embed.copy_(self.vit.camera_embed[:1].expand(
                3, -1, -1))
        shared = self.forward(self.frames, [0, 1, 2, 0])[-1]
        torch.testing.assert_close(shared,
                                   self.forward(self.frames, [1, 1, 1, 1])[-1])
        self.assertFalse(torch.allclose(shared, plain))
        with torch.no_grad():
            self.vit.camera_embed.zero_()
        torch.testing.assert_close(
            self.forward(self.frames, [0, 1, 2, 0])[-1], plain)

    def test_bad_camera_ids(self):
        with self.assertRaisesRegex(ValueError, 'needs the camera id'):
            self.vit(self.frames)
        with self.assertRaisesRegex(ValueError, r'shape \(4, \)'):
            self.vit(self.frames, torch.tensor([0, 1]))
        with self.assertRaisesRegex(ValueError, 'integer tensor'):
            self.vit(self.frames, torch.zeros(4))
        with self.assertRaisesRegex(ValueError, r'\[0, 3\] out of range'):
            self.vit(self.frames, torch.tensor([0, 3, 0, 0]))
        with self.assertRaisesRegex(ValueError, r'\[-1, 0\] out of range'):
            self.vit(self.frames, torch.tensor([-1, 0, 0, 0]))
        with self.assertRaisesRegex(ValueError, 'num_cameras must be'):
            MODELS.build({**DEFAULT_ARGS, 'num_cameras': 0})

    def test_layer_depth_and_freezing(self):
        depth = self.vit.get_layer_depth('backbone.camera_embed', 'backbone.')
        self.assertEqual(depth, (0, 4))
        self.assertEqual(
            self.vit.get_layer_depth('backbone.layers.1.ln1.weight',
                                     'backbone.'), (2, 4))
        frozen = MODELS.build({**DEFAULT_ARGS, 'frozen_stages': 1})
        self.assertFalse(frozen.camera_embed.requires_grad)
        self.assertFalse(frozen.pos_embed.requires_grad)
        self.assertTrue(self.vit.camera_embed.requires_grad)

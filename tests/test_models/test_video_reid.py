# Copyright (c) mmreid_video contributors. All rights reserved.
import copy
import os.path as osp
from unittest import TestCase

import numpy as np
import pytest
import torch
from fixture_models import tiny_video_reid_cfg
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS

T, H, W = 4, 32, 16
CONFIG = osp.join(
    osp.dirname(__file__), '../../configs/_base_/models/baseline_r50.py')


def _train_samples(labels):
    return [
        DataSample(metainfo=dict(clip_len=T, num_clips=1)).set_gt_label(
            int(label)) for label in labels
    ]


class TestVideoReID(TestCase):
    DEFAULT_ARGS = tiny_video_reid_cfg(
        backbone=dict(stem_channels=16, base_channels=16), clips_per_forward=3)

    def setUp(self):
        init_default_scope('mmreid_video')
        torch.manual_seed(0)
        self.model = MODELS.build(copy.deepcopy(self.DEFAULT_ARGS))

    def test_build(self):
        model = self.model
        self.assertEqual(
            type(model.data_preprocessor).__name__, 'ReIDDataPreprocessor')
        torch.testing.assert_close(model.data_preprocessor.mean.flatten(),
                                   torch.tensor([123.675, 116.28, 103.53]))
        self.assertEqual(model.clips_per_forward, 3)
        # Built modules are used as they are.
        model2 = MODELS.build(
            dict(
                type='VideoReID',
                backbone=model.backbone,
                neck=model.neck,
                head=model.head))
        self.assertIs(model2.head, model.head)
        with self.assertRaisesRegex(ValueError, 'clips_per_forward'):
            MODELS.build(dict(self.DEFAULT_ARGS, clips_per_forward=0))

    def test_backbone_and_extract_feat_shapes(self):
        inputs = torch.rand(2, T, 3, H, W)
        maps = self.model._backbone_forward(inputs)
        self.assertIsInstance(maps, tuple)
        # Last stride 1: 32x16 input -> 2x1 map at stage 4.
        self.assertEqual(maps[-1].shape, (2 * T, 128, 2, 1))
        self.assertEqual(self.model._clip_feature(inputs).shape, (2, 128))
        self.model.eval()
        self.assertEqual(self.model.extract_feat(inputs).shape, (2, 128))
        with self.assertRaisesRegex(ValueError, r'\(B, T, 3, H, W\)'):
            self.model.extract_feat(torch.rand(2, 3, H, W))

    def test_channels_last_keeps_the_outputs(self):
        model = MODELS.build({**self.DEFAULT_ARGS, 'channels_last': True})
        model.load_state_dict(self.model.state_dict())
        conv = model.backbone.conv1.weight
        self.assertTrue(conv.is_contiguous(memory_format=torch.channels_last))
        self.assertFalse(conv.is_contiguous())
        inputs = torch.rand(2, T, 3, H, W)
        model.eval()
        self.model.eval()
        torch.testing.assert_close(
            model.extract_feat(inputs),
            self.model.extract_feat(inputs),
            rtol=1e-4,
            atol=1e-4)
        # Gradients flow and keep the parameter layout.
        model.train()
        model(inputs).sum().backward()
        self.assertTrue(
            conv.grad.is_contiguous(memory_format=torch.channels_last))

    def test_tensor_mode(self):
        self.model.eval()
        inputs = torch.rand(3, T, 3, H, W)
        logits = self.model(inputs)
        self.assertEqual(logits.shape, (3, 4))
        torch.testing.assert_close(
            logits, self.model.head(self.model._clip_feature(inputs)))

    def test_loss_mode(self):
        self.model.train()
        inputs = torch.rand(4, T, 3, H, W)
        losses = self.model(inputs, _train_samples([0, 0, 1, 1]), 'loss')
        self.assertEqual(set(losses), {'loss_ce', 'loss_triplet', 'accuracy'})
        self.assertGreater(losses['loss_ce'].item(), 0)
        self.assertGreater(losses['loss_triplet'].item(), 0)

        with self.assertRaisesRegex(ValueError, 'num_classes=4'):
            self.model(inputs, _train_samples([0, 0, 9, 9]), 'loss')
        with self.assertRaisesRegex(RuntimeError, 'invalid mode "foo"'):
            self.model(inputs, mode='foo')

    def test_train_step_from_uint8(self):
        self.model.train()
        frames = [
            torch.randint(0, 256, (T, 3, H, W), dtype=torch.uint8)
            for _ in range(4)
        ]
        optim = OptimWrapper(torch.optim.SGD(self.model.parameters(), 0.01))
        log_vars = self.model.train_step(
            dict(inputs=frames, data_samples=_train_samples([0, 0, 1, 1])),
            optim)
        self.assertEqual(
            set(log_vars), {'loss', 'loss_ce', 'loss_triplet', 'accuracy'})
        self.assertAlmostEqual(
            log_vars['loss'].item(),
            log_vars['loss_ce'].item() + log_vars['loss_triplet'].item(),
            places=5)

    def test_predict_averages_clips(self):
        self.model.eval()
        clips = torch.rand(5, T, 3, H, W)
        # clips_per_forward=3 cuts the middle tracklet (clips 1-3) in two.
        samples = [
            DataSample(metainfo=dict(clip_len=T, num_clips=n))
            for n in (1, 3, 1)
        ]
        out = self.model(clips, samples, 'predict')
        self.assertIs(out, samples)
        with torch.no_grad():
            direct = self.model.extract_feat(clips)
        expected = [direct[0], direct[1:4].mean(0), direct[4]]
        for sample, feat in zip(out, expected):
            self.assertEqual(sample.pred_feature.shape, (128, ))
            torch.testing.assert_close(
                sample.pred_feature, feat, atol=1e-5, rtol=1e-5)
        self.assertFalse(
            torch.allclose(out[1].pred_feature, direct[1], atol=1e-3))

        # Slicing matches one unsliced pass.
        self.model.clips_per_forward = 64
        unsliced = [
            DataSample(metainfo=dict(clip_len=T, num_clips=n))
            for n in (1, 3, 1)
        ]
        self.model(clips, unsliced, 'predict')
        for a, b in zip(out, unsliced):
            torch.testing.assert_close(
                a.pred_feature, b.pred_feature, atol=1e-5, rtol=1e-5)

    def test_predict_masks_padded_frames(self):
        """Padded frames (frame_valid False) count zero: in the temporal
        mean and in the weight of their clip."""
        self.model.eval()
        clips = torch.rand(4, T, 3, H, W)
        valid = np.ones(3 * T, bool)
        valid[-3:] = False  # the third clip has 1 real frame of T=4

        def samples():
            return [
                DataSample(
                    metainfo=dict(clip_len=T, num_clips=3, frame_valid=valid)),
                DataSample(metainfo=dict(clip_len=T, num_clips=1))
            ]

        with torch.no_grad():
            out = self.model.predict(clips, samples())
            frame_feats = self.model.extract_feat(clips.flatten(0, 1)[:, None])
        # A per-frame average: the mean of the 9 real frames' descriptors.
        torch.testing.assert_close(
            out[0].pred_feature, frame_feats[:9].mean(0), atol=1e-5, rtol=0)
        torch.testing.assert_close(
            out[1].pred_feature, frame_feats[12:].mean(0), atol=1e-5, rtol=0)
        # New pixels in the padded frames change nothing.
        clips[2, 1:] = torch.rand(3, 3, H, W)
        with torch.no_grad():
            again = self.model.predict(clips, samples())
        torch.testing.assert_close(
            again[0].pred_feature, out[0].pred_feature, atol=1e-6, rtol=0)
        bad = samples()
        bad[0].set_metainfo(dict(frame_valid=valid[:-1]))
        with self.assertRaisesRegex(ValueError, r'expected \(12,\)'):
            self.model.predict(clips, bad)
        with self.assertRaisesRegex(ValueError, 'frame_valid of shape'):
            self.model.extract_feat(
                clips, frame_valid=torch.ones(4, T - 1, dtype=torch.bool))

    def test_predict_refuses_mask_for_neck_without_frame_valid(self):

        class PlainPool(torch.nn.Module):

            def forward(self, feats, num_frames):
                return feats[-1].mean(dim=(2,
                                           3)).view(-1, num_frames,
                                                    feats[-1].size(1)).mean(1)

        self.model.neck = PlainPool()
        self.model.eval()
        clips = torch.rand(1, T, 3, H, W)
        # Without a mask the neck is called as before.
        self.assertEqual(self.model.extract_feat(clips).shape, (1, 128))
        valid = np.array([True] + [False] * (T - 1))
        with self.assertRaisesRegex(TypeError, "PlainPool takes no 'frame_"):
            self.model.predict(clips, [
                DataSample(
                    metainfo=dict(clip_len=T, num_clips=1, frame_valid=valid))
            ])

    def test_predict_without_samples_and_errors(self):
        self.model.eval()
        clips = torch.rand(2, T, 3, H, W)
        out = self.model.predict(clips)
        self.assertEqual(len(out), 2)
        torch.testing.assert_close(
            torch.stack([s.pred_feature for s in out]),
            self.model.extract_feat(clips),
            atol=1e-5,
            rtol=1e-5)
        bad = [DataSample(metainfo=dict(num_clips=3))]
        with self.assertRaisesRegex(ValueError, 'got 2 clips'):
            self.model.predict(clips, bad)

    def test_test_step_from_uint8(self):
        self.model.eval()
        frames = [
            torch.randint(0, 256, (n * T, 3, H, W), dtype=torch.uint8)
            for n in (3, 1)
        ]
        samples = [
            DataSample(metainfo=dict(clip_len=T, num_clips=n)) for n in (3, 1)
        ]
        out = self.model.test_step(dict(inputs=frames, data_samples=samples))
        self.assertIs(out[0], samples[0])
        self.assertEqual(out[1].pred_feature.shape, (128, ))

    @pytest.mark.slow
    def test_overfits_toy_batch(self):
        torch.manual_seed(1)
        self.model.train()
        inputs = torch.randn(8, 2, 3, H, W)
        samples = _train_samples([0, 0, 1, 1, 2, 2, 3, 3])
        optim = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        totals = []
        for _ in range(12):
            losses = self.model(inputs, samples, 'loss')
            total = losses['loss_ce'] + losses['loss_triplet']
            optim.zero_grad()
            total.backward()
            optim.step()
            totals.append(total.item())
        self.assertLess(totals[-1], 0.5 * totals[0])
        self.assertEqual(losses['accuracy'].item(), 100.)


class TestBaselineConfig(TestCase):

    @pytest.mark.slow  # a full-size ResNet-50
    def test_build_baseline_r50(self):
        init_default_scope('mmreid_video')
        cfg = Config.fromfile(CONFIG).model
        self.assertEqual(cfg.backbone.init_cfg.prefix, 'backbone.')
        model = MODELS.build(cfg)  # no init_weights: that would download
        self.assertEqual(model.backbone.strides, (1, 2, 2, 1))
        self.assertEqual(model.head.classifier.weight.shape, (625, 2048))
        self.assertEqual(model.head.loss_ce.label_smooth_val, 0.1)
        self.assertEqual(model.head.loss_triplet.margin, 0.3)
        model.eval()
        with torch.no_grad():
            maps = model._backbone_forward(torch.rand(1, 2, 3, 64, 32))
            feats = model.extract_feat(torch.rand(1, 2, 3, 64, 32))
        # Last stride 1: the stage-4 map is 1/16 of the input.
        self.assertEqual(maps[-1].shape, (2, 2048, 4, 2))
        self.assertEqual(feats.shape, (1, 2048))

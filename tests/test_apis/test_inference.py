# Copyright (c) mmreid_video contributors. All rights reserved.
import os.path as osp
import tempfile
from unittest import TestCase

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixture_models import tiny_video_reid_cfg
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint

from mmreid_video.apis import extract_tracklet_features, init_model

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 1, 3, 1, 1)


def tiny_config(clip_len=4, **model_kwargs):
    """ResNet-18 (random init, no download) on 32x16 frames."""
    model_kwargs.setdefault('clips_per_forward', 2)
    return Config(
        dict(
            default_scope='mmreid_video',
            model=tiny_video_reid_cfg(**model_kwargs),
            test_dataloader=dict(
                batch_size=2,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(pipeline=[
                    dict(type='AllFramesSample', clip_len=clip_len),
                    dict(type='LoadFrames'),
                    dict(type='ClipResize', scale=(16, 32)),
                    # with_label=True as in the benchmark test pipelines.
                    dict(type='PackReIDInputs'),
                ]))))


def random_tracklet(rng, length, size=(48, 24)):
    return [
        rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(length)
    ]


def reference_descriptor(model, frames):
    """The test protocol written out by hand for a per-frame average model:
    resize, normalise, describe every real frame once (padding never
    counts), average, L2-normalise. Eval-mode BN is affine, so the mean of
    the frames' BN features is the BN feature of their mean."""
    imgs = np.stack([cv2.resize(f, (16, 32)) for f in frames])
    clips = torch.from_numpy(imgs).permute(0, 3, 1, 2).float()[:, None]
    with torch.no_grad():
        feats = model.extract_feat((clips - MEAN) / STD)
    return F.normalize(feats.mean(0), dim=0)


class TestInitModel(TestCase):

    @pytest.mark.slow  # builds and runs a model
    def test_checkpoint_and_cfg(self):
        cfg = tiny_config()
        with tempfile.TemporaryDirectory() as tmp:
            model = init_model(cfg)
            self.assertFalse(model.training)
            self.assertIs(type(model.cfg), Config)
            model.head.bn.running_mean.fill_(0.5)
            save_checkpoint(model.state_dict(), osp.join(tmp, 'm.pth'))
            cfg_file = osp.join(tmp, 'cfg.py')
            cfg.dump(cfg_file)
            loaded = init_model(cfg_file, osp.join(tmp, 'm.pth'))
            for key, value in model.state_dict().items():
                torch.testing.assert_close(
                    loaded.state_dict()[key], value, msg=key)
        with self.assertRaisesRegex(KeyError, '`model`'):
            init_model(Config(dict(a=1)))


class TestExtractTrackletFeatures(TestCase):

    @classmethod
    def setUpClass(cls):
        init_default_scope('mmreid_video')
        torch.manual_seed(0)
        cls.model = init_model(tiny_config(clip_len=4))
        # Non-trivial BN statistics so eval-mode BN matters.
        cls.model.head.bn.running_mean.uniform_(-0.5, 0.5)
        rng = np.random.default_rng(0)
        # Lengths below, at and above the clip length, and a long one.
        cls.tracklets = [random_tracklet(rng, n) for n in (1, 4, 7, 13)]

    @pytest.mark.slow  # builds and runs a model
    def test_arrays_match_reference_protocol(self):
        feats = extract_tracklet_features(
            self.model, self.tracklets, batch_size=3)
        self.assertEqual(feats.shape, (4, 512))
        torch.testing.assert_close(
            feats.norm(dim=1), torch.ones(4), atol=1e-5, rtol=0)
        for feat, frames in zip(feats, self.tracklets):
            torch.testing.assert_close(
                feat,
                reference_descriptor(self.model, frames),
                atol=1e-5,
                rtol=1e-4)
        # Deterministic and independent of the batch size.
        again = extract_tracklet_features(
            self.model, self.tracklets, batch_size=1)
        torch.testing.assert_close(again, feats, atol=1e-6, rtol=0)

    @pytest.mark.slow  # builds and runs a model
    def test_descriptor_does_not_depend_on_clip_len(self):
        """Padded frames count zero: for a per-frame average model the
        all-frames descriptor at clip_len=8 is the one at clip_len=1, for
        every tracklet length (a last chunk of 1..8 real frames)."""
        torch.manual_seed(1)
        # Default BN statistics: descriptors of random frames stay apart.
        model = init_model(
            tiny_config(
                clip_len=8,
                backbone=dict(stem_channels=16, base_channels=16),
                clips_per_forward=64))
        rng = np.random.default_rng(1)
        tracklets = [random_tracklet(rng, n, (32, 16)) for n in range(1, 21)]
        t8 = extract_tracklet_features(model, tracklets, batch_size=20)
        t1 = extract_tracklet_features(
            model, tracklets, clip_len=1, batch_size=20)
        cosine = (t8 * t1).sum(dim=1)
        self.assertGreaterEqual(cosine.min().item(), 0.99999)
        # Control: with padding that counts (last_chunk='pad' weighs the
        # repeated last frame T - r + 1 times) the same check fails.
        model.cfg.test_dataloader.dataset.pipeline[0].last_chunk = 'pad'
        padded = extract_tracklet_features(model, tracklets, batch_size=20)
        self.assertLess((padded * t1).sum(dim=1).min().item(), 0.999)

    def test_paths_equal_arrays(self):
        with tempfile.TemporaryDirectory() as tmp:
            path_tracklets = []
            for t, frames in enumerate(self.tracklets[2:]):
                paths = []
                for f, frame in enumerate(frames):
                    path = osp.join(tmp, f'{t}_{f:03d}.png')  # lossless
                    cv2.imwrite(path, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                    paths.append(path)
                path_tracklets.append(paths)
            from_paths = extract_tracklet_features(self.model, path_tracklets)
        from_arrays = extract_tracklet_features(self.model, self.tracklets[2:])
        torch.testing.assert_close(from_paths, from_arrays, atol=0, rtol=0)

    @pytest.mark.slow  # builds and runs a model
    def test_clip_len_override(self):
        feats = extract_tracklet_features(
            self.model, self.tracklets[3:], clip_len=2)
        torch.testing.assert_close(
            feats[0],
            reference_descriptor(self.model, self.tracklets[3]),
            atol=1e-5,
            rtol=1e-4)

    def test_bad_input(self):
        with self.assertRaisesRegex(ValueError, 'Tracklet 0 must be'):
            extract_tracklet_features(self.model, [[]])
        with self.assertRaisesRegex(TypeError, 'mixes'):
            extract_tracklet_features(self.model,
                                      [[self.tracklets[0][0], 'a.jpg']])
        with self.assertRaisesRegex(ValueError, r'frame 0.*uint8'):
            extract_tracklet_features(self.model,
                                      [[np.zeros((8, 4, 3), np.float32)]])
        with self.assertRaisesRegex(FileNotFoundError, 'missing.jpg'):
            extract_tracklet_features(self.model, [['missing.jpg']])
        with self.assertRaisesRegex(AttributeError, 'init_model'):
            extract_tracklet_features(torch.nn.Linear(1, 1), self.tracklets)

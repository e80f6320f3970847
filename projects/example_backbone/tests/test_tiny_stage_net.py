# Copyright (c) mmreid_video contributors. All rights reserved.
"""Tests of the example project: the backbone itself, and DenseIL built from
the project config (random init) running a tiny forward.

Run from the repository root: ``python -m pytest projects/example_backbone``.
"""
import copy
import sys
from pathlib import Path
from unittest import TestCase

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = Path(__file__).resolve().parents[3]
CONFIG = (
    REPO / 'projects/example_backbone/configs/'
    'denseil_tinystagenet_mars.py')
# The config's custom_imports name the package from the repository root.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mmreid_video.registry import MODELS  # noqa: E402
from projects.example_backbone.mmreid_example import TinyStageNet  # noqa: E402


class TestTinyStageNet(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')

    def test_registered_in_mmreid_video(self):
        self.assertIs(MODELS.get('TinyStageNet'), TinyStageNet)

    def test_stage_maps(self):
        net = MODELS.build(
            dict(
                type='TinyStageNet',
                stage_channels=(8, 16, 24),
                strides=(1, 2, 1),
                num_blocks=(1, 2, 0),
                stem_channels=4,
                out_indices=(0, 2)))
        feats = net(torch.rand(2, 3, 64, 32))
        self.assertIsInstance(feats, tuple)
        # Stem stride 4, then strides 1, 2, 1.
        self.assertEqual([tuple(f.shape) for f in feats], [(2, 8, 16, 8),
                                                           (2, 24, 8, 4)])
        self.assertEqual(len(net.stages[1].blocks), 2)
        self.assertEqual(len(net.stages[2].blocks), 0)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, '`strides` has 1 entries'):
            TinyStageNet(stage_channels=(8, 16), strides=(1, ))
        with self.assertRaisesRegex(ValueError, '`num_blocks` has 3'):
            TinyStageNet(
                stage_channels=(8, 16), strides=(1, 2), num_blocks=(1, 1, 1))
        with self.assertRaisesRegex(ValueError, r'`out_indices`=\(4,\)'):
            TinyStageNet(out_indices=(4, ))


class TestDenseILWithTinyStageNet(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')

    def test_config_builds_and_forwards(self):
        cfg = Config.fromfile(str(CONFIG))
        model_cfg = copy.deepcopy(cfg.model)
        # No stage-1 checkpoint: random init, nothing to download.
        model_cfg.encoder_checkpoint = None
        model = MODELS.build(model_cfg).eval()
        self.assertIsInstance(model.backbone, TinyStageNet)

        torch.manual_seed(0)
        clips = torch.rand(2, 4, 3, 64, 32)  # (B, T, 3, H, W)
        with torch.no_grad():
            for stage, dims in ((1, 512), (2, cfg.model.neck.embed_dims)):
                model.set_train_stage(stage)
                feat = model.extract_feat(clips)
                self.assertEqual(feat.shape, (2, dims))
                self.assertTrue(torch.isfinite(feat).all())

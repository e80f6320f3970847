# Copyright (c) mmreid_video contributors. All rights reserved.
import math
from unittest import TestCase

import torch
from mmengine.registry import init_default_scope

from mmreid_video.registry import MODELS


class TestTripletLoss(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')

    def test_hand_computed(self):
        loss = MODELS.build(dict(type='TripletLoss', margin=0.3))
        # 1-D points: id0 at 0 and 1, id1 at 1.5 and 4.
        feats = torch.tensor([[0.], [1.], [1.5], [4.]])
        labels = torch.tensor([0, 0, 1, 1])
        # anchor 0: d_ap=1,   d_an=1.5 -> 1 - 1.5 + .3 = -0.2 -> 0
        # anchor 1: d_ap=1,   d_an=0.5 -> 0.8
        # anchor 2: d_ap=2.5, d_an=0.5 -> 2.3
        # anchor 3: d_ap=2.5, d_an=3   -> -0.2 -> 0
        self.assertAlmostEqual(
            loss(feats, labels).item(), (0.8 + 2.3) / 4, places=6)

        soft = MODELS.build(dict(type='TripletLoss', margin=None))
        diffs = [1 - 1.5, 1 - 0.5, 2.5 - 0.5, 2.5 - 3]
        expected = sum(math.log1p(math.exp(d)) for d in diffs) / 4
        self.assertAlmostEqual(soft(feats, labels).item(), expected, places=6)

        weighted = MODELS.build(
            dict(type='TripletLoss', margin=0.3, loss_weight=2.))
        self.assertAlmostEqual(
            weighted(feats, labels).item(), (0.8 + 2.3) / 2, places=6)

    def test_euclidean_in_2d(self):
        loss = MODELS.build(dict(type='TripletLoss', margin=1.0))
        feats = torch.tensor([[0., 0.], [3., 4.], [0., 1.]])
        labels = torch.tensor([0, 0, 1])
        # anchor 0: 5 - 1 + 1 = 5; anchor 1: 5 - sqrt(18) + 1;
        # anchor 2 has no positive and is left out.
        expected = (5 + 6 - math.sqrt(18)) / 2
        self.assertAlmostEqual(loss(feats, labels).item(), expected, places=5)

    def test_no_valid_anchor(self):
        loss = MODELS.build(dict(type='TripletLoss'))
        feats = torch.rand(3, 4, requires_grad=True)
        for labels in (torch.tensor([0, 1, 2]), torch.tensor([5, 5, 5])):
            out = loss(feats, labels)
            self.assertEqual(out.item(), 0.)
            out.backward()
            self.assertTrue(torch.equal(feats.grad, torch.zeros(3, 4)))

    def test_gradient_finite_with_duplicates(self):
        loss = MODELS.build(dict(type='TripletLoss'))
        feats = torch.tensor([[1., 2.], [1., 2.], [1., 2.], [0., 0.]],
                             requires_grad=True)
        out = loss(feats, torch.tensor([0, 0, 1, 1]))
        out.backward()
        self.assertGreater(out.item(), 0)
        self.assertTrue(torch.isfinite(feats.grad).all())

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, 'margin'):
            MODELS.build(dict(type='TripletLoss', margin=-1.))
        loss = MODELS.build(dict(type='TripletLoss'))
        with self.assertRaisesRegex(ValueError, 'labels'):
            loss(torch.rand(4, 2), torch.tensor([0, 1]))

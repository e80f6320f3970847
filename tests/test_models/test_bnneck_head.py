# Copyright (c) mmreid_video contributors. All rights reserved.
from unittest import TestCase

import torch
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS


def _samples(labels):
    return [DataSample().set_gt_label(int(label)) for label in labels]


class TestBNNeckHead(TestCase):
    DEFAULT_ARGS = dict(type='BNNeckHead', in_channels=8, num_classes=4)

    def setUp(self):
        init_default_scope('mmreid_video')
        torch.manual_seed(0)
        self.head = MODELS.build(self.DEFAULT_ARGS)

    def test_structure_and_init(self):
        head = self.head
        self.assertFalse(head.bn.bias.requires_grad)
        self.assertTrue(head.bn.weight.requires_grad)
        self.assertIsNone(head.classifier.bias)
        self.assertEqual(head.classifier.weight.shape, (4, 8))
        self.assertEqual(type(head.loss_ce).__name__, 'LabelSmoothLoss')
        self.assertEqual(head.loss_ce.label_smooth_val, 0.1)
        self.assertEqual(head.loss_triplet.margin, 0.3)

        big = MODELS.build(
            dict(type='BNNeckHead', in_channels=64, num_classes=500))
        big.init_weights()
        self.assertLess(big.classifier.weight.std().item(), 0.0015)
        self.assertGreater(big.classifier.weight.std().item(), 0.0005)
        self.assertTrue(torch.equal(big.bn.weight, torch.ones(64)))
        self.assertTrue(torch.equal(big.bn.bias, torch.zeros(64)))

    def test_forward_and_pre_logits(self):
        feats = torch.rand(6, 8)
        self.head.eval()
        bn_feat = self.head.pre_logits(feats)
        self.assertEqual(bn_feat.shape, (6, 8))
        # Fresh running stats (mean 0, var 1): BN is the identity up to eps.
        torch.testing.assert_close(bn_feat, feats / (1 + 1e-5)**0.5)
        logits = self.head(feats)
        self.assertEqual(logits.shape, (6, 4))
        torch.testing.assert_close(logits, self.head.classifier(bn_feat))

    def test_loss(self):
        feats = torch.rand(8, 8, requires_grad=True)
        labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
        losses = self.head.loss(feats, _samples(labels))
        self.assertEqual(set(losses), {'loss_ce', 'loss_triplet', 'accuracy'})
        self.assertGreater(losses['loss_ce'].item(), 0)
        self.assertGreaterEqual(losses['loss_triplet'].item(), 0)
        self.assertGreaterEqual(losses['accuracy'].item(), 0)
        self.assertLessEqual(losses['accuracy'].item(), 100)

        # Triplet uses the pre-BN feature, CE the logits of the BN feature.
        expected_tri = MODELS.build(dict(type='TripletLoss',
                                         margin=0.3))(feats, labels)
        torch.testing.assert_close(losses['loss_triplet'], expected_tri)
        logits = self.head(feats)
        torch.testing.assert_close(losses['loss_ce'],
                                   self.head.loss_ce(logits, labels))
        expected_acc = (logits.argmax(1) == labels).float().mean() * 100
        torch.testing.assert_close(losses['accuracy'].squeeze(), expected_acc)

        (losses['loss_ce'] + losses['loss_triplet']).backward()
        self.assertIsNone(self.head.bn.bias.grad)
        self.assertIsNotNone(self.head.classifier.weight.grad)

    def test_label_errors(self):
        feats = torch.rand(4, 8)
        with self.assertRaisesRegex(ValueError, r'num_classes=4 .*\[0, 7\]'):
            self.head.loss(feats, _samples([0, 1, 7, 2]))
        with self.assertRaisesRegex(ValueError, 'num_classes=4'):
            self.head.loss(feats, _samples([0, -1, 2, 2]))
        with self.assertRaisesRegex(KeyError, 'gt_label'):
            self.head.loss(feats, [DataSample() for _ in range(4)])
        with self.assertRaisesRegex(ValueError, '4 features but 2'):
            self.head.loss(feats, _samples([0, 1]))
        with self.assertRaisesRegex(ValueError, r'\(B, 8\)'):
            self.head.pre_logits(torch.rand(4, 6))
        with self.assertRaisesRegex(ValueError, 'num_classes'):
            MODELS.build(dict(type='BNNeckHead', in_channels=8, num_classes=0))

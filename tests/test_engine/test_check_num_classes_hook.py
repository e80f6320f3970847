# Copyright (c) mmreid_video contributors. All rights reserved.
from types import SimpleNamespace
from unittest import TestCase
from unittest.mock import MagicMock

from mmengine.model import MMDistributedDataParallel
from mmengine.registry import init_default_scope
from torch import nn

from mmreid_video.registry import HOOKS, MODELS


class _Dataset:

    def __init__(self, num_ids):
        self.metainfo = dict(split='train', num_ids=num_ids)
        self.full_init_calls = 0

    def full_init(self):
        self.full_init_calls += 1


def _model(num_classes, encoder_num_classes=None):
    model = nn.Module()
    model.head = MODELS.build(
        dict(type='BNNeckHead', in_channels=4, num_classes=num_classes))
    if encoder_num_classes is not None:
        model.encoder_head = MODELS.build(
            dict(
                type='BNNeckHead',
                in_channels=4,
                num_classes=encoder_num_classes))
    return model


def _runner(model, dataset):
    return SimpleNamespace(
        model=model,
        train_dataloader=SimpleNamespace(dataset=dataset),
        logger=MagicMock())


class TestCheckNumClassesHook(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')
        self.hook = HOOKS.build(dict(type='CheckNumClassesHook'))

    def test_equal_passes(self):
        dataset = _Dataset(num_ids=5)
        runner = _runner(_model(5, 5), dataset)
        self.hook.before_train(runner)
        self.assertEqual(dataset.full_init_calls, 1)
        runner.logger.warning.assert_not_called()

    def test_too_few_classes_names_the_key(self):
        with self.assertRaisesRegex(
                ValueError, r'model\.head\.num_classes=3 is smaller than the '
                r'number of training identities \(5\) in _Dataset; set '
                r'model\.head\.num_classes=5'):
            self.hook.before_train(_runner(_model(3), _Dataset(num_ids=5)))

    def test_encoder_head_is_checked(self):
        with self.assertRaisesRegex(ValueError,
                                    r'model\.encoder_head\.num_classes=4 '):
            self.hook.before_train(_runner(_model(5, 4), _Dataset(5)))

    def test_wrapped_model_uses_the_module(self):
        wrapper = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
        nn.Module.__init__(wrapper)
        wrapper.module = _model(2)
        with self.assertRaisesRegex(ValueError,
                                    r'^model\.head\.num_classes=2 '):
            self.hook.before_train(_runner(wrapper, _Dataset(5)))

    def test_more_classes_warns(self):
        runner = _runner(_model(7), _Dataset(5))
        self.hook.before_train(runner)
        runner.logger.warning.assert_called_once()
        self.assertIn('model.head.num_classes=7 is larger',
                      runner.logger.warning.call_args[0][0])

    def test_dataset_without_num_ids(self):
        dataset = _Dataset(5)
        del dataset.metainfo['num_ids']
        with self.assertRaisesRegex(KeyError, 'no "num_ids" in its metainfo'):
            self.hook.before_train(_runner(_model(5), dataset))

# Copyright (c) mmreid_video contributors. All rights reserved.
"""CheckInvalidLossHook stops at the first non-finite loss."""
import warnings
from types import SimpleNamespace
from unittest import TestCase

import torch
from mmengine.registry import init_default_scope

from mmreid_video.registry import HOOKS


def _outputs(loss_ce):
    return dict(
        loss_ce=torch.tensor(loss_ce),
        loss_triplet=torch.tensor(0.3),
        accuracy=torch.tensor(float('nan')))


class TestCheckInvalidLossHook(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')
        self.hook = HOOKS.build(dict(type='CheckInvalidLossHook'))
        # ``runner.iter`` counts finished iterations: this is iteration 42.
        self.runner = SimpleNamespace(iter=41, epoch=2)

    def test_finite_loss_passes(self):
        # Non-loss keys (here a NaN accuracy) are not checked.
        self.hook.after_train_iter(self.runner, 0, outputs=_outputs(1.5))

    def test_nan_stops_with_the_iteration(self):
        with self.assertRaisesRegex(
                RuntimeError, r"Non-finite loss at iteration 42 \(epoch 3\): "
                r"\{'loss_ce': nan\}"):
            self.hook.after_train_iter(
                self.runner, 0, outputs=_outputs(float('nan')))

    def test_inf_stops_with_the_iteration(self):
        with self.assertRaisesRegex(RuntimeError,
                                    r"iteration 42 .*\{'loss_ce': inf\}"):
            self.hook.after_train_iter(
                self.runner, 0, outputs=_outputs(float('inf')))

    def test_interval_skips_other_iterations(self):
        hook = HOOKS.build(dict(type='CheckInvalidLossHook', interval=5))
        hook.after_train_iter(self.runner, 0, outputs=_outputs(float('nan')))
        with self.assertRaisesRegex(RuntimeError, 'iteration 45'):
            hook.after_train_iter(
                SimpleNamespace(iter=44, epoch=2),
                0,
                outputs=_outputs(float('nan')))

    def test_bad_interval(self):
        with self.assertRaisesRegex(ValueError, 'interval must be >= 1'):
            HOOKS.build(dict(type='CheckInvalidLossHook', interval=0))

    def test_loss_with_grad_gives_no_warning(self):
        # The losses of a training step still require grad; float() of such
        # a tensor warns on every iteration.
        loss = torch.ones(1, requires_grad=True).sum() * 2
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            self.hook.after_train_iter(
                self.runner, 0, outputs=dict(loss_ce=loss))

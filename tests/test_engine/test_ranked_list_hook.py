# Copyright (c) mmreid_video contributors. All rights reserved.
"""RankedListVisualizationHook: its arguments and how it finds the metric
whose dump it draws (end to end in tests/test_tools/test_vis_ranked_list.py).
"""
from types import SimpleNamespace
from unittest import TestCase

from mmengine.visualization import Visualizer

from mmreid_video.registry import HOOKS
from mmreid_video.visualization import ReIDVisualizer


class TestRankedListVisualizationHook(TestCase):

    def test_arguments_and_metric_lookup(self):
        with self.assertRaisesRegex(ValueError, 'topk must be >= 1'):
            HOOKS.build(dict(type='RankedListVisualizationHook', topk=0))
        hook = HOOKS.build(dict(type='RankedListVisualizationHook'))

        class Metric:
            out_file = None
            max_rank = 20

        metric = Metric()
        runner = SimpleNamespace(
            test_evaluator=SimpleNamespace(metrics=[object(), metric]),
            log_dir='/tmp/run',
            visualizer=Visualizer(name='hook_test_plain'))
        # Figures are drawn by ReIDVisualizer.draw_ranked_lists only.
        with self.assertRaisesRegex(TypeError, "type='ReIDVisualizer'"):
            hook.before_test(runner)
        runner.visualizer = ReIDVisualizer(name='hook_test')
        hook.before_test(runner)
        # No out_file: the hook gives the metric one in the log dir.
        self.assertEqual(metric.out_file, '/tmp/run/ranked_lists.pkl')
        metric.out_file = 'given.pkl'
        hook.before_test(runner)
        self.assertEqual(hook._dump_file, 'given.pkl')
        metric.max_rank = 3
        with self.assertRaisesRegex(ValueError, 'topk=5 exceeds'):
            hook.before_test(runner)
        runner.test_evaluator.metrics = [object()]
        with self.assertRaisesRegex(ValueError, 'found 0'):
            hook.before_test(runner)

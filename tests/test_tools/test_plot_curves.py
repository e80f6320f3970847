# Copyright (c) mmreid_video contributors. All rights reserved.
import json
import os
import os.path as osp
import tempfile
from unittest import TestCase

import cv2
from tool_runner import load_tool


def _write_run(work_dir, timestamp, lines):
    vis = osp.join(work_dir, timestamp, 'vis_data')
    os.makedirs(vis)
    # LocalVisBackend writes the same lines to scalars.json and
    # <timestamp>.json; only scalars.json must be read.
    for name in ('scalars.json', f'{timestamp}.json'):
        with open(osp.join(vis, name), 'w') as f:
            f.writelines(json.dumps(line) + '\n' for line in lines)


# Lines as mmengine 0.10 LoggerHook writes them (train: with "iter";
# val: prefixed metric keys, step = epoch).
RUN_1 = [
    dict(
        lr=0.1,
        data_time=0.01,
        loss=3.0,
        loss_ce=2.0,
        loss_triplet=1.0,
        accuracy=0.2,
        time=0.1,
        epoch=1,
        iter=1,
        step=1),
    dict(
        lr=0.1,
        data_time=0.01,
        loss=2.0,
        loss_ce=1.2,
        loss_triplet=0.8,
        accuracy=0.4,
        time=0.1,
        epoch=1,
        iter=2,
        step=2),
    {
        'reid/mAP': 40.0,
        'reid/R1': 55.0,
        'data_time': 0.01,
        'time': 0.1,
        'step': 1
    },
]
RUN_2 = [  # resumed run
    dict(
        lr=0.01,
        data_time=0.01,
        loss=1.0,
        loss_ce=0.6,
        loss_triplet=0.4,
        accuracy=0.7,
        time=0.1,
        epoch=2,
        iter=3,
        step=3),
    {
        'reid/mAP': 60.0,
        'reid/R1': 75.0,
        'data_time': 0.01,
        'time': 0.1,
        'step': 2
    },
]


class TestPlotCurves(TestCase):

    def test_work_dir_to_png(self):
        tool = load_tool('tools/analysis_tools/plot_curves.py')
        with tempfile.TemporaryDirectory() as tmp:
            _write_run(tmp, '20260101_000000', RUN_1)
            _write_run(tmp, '20260102_000000', RUN_2)
            files = tool.find_scalar_logs(tmp)
            self.assertEqual(
                [osp.basename(osp.dirname(osp.dirname(f))) for f in files],
                ['20260101_000000', '20260102_000000'])
            train, val = tool.load_scalars(files)
            self.assertEqual([r['step'] for r in train], [1, 2, 3])
            self.assertEqual([r['reid/mAP'] for r in val], [40.0, 60.0])

            out = osp.join(tmp, 'curves.png')
            panels = tool.plot_curves(train, val, out)
            self.assertEqual(panels, ['loss', 'learning rate', 'evaluation'])
            img = cv2.imread(out)
            # figsize (5 * panels, 4) inches at 100 dpi.
            self.assertEqual(img.shape, (400, 1500, 3))
            self.assertGreater(img.std(), 10)  # something is drawn

            # Without evaluation lines only two panels are drawn.
            self.assertEqual(
                tool.plot_curves(train, [], out), ['loss', 'learning rate'])
            self.assertEqual(cv2.imread(out).shape, (400, 1000, 3))

    def test_errors(self):
        tool = load_tool('tools/analysis_tools/plot_curves.py')
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(FileNotFoundError, 'scalars.json'):
                tool.find_scalar_logs(tmp)
            _write_run(tmp, 'run', [])
            with open(osp.join(tmp, 'run', 'vis_data', 'scalars.json'),
                      'w') as f:
                f.write('{"loss": 1, "iter": 1, "step": 1}\nnot json\n')
            with self.assertRaisesRegex(ValueError, 'scalars.json:2'):
                tool.load_scalars(tool.find_scalar_logs(tmp))
            with self.assertRaisesRegex(ValueError, 'no loss, lr or metric'):
                tool.plot_curves([dict(time=1.0, iter=1, step=1)], [],
                                 osp.join(tmp, 'x.png'))

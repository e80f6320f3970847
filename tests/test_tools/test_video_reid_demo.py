# Copyright (c) mmreid_video contributors. All rights reserved.
import io
import os
import os.path as osp
import tempfile
from contextlib import redirect_stdout
from unittest import TestCase, mock

import cv2
import numpy as np
import pytest
import torch
from fixture_models import tiny_video_reid_cfg
from mmengine.config import Config
from mmengine.runner import save_checkpoint
from tool_runner import load_tool

from mmreid_video.apis import init_model
from mmreid_video.visualization import (MATCH_COLOR, MISMATCH_COLOR,
                                        RankedListLayout, draw_ranked_list)


def _write_tracklet(folder, color, num, rng):
    os.makedirs(folder)
    for f in range(num):
        img = np.clip(
            np.array(color) + rng.normal(0, 10, (32, 16, 3)), 0,
            255).astype(np.uint8)
        cv2.imwrite(osp.join(folder, f'{f:03d}.png'), img[..., ::-1])


def _model(tmp):
    """A tiny random model: its config and checkpoint under ``tmp``."""
    cfg = Config(
        dict(
            default_scope='mmreid_video',
            model=tiny_video_reid_cfg(num_classes=2),
            test_dataloader=dict(
                dataset=dict(pipeline=[
                    dict(type='AllFramesSample', clip_len=2),
                    dict(type='LoadFrames'),
                    dict(type='ClipResize', scale=(16, 32)),
                    dict(type='PackReIDInputs', with_label=False),
                ]))))
    torch.manual_seed(0)
    save_checkpoint(init_model(cfg).state_dict(), osp.join(tmp, 'm.pth'))
    cfg.dump(osp.join(tmp, 'm.py'))
    return [osp.join(tmp, 'm.py'), osp.join(tmp, 'm.pth')]


class TestDemo(TestCase):

    @pytest.mark.slow  # the demo end to end
    def test_folders_to_figure(self):
        demo = load_tool('demo/video_reid_demo.py')
        rng = np.random.default_rng(0)
        with tempfile.TemporaryDirectory() as tmp:
            model = _model(tmp)
            # Person 7 is red, person 8 blue; gallery folder names carry ids.
            _write_tracklet(osp.join(tmp, 'q', '7_a'), (220, 30, 30), 3, rng)
            for name, color in (('8_x', (30, 30, 220)), ('7_y', (220, 30, 30)),
                                ('8_z', (30, 30, 220))):
                _write_tracklet(osp.join(tmp, 'g', name), color, 5, rng)
            out = osp.join(tmp, 'ranked.png')
            image = demo.main([
                *model, '--query',
                osp.join(tmp, 'q', '7_a'), '--gallery',
                osp.join(tmp, 'g'), '--out', out, '--topk', '2', '--frames',
                '2', '--pid-regex', r'^(\d+)_'
            ])
            saved = cv2.imread(out)[..., ::-1]
            np.testing.assert_array_equal(saved, image)
            layout = RankedListLayout(1, 3, frames_per_tracklet=2)
            self.assertEqual(image.shape, layout.shape)
            # The same-colour tracklet ranks first (green), then a blue one.
            for col, want in ((1, MATCH_COLOR), (2, MISMATCH_COLOR)):
                x, y = layout.box_origin(0, col)
                self.assertEqual(tuple(image[y, x]), want)

            with self.assertRaisesRegex(ValueError, 'no group matching'):
                demo.main([
                    *model, '--query',
                    osp.join(tmp, 'q', '7_a'), '--gallery',
                    osp.join(tmp, 'g'), '--out', out, '--pid-regex', r'^z'
                ])

    @pytest.mark.slow  # the demo end to end
    def test_converter_tree_with_cameras(self):
        """The converter's <pid>/<tracklet>/<frames> lists: identity from
        the relative path, cameras from the names; the gallery tracklet of
        the query's camera is left out, pid and camera are in the labels."""
        demo = load_tool('demo/video_reid_demo.py')
        rng = np.random.default_rng(1)
        red, blue = (220, 30, 30), (30, 30, 220)
        with tempfile.TemporaryDirectory() as tmp:
            model = _model(tmp)
            _write_tracklet(osp.join(tmp, 'q', '7', 'C1_a'), red, 3, rng)
            for rel, color in (('7/C1_b', red), ('7/C3_c', red), ('8/C3_d',
                                                                  blue)):
                _write_tracklet(osp.join(tmp, 'g', rel), color, 4, rng)
            out = osp.join(tmp, 'ranked.png')
            with mock.patch(
                    'mmreid_video.visualization.draw_ranked_list',
                    wraps=draw_ranked_list) as draw, redirect_stdout(
                        io.StringIO()) as printed:
                demo.main([
                    *model, '--query',
                    osp.join(tmp, 'q'), '--gallery',
                    osp.join(tmp,
                             'g'), '--out', out, '--topk', '3', '--frames',
                    '2', '--pid-regex', r'^(\d+)/', '--cam-pattern', r'C(\d+)_'
                ])
            (query, gallery), = draw.call_args.args[0]
            self.assertEqual(query.lines, ('query', 'C1_a id 7 cam 1'))
            # 7/C1_b shares the query's camera: left out.
            self.assertEqual([p.lines[1] for p in gallery],
                             ['C3_c id 7 cam 3', 'C3_d id 8 cam 3'])
            self.assertEqual([p.match for p in gallery], [True, False])
            lines = printed.getvalue().splitlines()
            self.assertEqual(lines[0], 'excluded: same camera as the query')
            self.assertTrue(lines[1].startswith('query 7/C1_a: #1 7/C3_c d='))

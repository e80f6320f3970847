import glob
import os.path as osp
import tempfile
from unittest import TestCase, skipIf

import cv2
import numpy as np
from mmengine.registry import init_default_scope
from mmengine.visualization import BaseVisBackend

from mmreid_video.registry import VISBACKENDS, VISUALIZERS
from mmreid_video.visualization import (MATCH_COLOR, RankedListLayout,
                                        ReIDVisualizer, gallery_panel,
                                        query_panel)

try:
    import tensorboard  # noqa: F401
    HAS_TENSORBOARD = True
except ImportError:
    HAS_TENSORBOARD = False


@VISBACKENDS.register_module(force=True)
class _RecordingBackend(BaseVisBackend):
    """Keeps what it is given, to check the visualizer's calls."""

    def __init__(self, save_dir=None):
        super().__init__(save_dir)
        self.images = []

    def _init_env(self):
        pass

    @property
    def experiment(self):
        return self

    def add_image(self, name, image, step=0, **kwargs):
        self.images.append((name, image, step))


def _rows():
    frame = np.full((32, 16, 3), 90, np.uint8)
    return [(query_panel([frame], camid=0, pid=1),
             [gallery_panel([frame], 1, 0.2, camid=1, pid=1, match=True)])]


class TestReIDVisualizer(TestCase):

    def test_draw_and_record(self):
        init_default_scope('mmreid_video')
        with tempfile.TemporaryDirectory() as tmp:
            vis = VISUALIZERS.build(
                dict(
                    type='ReIDVisualizer',
                    name='test_draw_and_record',
                    vis_backends=[
                        dict(type='LocalVisBackend'),
                        dict(type='_RecordingBackend')
                    ],
                    save_dir=tmp))
            self.assertIsInstance(vis, ReIDVisualizer)
            img = vis.draw_ranked_list(_rows(), frames_per_tracklet=2)
            self.assertEqual(
                img.shape,
                RankedListLayout(1, 2, frames_per_tracklet=2).shape)
            np.testing.assert_array_equal(vis.get_image(), img)
            vis.add_ranked_list('ranked_list', img, step=3)

            # LocalVisBackend: vis_data/vis_image/<name>_<step>.png, RGB.
            files = glob.glob(osp.join(tmp, 'vis_data', 'vis_image', '*'))
            self.assertEqual([osp.basename(f) for f in files],
                             ['ranked_list_3.png'])
            saved = cv2.cvtColor(cv2.imread(files[0]), cv2.COLOR_BGR2RGB)
            np.testing.assert_array_equal(saved, img)
            x, y = RankedListLayout(
                1, 2, frames_per_tracklet=2).box_origin(0, 1)
            self.assertEqual(tuple(saved[y, x]), MATCH_COLOR)

            recorded = vis.get_backend('_RecordingBackend').images
            self.assertEqual(len(recorded), 1)
            self.assertEqual(recorded[0][0], 'ranked_list')
            self.assertIs(recorded[0][1], img)
            self.assertEqual(recorded[0][2], 3)

            with self.assertRaisesRegex(ValueError, r'\(H, W, 3\) uint8'):
                vis.add_ranked_list('bad', img.astype(np.float32))

    @skipIf(not HAS_TENSORBOARD,
            'tensorboard not installed (optional: pip install tensorboard)')
    def test_tensorboard_backend(self):
        with tempfile.TemporaryDirectory() as tmp:
            vis = ReIDVisualizer(
                name='test_tensorboard_backend',
                vis_backends=[dict(type='TensorboardVisBackend')],
                save_dir=tmp)
            img = vis.draw_ranked_list(_rows())
            vis.add_ranked_list('ranked_list', img, step=1)
            vis.close()
            events = glob.glob(
                osp.join(tmp, 'vis_data', '**', 'events.out.tfevents.*'),
                recursive=True)
            self.assertEqual(len(events), 1)
            self.assertGreater(osp.getsize(events[0]), 0)

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
                                        ReIDVisualizer)

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


def _dump():
    """One query (row 0, pid 1) ranking gallery row 1 (pid 1) first."""
    return dict(
        pids=np.array([1, 1, 2]),
        camids=np.array([0, 1, 1]),
        sample_idx=np.arange(3),
        query_indices=np.array([0]),
        gallery_indices=np.array([1, 2]),
        ranked_gallery=np.array([[0, 1]]),
        ranked_distances=np.array([[0.2, 0.5]], np.float32),
        query_ap=np.array([1.0]),
        camera_names=np.array(['cam 1', 'cam 2']))


def _frames_of(index):
    return [np.full((32, 16, 3), 90 + index, np.uint8)]


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
            out_dir = osp.join(tmp, 'pngs')
            figures = vis.draw_ranked_lists(
                _dump(), [0, 0, 0],
                _frames_of,
                topk=1,
                per_figure=2,
                frames_per_tracklet=2,
                out_dir=out_dir)
            self.assertEqual(len(figures), 2)
            img = figures[0]
            self.assertEqual(
                img.shape,
                RankedListLayout(2, 2, frames_per_tracklet=2).shape)
            np.testing.assert_array_equal(vis.get_image(), figures[1])

            # LocalVisBackend: vis_data/vis_image/<name>_<step>.png, RGB.
            files = sorted(
                glob.glob(osp.join(tmp, 'vis_data', 'vis_image', '*')))
            self.assertEqual([osp.basename(f) for f in files],
                             ['ranked_list_0.png', 'ranked_list_1.png'])
            saved = cv2.cvtColor(cv2.imread(files[0]), cv2.COLOR_BGR2RGB)
            np.testing.assert_array_equal(saved, img)
            x, y = RankedListLayout(
                2, 2, frames_per_tracklet=2).box_origin(0, 1)
            self.assertEqual(tuple(saved[y, x]), MATCH_COLOR)
            # out_dir gets the same files.
            np.testing.assert_array_equal(
                cv2.imread(osp.join(out_dir, 'ranked_list_0.png')),
                cv2.imread(files[0]))

            recorded = vis.get_backend('_RecordingBackend').images
            self.assertEqual([(r[0], r[2]) for r in recorded],
                             [('ranked_list', 0), ('ranked_list', 1)])
            self.assertIs(recorded[0][1], img)

            with self.assertRaisesRegex(OSError, r'ranked_list_0\.png/sub'):
                vis.draw_ranked_lists(
                    _dump(), [0],
                    _frames_of,
                    topk=1,
                    out_dir=osp.join(files[0], 'sub'))

    @skipIf(not HAS_TENSORBOARD,
            'tensorboard not installed (optional: pip install tensorboard)')
    def test_tensorboard_backend(self):
        with tempfile.TemporaryDirectory() as tmp:
            vis = ReIDVisualizer(
                name='test_tensorboard_backend',
                vis_backends=[dict(type='TensorboardVisBackend')],
                save_dir=tmp)
            vis.draw_ranked_lists(_dump(), [0], _frames_of, topk=2)
            vis.close()
            events = glob.glob(
                osp.join(tmp, 'vis_data', '**', 'events.out.tfevents.*'),
                recursive=True)
            self.assertEqual(len(events), 1)
            self.assertGreater(osp.getsize(events[0]), 0)

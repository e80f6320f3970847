# Copyright (c) mmreid_video contributors. All rights reserved.
import tempfile
from unittest import TestCase

import cv2
import numpy as np
import pytest

from mmreid_video.visualization import (MATCH_COLOR, MISMATCH_COLOR,
                                        QUERY_COLOR, RankedListLayout,
                                        TrackletPanel, camera_label,
                                        draw_ranked_list, gallery_panel,
                                        load_frames, query_panel,
                                        sample_indices)


def _frames(value, num=3, size=(40, 20)):
    return [np.full((*size, 3), value + i, np.uint8) for i in range(num)]


class TestSampleIndices(TestCase):

    def test_even_and_bounded(self):
        np.testing.assert_array_equal(sample_indices(10, 4), [0, 3, 6, 9])
        np.testing.assert_array_equal(sample_indices(2, 4), [0, 1])
        np.testing.assert_array_equal(sample_indices(1, 3), [0])
        with self.assertRaisesRegex(ValueError, 'length=0'):
            sample_indices(0, 3)


class TestDrawRankedList(TestCase):

    def setUp(self):
        # Query 0 (pid 1): ranks 1 and 3 right, rank 2 wrong.
        # Query 1 (pid 2): rank 1 wrong, only two results.
        self.matches = [[True, False, True], [False, True]]
        self.rows = []
        for r, (pid, matches) in enumerate(zip([1, 2], self.matches)):
            gallery = [
                gallery_panel(
                    _frames(20 * (r + c)),
                    rank=c + 1,
                    distance=0.1 * (c + 1),
                    camid=c,
                    pid=pid if m else 9,
                    match=m) for c, m in enumerate(matches)
            ]
            self.rows.append((query_panel(_frames(200), 0, pid), gallery))

    def test_layout_and_borders(self):
        args = dict(frames_per_tracklet=2, frame_size=(16, 32), border=3)
        img = draw_ranked_list(self.rows, num_gallery=3, **args)
        layout = RankedListLayout(2, 4, **args)
        self.assertEqual(img.dtype, np.uint8)
        self.assertEqual(img.shape, layout.shape)
        # rows = queries, columns = 1 + k: box widths and gaps add up.
        h, w, _ = layout.shape
        self.assertEqual(w, 2 * 8 + 4 * (2 * 16 + 2 + 2 * 3) + 24 + 2 * 8)
        self.assertEqual(h, 2 * 8 + 2 * layout.cell_height + 8)
        for r, matches in enumerate(self.matches):
            x, y = layout.box_origin(r, 0)
            self.assertEqual(tuple(img[y + 1, x + 1]), QUERY_COLOR)
            for c, m in enumerate(matches, start=1):
                x, y = layout.box_origin(r, c)
                want = MATCH_COLOR if m else MISMATCH_COLOR
                # All four sides of the border carry the colour.
                for py, px in [(y, x + 5), (y + layout.box_height - 1, x + 5),
                               (y + 5, x), (y + 5, x + layout.box_width - 1)]:
                    self.assertEqual(tuple(img[py, px]), want, (r, c))
        # The missing third result of query 1 stays background.
        x, y = layout.box_origin(1, 3)
        self.assertEqual(tuple(img[y + 1, x + 1]), (255, 255, 255))
        # Frames are drawn inside the border: first frame of query row 0.
        x, y = layout.box_origin(0, 0)
        self.assertEqual(tuple(img[y + 3 + 10, x + 3 + 5]), (200, 200, 200))
        # Labels are drawn under the box.
        label = img[y + layout.box_height:y + layout.cell_height,
                    x:x + layout.box_width]
        self.assertTrue((label < 128).any())

    def test_default_k_and_errors(self):
        img = draw_ranked_list(self.rows)
        self.assertEqual(img.shape, RankedListLayout(2, 4).shape)
        with self.assertRaisesRegex(ValueError, 'num_gallery=2'):
            draw_ranked_list(self.rows, num_gallery=2)
        with self.assertRaisesRegex(ValueError, 'at least one'):
            draw_ranked_list([])
        bad = [(TrackletPanel([np.zeros((4, 4), np.uint8)]), [])]
        with self.assertRaisesRegex(ValueError, r'\(H, W, 3\) uint8'):
            draw_ranked_list(bad, num_gallery=1)
        with self.assertRaisesRegex(IndexError, 'outside'):
            RankedListLayout(1, 2).box_origin(1, 0)

    def test_unknown_identity_is_grey(self):
        rows = [(query_panel(_frames(0),
                             0), [gallery_panel(_frames(0), 1, 0.5, 1)])]
        img = draw_ranked_list(rows)
        x, y = RankedListLayout(1, 2).box_origin(0, 1)
        self.assertEqual(tuple(img[y, x]), (128, 128, 128))


class TestLoadFrames(TestCase):

    def test_rgb_and_missing(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = f'{tmp}/f.png'
            bgr = np.zeros((4, 2, 3), np.uint8)
            bgr[..., 0] = 255  # blue in BGR
            cv2.imwrite(path, bgr)
            rgb = load_frames([path])[0]
            self.assertEqual(tuple(rgb[0, 0]), (0, 0, 255))
            with self.assertRaisesRegex(FileNotFoundError, 'nope.png'):
                load_frames([f'{tmp}/nope.png'])
            # The dataset's reader: corrupt files are named too.
            with open(f'{tmp}/bad.jpg', 'wb') as f:
                f.write(b'not a jpeg')
            with self.assertRaisesRegex(OSError, r'bad\.jpg'):
                load_frames([f'{tmp}/bad.jpg'])


def test_camera_label():
    assert camera_label(0) == 'cam 0'
    assert camera_label(0, ('cam 1', 'cam 2')) == 'cam 1'
    assert query_panel([], camid=1, pid=3,
                       camera_names=('cam 1',
                                     'cam 2')).lines[1] == ('id 3 cam 2')
    with pytest.raises(IndexError, match='camid 2 outside'):
        camera_label(2, ('cam 1', 'cam 2'))

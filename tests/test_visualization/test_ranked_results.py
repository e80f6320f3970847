# Copyright (c) mmreid_video contributors. All rights reserved.
import os.path as osp
import tempfile
from unittest import TestCase

import cv2
import mmengine
import numpy as np

from mmreid_video.visualization import (MATCH_COLOR, MISMATCH_COLOR,
                                        RankedListLayout, check_dump_matches,
                                        dataset_frames, draw_ranked_figures,
                                        load_ranking_dump, ranked_rows,
                                        select_queries)


def make_dump():
    """3 queries (rows 0-2) and 4 gallery tracklets (rows 3-6).

    Query 0 (pid 1): gallery ranks pid 1, 2, 1 -> AP 1/2 * (1 + 2/3).
    Query 1 (pid 2): rank 1 pid 2 -> AP 1.
    Query 2 (pid 5): no match -> AP NaN; list padded with -1.
    """
    pids = np.array([1, 2, 5, 1, 2, 1, 3])
    return dict(
        features=np.zeros((7, 4), np.float32),
        pids=pids,
        camids=np.array([0, 0, 0, 1, 1, 2, 1]),
        sample_idx=np.arange(7),
        query_indices=np.array([0, 1, 2]),
        gallery_indices=np.array([3, 4, 5, 6]),
        # Positions in gallery_indices.
        ranked_gallery=np.array([[0, 1, 2], [1, 0, 3], [3, 2, -1]]),
        ranked_distances=np.array(
            [[.1, .2, .3], [.05, .4, .5], [.2, .3, np.inf]], np.float32),
        query_ap=np.array([(1 + 2 / 3) / 2, 1.0, np.nan]))


class FakeDataset:
    """Test split whose tracklet i has 3 PNG frames of grey level 30*i."""

    def __init__(self, root, pids):
        self.infos = []
        for i, pid in enumerate(pids):
            paths = []
            for f in range(3):
                path = osp.join(root, f'{i}_{f}.png')
                cv2.imwrite(path, np.full((20, 10, 3), 30 * i, np.uint8))
                paths.append(path)
            self.infos.append(
                dict(frame_paths=paths, pid=int(pid), tracklet_id=str(i)))

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


class TestRankedResults(TestCase):

    def test_load_pkl_npz_and_errors(self):
        dump = make_dump()
        with tempfile.TemporaryDirectory() as tmp:
            mmengine.dump(dump, osp.join(tmp, 'd.pkl'))
            np.savez(osp.join(tmp, 'd.npz'), **dump)
            for name in ('d.pkl', 'd.npz'):
                loaded = load_ranking_dump(osp.join(tmp, name))
                np.testing.assert_array_equal(loaded['ranked_gallery'],
                                              dump['ranked_gallery'])
                self.assertNotIn('features', loaded)
            del dump['query_ap']
            mmengine.dump(dump, osp.join(tmp, 'bad.pkl'))
            with self.assertRaisesRegex(KeyError, r"\['query_ap'\]"):
                load_ranking_dump(osp.join(tmp, 'bad.pkl'))
            dump = make_dump()
            dump['camids'] = dump['camids'][:3]
            mmengine.dump(dump, osp.join(tmp, 'bad.pkl'))
            with self.assertRaisesRegex(ValueError, 'inconsistent shapes'):
                load_ranking_dump(osp.join(tmp, 'bad.pkl'))
            with self.assertRaisesRegex(ValueError, '.pkl or .npz'):
                load_ranking_dump(osp.join(tmp, 'd.json'))
            # camera_names: read when present, () in older dumps; every
            # camid needs a label.
            self.assertEqual(
                load_ranking_dump(osp.join(tmp,
                                           'd.pkl'))['camera_names'].tolist(),
                [])
            dump = make_dump()
            dump['camera_names'] = np.array(['cam 1', 'cam 2', 'cam 3'])
            np.savez(osp.join(tmp, 'cams.npz'), **dump)
            self.assertEqual(
                load_ranking_dump(osp.join(
                    tmp, 'cams.npz'))['camera_names'].tolist(),
                ['cam 1', 'cam 2', 'cam 3'])
            dump['camera_names'] = np.array(['cam 1', 'cam 2'])
            mmengine.dump(dump, osp.join(tmp, 'bad.pkl'))
            with self.assertRaisesRegex(ValueError, 'camid 2 has no label'):
                load_ranking_dump(osp.join(tmp, 'bad.pkl'))

    def test_select_queries(self):
        dump = make_dump()
        self.assertEqual(select_queries(dump, 'first', 2).tolist(), [0, 1])
        self.assertEqual(select_queries(dump, 'best', 5).tolist(), [1, 0])
        self.assertEqual(select_queries(dump, 'worst', 1).tolist(), [0])
        self.assertEqual(
            select_queries(dump, 'first', 5, pids=[5, 2]).tolist(), [1, 2])
        rand = select_queries(dump, 'random', 2, seed=3)
        self.assertEqual(len(set(rand.tolist())), 2)
        np.testing.assert_array_equal(
            rand, select_queries(dump, 'random', 2, seed=3))
        self.assertEqual(
            select_queries(dump, query_index=[2, 0]).tolist(), [2, 0])
        with self.assertRaisesRegex(IndexError, 'outside the 3 queries'):
            select_queries(dump, query_index=[3])
        with self.assertRaisesRegex(ValueError, 'select must be one of'):
            select_queries(dump, 'top')
        with self.assertRaisesRegex(ValueError, 'No query has a pid'):
            select_queries(dump, pids=[9])

    def test_rows_and_figure(self):
        dump = make_dump()
        with tempfile.TemporaryDirectory() as tmp:
            dataset = FakeDataset(tmp, dump['pids'])
            check_dump_matches(dump, dataset)
            frames_of = dataset_frames(dataset, 2)
            rows = ranked_rows(dump, [0, 1, 2], frames_of, topk=3)
            # Query 0: pids 1, 2, 1 -> right, wrong, right.
            self.assertEqual([p.match for p in rows[0][1]],
                             [True, False, True])
            self.assertEqual(rows[0][0].lines, ('query AP=0.83', 'id 1 cam 0'))
            self.assertEqual(rows[0][1][1].lines, ('#2 d=0.200', 'id 2 cam 1'))
            self.assertEqual([p.match for p in rows[1][1]],
                             [True, False, False])
            # Query 2: padded list stops early; no AP.
            self.assertEqual(len(rows[2][1]), 2)
            self.assertEqual(rows[2][0].lines[0], 'query')
            # Two sampled frames, read as RGB from the gallery's files.
            self.assertEqual(len(rows[1][1][0].frames), 2)
            self.assertEqual(int(rows[1][1][0].frames[0][0, 0, 0]), 30 * 4)

            figures = draw_ranked_figures(
                dump, [0, 1, 2],
                frames_of,
                topk=3,
                per_figure=2,
                frames_per_tracklet=2)
            self.assertEqual(len(figures), 2)
            layout = RankedListLayout(2, 4, frames_per_tracklet=2)
            self.assertEqual(figures[0].shape, layout.shape)
            self.assertEqual(
                figures[1].shape,
                RankedListLayout(1, 4, frames_per_tracklet=2).shape)
            colors = [MATCH_COLOR, MISMATCH_COLOR, MATCH_COLOR]
            for c, want in enumerate(colors, start=1):
                x, y = layout.box_origin(0, c)
                self.assertEqual(tuple(figures[0][y, x]), want)
            with self.assertRaisesRegex(ValueError, r'topk must be in \[1, 3'):
                ranked_rows(dump, [0], frames_of, topk=4)

            # Camera labels from the dump (MARS: camid 0 is 'cam 1').
            dump['camera_names'] = np.array(['c1', 'c2', 'c3'])
            rows = ranked_rows(dump, [0], frames_of, topk=2)
            self.assertEqual(rows[0][0].lines[1], 'id 1 c1')
            self.assertEqual(rows[0][1][1].lines[1], 'id 2 c2')

            dataset.infos[0]['pid'] = 7
            with self.assertRaisesRegex(ValueError, 'does not match'):
                check_dump_matches(dump, dataset)

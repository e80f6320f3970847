# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/visualizations/vis_ranked_list.py end to end: a test run through
the Runner with the metric dump, the ranked-list hook and the tool, and the
inference API against the test path."""
import glob
import json
import os.path as osp
import tempfile
from unittest import TestCase, mock

import cv2
import mmengine
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixture_models import tiny_video_reid_cfg
from mmengine.config import Config
from mmengine.runner import save_checkpoint
from tool_runner import load_tool

from mmreid_video.apis import extract_tracklet_features, init_model
from mmreid_video.visualization import (MATCH_COLOR, MISMATCH_COLOR,
                                        RankedListLayout)

# A test run through the Runner.
pytestmark = pytest.mark.slow

COLORS = {1: (200, 40, 40), 2: (40, 200, 40), 3: (40, 40, 200)}


def make_data(root):
    """3 persons, a query in camera 0 and two gallery tracklets in
    cameras 1/2 each, frames tinted by person; JSON annotation."""
    rng = np.random.default_rng(0)
    ann = dict(train=[], query=[], gallery=[])
    for pid, color in COLORS.items():
        for cam, split in ((0, 'query'), (1, 'gallery'), (2, 'gallery')):
            paths = []
            for f in range(3 + pid):  # lengths 4..6 frames
                img = np.clip(
                    np.array(color) + rng.normal(0, 20, (32, 16, 3)), 0,
                    255).astype(np.uint8)
                rel = f'{pid}/c{cam}_{f}.png'
                mmengine.mkdir_or_exist(osp.join(root, str(pid)))
                cv2.imwrite(osp.join(root, rel), img[..., ::-1])
                paths.append(rel)
            ann[split].append(
                dict(
                    tracklet_id=f'{pid}c{cam}',
                    pid=pid,
                    camid=cam,
                    frame_paths=paths))
    ann['train'] = ann['gallery'][:1]
    with open(osp.join(root, 'ann.json'), 'w') as f:
        json.dump(ann, f)


def make_config(root, work_dir):
    pipeline = [
        dict(type='AllFramesSample', clip_len=2),
        dict(type='LoadFrames'),
        dict(type='ClipResize', scale=(16, 32)),
        dict(type='PackReIDInputs', with_label=False),
    ]
    return Config(
        dict(
            default_scope='mmreid_video',
            work_dir=work_dir,
            model=tiny_video_reid_cfg(),
            test_dataloader=dict(
                batch_size=2,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(
                    type='CustomVideoReIDDataset',
                    data_root=root,
                    ann_file=osp.join(root, 'ann.json'),
                    split='test',
                    pipeline=pipeline)),
            test_evaluator=dict(type='VideoReIDMetric', max_rank=5),
            test_cfg=dict(type='TestLoop'),
            custom_hooks=[
                dict(
                    type='RankedListVisualizationHook',
                    num_queries=3,
                    topk=4,
                    frames_per_tracklet=2,
                    out_dir='hook_figs')
            ],
            visualizer=dict(
                type='ReIDVisualizer',
                vis_backends=[dict(type='LocalVisBackend')]),
            default_hooks=dict(logger=dict(type='LoggerHook'))))


class TestVisRankedList(TestCase):

    def test_end_to_end(self):
        tool = load_tool('tools/visualizations/vis_ranked_list.py')
        with tempfile.TemporaryDirectory() as tmp:
            data_root, work_dir = osp.join(tmp, 'data'), osp.join(tmp, 'work')
            make_data(data_root)
            cfg = make_config(data_root, work_dir)
            torch.manual_seed(0)
            model = init_model(cfg)
            ckpt = osp.join(tmp, 'tiny.pth')
            save_checkpoint(model.state_dict(), ckpt)
            cfg_file = osp.join(tmp, 'tiny.py')
            cfg.dump(cfg_file)
            out_dir = osp.join(tmp, 'figs')

            # CHECKPOINT mode: runs the test (metric dump + hook), draws.
            files = tool.main([
                cfg_file, ckpt, '--out-dir', out_dir, '--topk', '3',
                '--frames', '2', '--num', '2', '--work-dir', work_dir
            ])
            self.assertEqual(files, [osp.join(out_dir, 'ranked_list_0.png')])
            img = cv2.imread(files[0])[..., ::-1]
            layout = RankedListLayout(2, 4, frames_per_tracklet=2)
            self.assertEqual(img.shape, layout.shape)

            dump = mmengine.load(osp.join(out_dir, 'ranked_lists.pkl'))
            pids = dump['pids']
            for r in range(2):
                q_pid = pids[dump['query_indices'][r]]
                for c in range(3):
                    g_row = dump['gallery_indices'][dump['ranked_gallery'][r,
                                                                           c]]
                    want = (
                        MATCH_COLOR
                        if pids[g_row] == q_pid else MISMATCH_COLOR)
                    x, y = layout.box_origin(r, c + 1)
                    self.assertEqual(tuple(img[y, x]), want, (r, c))

            # The hook wrote its figure (3 queries x top-4) through the
            # visualizer backend and to its out_dir.
            hook_files = glob.glob(
                osp.join(work_dir, '*', 'vis_data', 'vis_image',
                         'ranked_list_0.png'))
            self.assertEqual(len(hook_files), 1)
            hook_img = cv2.imread(hook_files[0])
            self.assertEqual(
                hook_img.shape,
                RankedListLayout(3, 5, frames_per_tracklet=2).shape)
            self.assertEqual(
                len(glob.glob(osp.join(work_dir, '*', 'hook_figs', '*.png'))),
                1)

            # --dump mode redraws the same figure without the model.
            redo = tool.main([
                cfg_file, '--dump',
                osp.join(out_dir, 'ranked_lists.pkl'), '--out-dir',
                osp.join(tmp, 'redo'), '--topk', '3', '--frames', '2', '--num',
                '2'
            ])
            np.testing.assert_array_equal(cv2.imread(redo[0]), img[..., ::-1])

            # The inference API gives the test path's descriptors.
            dataset_infos = json.load(open(osp.join(data_root, 'ann.json')))
            tracklets = [[osp.join(data_root, p) for p in t['frame_paths']]
                         for t in dataset_infos['query'] +
                         dataset_infos['gallery']]
            api = extract_tracklet_features(
                init_model(cfg_file, ckpt), tracklets, batch_size=4)
            test_path = F.normalize(torch.from_numpy(dump['features']), dim=1)
            torch.testing.assert_close(api, test_path, atol=1e-5, rtol=0)

    def test_search_results_mode_arguments(self):
        """--search-results draws without a config; what needs one, or an
        AP, is refused before anything is read."""
        tool = load_tool('tools/visualizations/vis_ranked_list.py')
        for argv in (['cfg.py', '--search-results', 'r.json'
                      ], ['--search-results', 'r.json', '--dump', 'd.pkl'],
                     ['--search-results', 'r.json', '--select', 'worst'], []):
            with self.assertRaises(SystemExit), mock.patch('sys.stderr'):
                tool.parse_args(argv)
        args = tool.parse_args(['--search-results', 'r.json', '--num', '2'])
        self.assertEqual((args.config, args.search_results), (None, 'r.json'))

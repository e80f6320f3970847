# Copyright (c) mmreid_video contributors. All rights reserved.
import math
import os
import os.path as osp
import pickle
import tempfile
from unittest import TestCase, mock

import mmengine
import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmreid_video.evaluation import VideoReIDMetric
from mmreid_video.registry import METRICS

# (angle in degrees, pid, camid, is_query, is_gallery). Query 0 (0 deg):
# sample 0 is its junk, sample 2 (10 deg, pid 2) comes before its match
# sample 1 (30 deg): AP 1/2, first hit at 2. Query 3 (12 deg): its match
# sample 2 is nearest: AP 1.
TOY = [(0, 1, 0, True, True), (30, 1, 1, False, True), (10, 2, 1, False, True),
       (12, 2, 0, True, False)]


def make_samples(spec=TOY):
    samples = []
    for idx, (angle, pid, camid, is_query, is_gallery) in enumerate(spec):
        rad = math.radians(angle)
        sample = DataSample(
            metainfo=dict(
                pid=pid,
                camid=camid,
                is_query=is_query,
                is_gallery=is_gallery,
                sample_idx=idx))
        sample.set_field(
            torch.tensor([math.cos(rad), math.sin(rad)]) * (idx + 1),
            'pred_feature')
        samples.append(sample.to_dict())
    return samples


def random_samples(num=23, seed=0):
    rng = np.random.default_rng(seed)
    samples = []
    for idx in range(num):
        sample = DataSample(
            metainfo=dict(
                pid=int(rng.integers(0, 5)),
                camid=int(rng.integers(0, 3)),
                is_query=bool(idx % 3 == 0),
                is_gallery=bool(idx % 3 != 0 or idx % 2 == 0),
                sample_idx=idx))
        sample.set_field(
            torch.from_numpy(rng.standard_normal(8).astype(np.float32)),
            'pred_feature')
        samples.append(sample.to_dict())
    return samples


class TestVideoReIDMetric(TestCase):

    def setUp(self):
        init_default_scope('mmreid_video')

    def test_hand_computed(self):
        metric = METRICS.build(dict(type='VideoReIDMetric'))
        samples = make_samples()
        # Shuffled batches plus a padded duplicate of sample 0.
        metric.process(None, [samples[3], samples[1]])
        metric.process(None, [samples[0], samples[2], samples[0]])
        res = metric.evaluate(5)
        expected = {
            'reid/mAP': 75.0,
            'reid/R1': 50.0,
            'reid/R5': 100.0,
            'reid/R10': 100.0,
            'reid/R20': 100.0,
            'reid/mINP': 75.0
        }
        self.assertEqual(set(res), set(expected))
        for key, value in expected.items():
            self.assertAlmostEqual(res[key], value, places=5, msg=key)

    def test_trapezoid_and_max_rank(self):
        metric = VideoReIDMetric(
            ap_mode='trapezoid', max_rank=5, prefix='test')
        metric.process(None, make_samples())
        res = metric.evaluate(4)
        self.assertEqual(
            set(res), {'test/mAP', 'test/R1', 'test/R5', 'test/mINP'})
        # Query 0: one hit at rank 2 adds 1 * (0/1 + 1/2) / 2; query 3: 1.
        self.assertAlmostEqual(res['test/mAP'], (0.25 + 1) / 2 * 100)
        self.assertAlmostEqual(res['test/R1'], 50.0)

    def test_euclidean(self):
        # Features have norms 1..4: sample 2 (norm 3) is now far from
        # query 0 (norm 1), whose match sample 1 (norm 2) comes first.
        metric = VideoReIDMetric(distance='euclidean')
        metric.process(None, make_samples())
        res = metric.evaluate(4)
        self.assertAlmostEqual(res['reid/mAP'], 100.0, places=5)
        self.assertAlmostEqual(res['reid/R1'], 100.0, places=5)

    def test_calculate_matches_functional(self):
        samples = random_samples()
        feats = torch.stack([s['pred_feature'] for s in samples])
        pids = np.array([s['pid'] for s in samples])
        cams = np.array([s['camid'] for s in samples])
        q = np.array([s['is_query'] for s in samples])
        g = np.array([s['is_gallery'] for s in samples])
        res = VideoReIDMetric.calculate(feats[q], feats[g], pids[q], pids[g],
                                        cams[q], cams[g])
        dense = VideoReIDMetric.calculate(
            feats[q],
            feats[g],
            pids[q],
            pids[g],
            cams[q],
            cams[g],
            return_distmat=True)
        self.assertEqual(dense['distmat'].shape, (q.sum(), g.sum()))
        self.assertAlmostEqual(res['mAP'], dense['mAP'], places=12)
        np.testing.assert_allclose(res['cmc'], dense['cmc'])

    def test_dump(self):
        with tempfile.TemporaryDirectory() as tmp:
            for ext in ('pkl', 'npz'):
                out = osp.join(tmp, f'sub/ranks.{ext}')
                metric = VideoReIDMetric(out_file=out, max_rank=5)
                metric.process(None, make_samples()[::-1])
                res = metric.evaluate(4)
                self.assertAlmostEqual(res['reid/mAP'], 75.0, places=5)
                data = (
                    mmengine.load(out) if ext == 'pkl' else dict(np.load(out)))
                np.testing.assert_array_equal(data['sample_idx'], [0, 1, 2, 3])
                np.testing.assert_array_equal(data['query_indices'], [0, 3])
                np.testing.assert_array_equal(data['gallery_indices'],
                                              [0, 1, 2])
                # Gallery positions; the junk sample 0 is left out.
                np.testing.assert_array_equal(data['ranked_gallery'],
                                              [[2, 1, -1], [2, 0, 1]])
                self.assertEqual(data['features'].shape, (4, 2))
                np.testing.assert_allclose(data['query_ap'], [0.5, 1.0])

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, 'distance'):
            VideoReIDMetric(distance='manhattan')
        with self.assertRaisesRegex(ValueError, 'ap_mode'):
            VideoReIDMetric(ap_mode='11point')
        with self.assertRaisesRegex(ValueError, 'rerank_cfg'):
            VideoReIDMetric(rerank=True, rerank_cfg=dict(k=3))
        with self.assertRaisesRegex(ValueError, r'\.pkl or \.npz'):
            VideoReIDMetric(out_file='ranks.json')
        metric = VideoReIDMetric()
        sample = make_samples()[0]
        del sample['camid']
        with self.assertRaisesRegex(KeyError, 'camid'):
            metric.process(None, [sample])
        metric.process(None, [
            s for s in make_samples() if s['is_gallery'] and not s['is_query']
        ])
        with self.assertRaisesRegex(ValueError, '0 query and 2 gallery'):
            metric.evaluate(2)
        # tools/test.py sets out_file after construction.
        metric.process(None, make_samples())
        metric.out_file = 'ranks.json'
        with self.assertRaisesRegex(ValueError, r'\.pkl or \.npz'):
            metric.evaluate(4)

    def test_rerank_option(self):
        samples = random_samples(40, seed=1)
        metric = VideoReIDMetric(
            rerank=True, rerank_cfg=dict(k1=4, k2=2, lambda_value=0.3))
        metric.process(None, samples)
        res = metric.evaluate(40)
        plain = VideoReIDMetric()
        plain.process(None, samples)
        base = plain.evaluate(40)
        self.assertEqual(set(res), set(base))
        self.assertTrue(0 <= res['reid/mAP'] <= 100)
        self.assertNotEqual(res['reid/mAP'], base['reid/mAP'])

    def test_no_positive(self):
        # TOY plus query 4 (50 deg, pid 3, cam 0) whose only same-pid item,
        # sample 5 (60 deg, gallery), is in its own camera: no valid match.
        # Sample 5 comes after the matches of queries 0 and 3.
        spec = TOY + [(50, 3, 0, True, False), (60, 3, 0, False, True)]
        with self.assertRaisesRegex(ValueError, 'no_positive'):
            VideoReIDMetric(no_positive='drop')
        expected = dict(
            # Skipped: the toy numbers.
            skip=dict(mAP=75.0, R1=50.0, R5=100.0, mINP=75.0),
            # Zero (the LS-VID kit): AP 1/2, 1 and 0, first hits at 2, 1
            # and never, INP 1/2, 1 and 0.
            zero=dict(mAP=50.0, R1=100 / 3, R5=200 / 3, mINP=50.0))
        with tempfile.TemporaryDirectory() as tmp:
            for mode, values in expected.items():
                metric = VideoReIDMetric(
                    no_positive=mode,
                    max_rank=5,
                    out_file=osp.join(tmp, f'{mode}.pkl'))
                metric.process(None, make_samples(spec))
                with mock.patch('mmreid_video.evaluation.metrics.'
                                'video_reid_metric.print_log') as log, \
                        self.assertWarnsRegex(UserWarning, '1 of 3 queries'):
                    res = metric.evaluate(len(spec))
                for key, value in values.items():
                    self.assertAlmostEqual(
                        res[f'reid/{key}'], value, places=5, msg=(mode, key))
                header = log.call_args_list[0].args[0].splitlines()[0]
                self.assertIn(
                    '3 queries (2 with a valid match; 1 without: ' +
                    ('skipped' if mode == 'skip' else
                     "counted as AP 0, no_positive='zero'") + '), 4 gallery',
                    header)
                query_ap = mmengine.load(metric.out_file)['query_ap']
                np.testing.assert_allclose(
                    query_ap, [0.5, 1.0, np.nan if mode == 'skip' else 0])
                # Without a dump the metric ranks by features: the same.
                fused = VideoReIDMetric(no_positive=mode, max_rank=5)
                fused.process(None, make_samples(spec))
                with self.assertWarnsRegex(UserWarning, '1 of 3 queries'):
                    self.assertEqual(fused.evaluate(len(spec)), res)

    def test_device_key_equals_cpu_path(self):
        samples = random_samples(40, seed=2)
        results = []
        for device in (None, 'cpu'):
            metric = VideoReIDMetric(device=device)
            metric.process(None, samples)
            results.append(metric.evaluate(40))
        self.assertEqual(results[0], results[1])

    def test_dump_camera_names_and_atomic_write(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = osp.join(tmp, 'ranks.pkl')
            metric = VideoReIDMetric(out_file=out, max_rank=5)
            metric.dataset_meta = dict(camera_names=('cam 1', 'cam 2'))
            metric.process(None, make_samples())
            metric.evaluate(4)
            data = mmengine.load(out)
            self.assertEqual(data['camera_names'].tolist(), ['cam 1', 'cam 2'])
            self.assertEqual(os.listdir(tmp), ['ranks.pkl'])
            # Readable like any file the user writes (umask), not private.
            umask = os.umask(0)
            os.umask(umask)
            self.assertEqual(os.stat(out).st_mode & 0o777, 0o666 & ~umask)

            # A failing write leaves the old file whole, no temporary file,
            # and comes after the metrics were logged.
            before = open(out, 'rb').read()
            logged = []
            metric.process(None, make_samples())
            with mock.patch.object(
                    VideoReIDMetric, '_log_table',
                    side_effect=lambda *a: logged.append(a[0])), \
                    mock.patch('mmengine.dump',
                               side_effect=OSError('disk full')):
                with self.assertRaisesRegex(OSError, r'ranks\.pkl.*disk full'):
                    metric.evaluate(4)
            self.assertAlmostEqual(logged[0]['mAP'], 75.0, places=5)
            self.assertEqual(open(out, 'rb').read(), before)
            self.assertEqual(os.listdir(tmp), ['ranks.pkl'])

            # An unwritable target: the error names it.
            blocker = osp.join(tmp, 'file')
            open(blocker, 'w').close()
            metric.out_file = osp.join(blocker, 'sub', 'ranks.npz')
            metric.process(None, make_samples())
            with self.assertRaisesRegex(OSError, r'file/sub/ranks\.npz'):
                metric.evaluate(4)

    def test_non_finite_descriptor_or_id(self):
        metric = VideoReIDMetric()
        samples = make_samples()
        samples[2]['pred_feature'][1] = float('nan')
        with self.assertRaisesRegex(ValueError,
                                    'sample_idx 2` has NaN/inf values'):
            metric.process(None, samples)
        for key, value, error in (
            ('pid', float('nan'), 'NaN/inf'),
            ('camid', float('inf'), 'NaN/inf'),
            ('pid', torch.tensor(1.5), 'not integer ids'),
        ):
            sample = make_samples()[1]
            sample[key] = value
            with self.assertRaisesRegex(ValueError,
                                        f'`{key} of sample_idx 1` .*{error}'):
                metric.process(None, [sample])
        sample = make_samples()[1]
        sample['pid'] = True  # a flag, not an id
        with self.assertRaisesRegex(TypeError, 'integer ids, got dtype bool'):
            metric.process(None, [sample])


def _dist_worker(rank, world_size, port, samples, out_path):
    torch_dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    torch.set_num_threads(1)
    metric = VideoReIDMetric(max_rank=10)
    # DistributedSampler order: rank r takes r, r + W, ... of the list
    # padded with its head to a multiple of W.
    total = math.ceil(len(samples) / world_size) * world_size
    padded = samples + samples[:total - len(samples)]
    metric.process(None, padded[rank:total:world_size])
    res = metric.evaluate(len(samples))
    if rank == 0:
        with open(out_path, 'wb') as f:
            pickle.dump(res, f)
    torch_dist.destroy_process_group()


@pytest.mark.slow
def test_two_process_gloo_equals_single_process(free_port):
    samples = random_samples(23)
    single = VideoReIDMetric(max_rank=10)
    single.process(None, samples)
    expected = single.evaluate(len(samples))
    with tempfile.TemporaryDirectory() as tmp:
        out_path = osp.join(tmp, 'res.pkl')
        mp.spawn(
            _dist_worker,
            args=(2, free_port, samples, out_path),
            nprocs=2,
            join=True)
        with open(out_path, 'rb') as f:
            gathered = pickle.load(f)
    assert gathered == expected

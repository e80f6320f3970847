# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of the evaluation functions, the metric and the APIs."""
import numpy as np
import torch
from _adversarial_base import err, ok
from _adversarial_models import tiny_model

Q = np.array([[1., 0.], [0., 1.]], np.float32)
G = np.array([[1., 0.], [0., 1.], [1., 1.]], np.float32)
QP, GP, QC, GC = [1, 2], [1, 2, 3], [0, 0], [1, 1, 1]


def _rank(distmat=None, q_pids=QP, g_pids=GP, q_camids=QC, g_camids=GC, **kw):
    from mmreid_video.evaluation import compute_distance, evaluate_rank
    if distmat is None:
        distmat = compute_distance(Q, G)
    return evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, **kw)


def _with(arr, i, j, value):
    arr = np.array(arr, np.float32)
    arr[i, j] = value
    return arr


# ---- functional ranking ----------------------------------------------------
for _name, _value in (('NaN', np.nan), ('inf', np.inf), ('-inf', -np.inf)):

    @err('eval', f'{_name} in query features', 'query', 'row 1')
    def _(tmp, value=_value):
        from mmreid_video.evaluation import compute_distance
        compute_distance(_with(Q, 1, 0, value), G)

    @err('eval', f'{_name} in gallery features', 'gallery', 'row 2')
    def _(tmp, value=_value):
        from mmreid_video.evaluation import evaluate_rank_by_features
        evaluate_rank_by_features(Q, _with(G, 2, 1, value), QP, GP, QC, GC)


@err('eval', 'NaN in distmat', 'distance matrix', 'NaN')
def _(tmp):
    _rank(_with(np.ones((2, 3)), 0, 1, np.nan))


@ok('eval', 'inf distance ranks last', lambda m: abs(m - 2 / 3) < 1e-6)
def _(tmp):
    dist = np.array([[np.inf, .5, .6], [1., 0., 1.]], np.float32)
    return _rank(dist)['mAP']


@ok('eval', '-inf distance ranks first', lambda m: m == 1.)
def _(tmp):
    dist = np.array([[-np.inf, .5, .6], [1., 0., 1.]], np.float32)
    return _rank(dist)['mAP']


@err('eval', 'NaN in query pids', 'q_pids')
def _(tmp):
    _rank(q_pids=[1., np.nan])


@err('eval', 'float pids', 'q_pids')
def _(tmp):
    _rank(q_pids=[1.5, 2])


@err('eval', 'string pids', 'g_pids')
def _(tmp):
    _rank(g_pids=['a', 'b', 'c'])


@err('eval', 'distmat rows != query pids', '2 rows', '3 query')
def _(tmp):
    _rank(q_pids=[1, 2, 3], q_camids=[0, 0, 0])


@err('eval', 'distmat cols != gallery pids', 'g_pids')
def _(tmp):
    _rank(g_pids=[1, 2], g_camids=[1, 1])


@err('eval', 'camids length differs', 'q_camids')
def _(tmp):
    _rank(q_camids=[0])


@err('eval', '1-D distmat', '(Q, G)')
def _(tmp):
    _rank(np.ones(3, np.float32))


@err('eval', 'empty gallery', 'gallery')
def _(tmp):
    _rank(np.ones((2, 0), np.float32), g_pids=[], g_camids=[])


@err('eval', 'empty query', 'query')
def _(tmp):
    _rank(np.ones((0, 3), np.float32), q_pids=[], q_camids=[])


@err('eval', 'max_rank 0', 'max_rank')
def _(tmp):
    _rank(max_rank=0)


@err('eval', 'unknown ap_mode', 'ap_mode')
def _(tmp):
    _rank(ap_mode='11point')


@err('eval', 'no query has a match', 'match')
def _(tmp):
    _rank(g_pids=[7, 8, 9])


@ok('eval', 'max_rank > gallery size',
    lambda r: len(r['cmc']) == 20 and r['cmc'][-1] == 1.0)
def _(tmp):
    return _rank()


@ok('eval', 'tensor and numpy inputs agree', lambda same: same is True)
def _(tmp):
    a = _rank(
        torch.from_numpy(
            np.ascontiguousarray(_with(np.ones((2, 3)), 0, 0, 0.))),
        torch.tensor(QP))
    b = _rank(_with(np.ones((2, 3)), 0, 0, 0.))
    return a['mAP'] == b['mAP']


@ok('eval', 'float64 distmat ranks as float32', lambda m: abs(m - 1.) < 1e-6)
def _(tmp):
    return _rank(
        _with(np.ones((2, 3)), 0, 0, 0.).astype(np.float64) -
        np.eye(2, 3))['mAP']


@err('eval', 'feature dims differ', 'dims differ', '2 vs 5')
def _(tmp):
    from mmreid_video.evaluation import compute_distance
    compute_distance(Q, np.ones((3, 5), np.float32))


@err('eval', 'unknown distance', 'metric')
def _(tmp):
    from mmreid_video.evaluation import compute_distance
    compute_distance(Q, G, metric='manhattan')


@err('eval', 'chunk_size 0', 'chunk_size')
def _(tmp):
    from mmreid_video.evaluation import compute_distance
    compute_distance(Q, G, chunk_size=0)


@ok('eval', 'integer features cast to float', lambda same: same is True)
def _(tmp):
    from mmreid_video.evaluation import compute_distance
    q = np.array([[3, 0], [0, 2]])
    return bool((compute_distance(q, G) == compute_distance(Q, G)).all())


@err('eval', 'rerank k1 > gallery', 'k1')
def _(tmp):
    from mmreid_video.evaluation import k_reciprocal_rerank
    k_reciprocal_rerank(Q, G, k1=0)


@err('eval', 'rerank lambda > 1', 'lambda')
def _(tmp):
    from mmreid_video.evaluation import k_reciprocal_rerank
    k_reciprocal_rerank(Q, G, k1=2, k2=1, lambda_value=1.5)


@err('eval', 'rerank NaN features', 'query')
def _(tmp):
    from mmreid_video.evaluation import k_reciprocal_rerank
    k_reciprocal_rerank(_with(Q, 0, 0, np.nan), G)


@err('eval', 'rank_gallery topk 0', 'topk')
def _(tmp):
    from mmreid_video.evaluation import rank_gallery
    rank_gallery(np.ones((2, 3), np.float32), QP, GP, QC, GC, topk=0)


# ---- metric ----------------------------------------------------------------
def _sample(i, feat, pid=1, camid=0, q=True, g=False):
    return dict(
        pred_feature=torch.as_tensor(feat, dtype=torch.float32),
        pid=pid,
        camid=camid,
        is_query=q,
        is_gallery=g,
        sample_idx=i)


def _metric(samples, **kw):
    from mmreid_video.evaluation import VideoReIDMetric
    metric = VideoReIDMetric(**kw)
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


@err('metric', 'NaN descriptor', 'sample_idx 3')
def _(tmp):
    _metric([_sample(3, [np.nan, 1.])])


@err('metric', 'sample without pid', 'pid')
def _(tmp):
    s = _sample(0, [1., 0.])
    del s['pid']
    _metric([s])


@err('metric', 'string pid', 'sample_idx 0')
def _(tmp):
    _metric([_sample(0, [1., 0.], pid='a')])


@err('metric', 'no gallery samples', 'gallery')
def _(tmp):
    _metric([_sample(0, [1., 0.])])


@err('metric', 'no query samples', 'query')
def _(tmp):
    _metric([_sample(0, [1., 0.], q=False, g=True)])


@err('metric', 'descriptors of different sizes', 'sample_idx')
def _(tmp):
    _metric([_sample(0, [1., 0.]), _sample(1, [1., 0., 1.], q=False, g=True)])


@err('metric', 'unknown distance', 'distance')
def _(tmp):
    _metric([], distance='l1')


@err('metric', 'unknown rerank_cfg key', 'rerank_cfg')
def _(tmp):
    _metric([], rerank=True, rerank_cfg=dict(k3=1))


@err('metric', 'out_file unwritable', '/proc/x.pkl')
def _(tmp):
    _metric(
        [_sample(0, [1., 0.]),
         _sample(1, [1., 0.], camid=1, q=False, g=True)],
        out_file='/proc/x.pkl')


# ---- APIs ------------------------------------------------------------------
@err('apis', 'search with 1-D query', '(3,)')
def _(tmp):
    from mmreid_video.apis import search
    search(torch.ones(3), torch.ones(4, 3))


@err('apis', 'search dims differ', '3 vs 5')
def _(tmp):
    from mmreid_video.apis import search
    search(torch.ones(2, 3), torch.ones(4, 5))


@err('apis', 'search NaN query', 'query')
def _(tmp):
    from mmreid_video.apis import search
    search(torch.tensor([[np.nan, 1.]]), torch.ones(4, 2))


@err('apis', 'search inf gallery', 'gallery')
def _(tmp):
    from mmreid_video.apis import search
    search(torch.ones(1, 2), torch.tensor([[1., np.inf]]))


@err('apis', 'search topk 0', 'topk')
def _(tmp):
    from mmreid_video.apis import search
    search(torch.ones(1, 2), torch.ones(4, 2), topk=0)


@err('apis', 'search empty gallery', 'gallery')
def _(tmp):
    from mmreid_video.apis import search
    search(torch.ones(1, 2), torch.ones(0, 2))


@ok('apis', 'search numpy inputs', lambda r: r[0].tolist() == [[0, 1]])
def _(tmp):
    from mmreid_video.apis import search
    return search(np.array([[1., 0.]]), np.array([[1., 0.], [0., 1.]]))


@ok('apis', 'search k > G returns G', lambda r: r[0].shape == (1, 2))
def _(tmp):
    from mmreid_video.apis import search
    return search(torch.ones(1, 2), torch.ones(2, 2), topk=10)


@err('apis', 'extract: no tracklets', 'tracklet')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(tiny_model(), [])


@err('apis', 'extract: empty tracklet', 'Tracklet 1')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    frame = np.zeros((64, 32, 3), np.uint8)
    extract_tracklet_features(tiny_model(), [[frame], []])


@err('apis', 'extract: grey frame', 'Tracklet 0 frame 0', '(64, 32)')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(tiny_model(), [[np.zeros((64, 32), np.uint8)]])


@err('apis', 'extract: float frame', 'Tracklet 0 frame 0', 'float32')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(tiny_model(),
                              [[np.zeros((64, 32, 3), np.float32)]])


@err('apis', 'extract: missing frame file', '{tmp}/a.jpg')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(tiny_model(), [[str(tmp / 'a.jpg')]])


@err('apis', 'extract: tracklet a bare path', 'Tracklet 0')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(tiny_model(), [str(tmp / 'a.jpg')])


@err('apis', 'extract: batch_size 0', 'batch_size')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(
        tiny_model(), [[np.zeros((64, 32, 3))]], batch_size=0)


@err('apis', 'extract: clip_len 0', 'clip_len')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(
        tiny_model(), [[np.zeros((64, 32, 3), np.uint8)]], clip_len=0)


@err('apis', 'extract: model without cfg', 'init_model')
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    extract_tracklet_features(torch.nn.Linear(2, 2), [[np.zeros((4, 4, 3))]])


@ok('apis', 'extract: frames of mixed sizes', lambda f: f.shape == (1, 64))
def _(tmp):
    from mmreid_video.apis import extract_tracklet_features
    return extract_tracklet_features(
        tiny_model(),
        [[np.zeros((64, 32, 3), np.uint8),
          np.zeros((80, 40, 3), np.uint8)]])

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of GalleryIndex (build, search, files, merge) and the
feature shards of tools/extract_features.py."""
import numpy as np
from _adversarial_base import err, ok

F = np.random.default_rng(0).standard_normal((12, 8)).astype(np.float32)


def _index(mode='exact', feats=F, **kw):
    from mmreid_video.retrieval import GalleryIndex
    index = GalleryIndex(feats.shape[1], mode, **kw)
    index.add(
        feats, pids=np.arange(len(feats)), camids=np.zeros(len(feats), int))
    return index


def _saved(tmp, **kw):
    path = tmp / 'g.index'
    _index(**kw).save(str(path))
    return path


for _args, _kw, _frag in (
    ((0, ), {}, 'dim'),
    ((8, 'fast'), {}, 'mode'),
    ((8, ), dict(nlist=4), 'nlist'),
    ((8, 'compressed'), dict(pq_m=3), 'pq_m=3'),
    ((8, 'compressed'), dict(nlist=0), 'nlist'),
    ((8, 'compressed'), dict(pq_m=2, pq_bits=17), 'pq_bits'),
    ((8, 'compressed'), dict(pq_m=2, train_size=0), 'train_size'),
    ((8, ), dict(use_gpu='yes'), 'use_gpu'),
):

    @err('index', f'GalleryIndex{_args} {_kw}', _frag)
    def _(tmp, args=_args, kw=_kw):
        from mmreid_video.retrieval import GalleryIndex
        GalleryIndex(*args, **kw)


for _name, _feats, _frag in (
    ('add NaN rows', np.where(np.eye(3, 8) > 0, np.nan, 1.), 'feats'),
    ('add wrong dim', np.ones((3, 5)), 'feats'),
    ('add 1-D', np.ones(8), 'feats'),
    ('add bool', np.ones((3, 8), bool), 'feats'),
):

    @err('index', _name, _frag)
    def _(tmp, feats=_feats):
        from mmreid_video.retrieval import GalleryIndex
        GalleryIndex(8).add(feats)


@ok('index', 'add integer descriptors (compared as floats)',
    lambda i: i == [[1, 0]])
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    index = GalleryIndex(2)
    index.add(np.array([[0, 3], [5, 0]], np.int64))
    return index.search(np.array([[1., 0.]]), 2)[0].tolist()


for _scale, _dtype in ((1e19, np.float32), (1e-30, np.float32), (1e300,
                                                                 np.float64)):

    @ok('index', f'descriptors of {_scale:g} ({np.dtype(_dtype).name}) rank '
        'by cosine', lambda same: same is True)
    def _(tmp, scale=_scale, dtype=_dtype):
        ref = _index().search(F[:3], topk=5)[0]
        big = _index(feats=F.astype(dtype) * scale)
        return bool((big.search(F[:3].astype(dtype) * scale,
                                5)[0] == ref).all())


@err('index', 'add pids of another length', 'pids')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    GalleryIndex(8).add(F, pids=np.arange(3))


@err('index', 'add float pids', 'pids')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    GalleryIndex(8).add(F, pids=np.arange(12) + 0.5)


for _name, _query, _kw, _frag in (
    ('search NaN query', np.full((1, 8), np.nan), {}, 'query'),
    ('search wrong dim', np.ones((1, 4)), {}, 'query'),
    ('search topk 0', F[:1], dict(topk=0), 'topk'),
    ('search query pids without camids', F[:1], dict(query_pids=[1]),
     'camids'),
    ('search pids of another length', F[:2],
     dict(query_pids=[1], query_camids=[0]), 'pids'),
):

    @err('index', _name, _frag)
    def _(tmp, query=_query, kw=_kw):
        _index().search(query, **kw)


@err('index', 'search an empty index', 'empty')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    GalleryIndex(8).search(F[:1])


@ok('index', 'search topk > ntotal returns ntotal', lambda s: s == (1, 12))
def _(tmp):
    return tuple(_index().search(F[:1], topk=50)[0].shape)


@ok('index', 'exact search equals retrieval.search', lambda same: same is True)
def _(tmp):
    from mmreid_video.retrieval import search
    a = _index().search(F[:3], topk=5)[0]
    b = search(F[:3], F, topk=5)[0]
    return bool((a == b).all())


@err('index', 'load missing file', '{tmp}/none.index')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    GalleryIndex.load(str(tmp / 'none.index'))


@err('index', 'load empty file', '{tmp}/g.index')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    (tmp / 'g.index').write_bytes(b'')
    GalleryIndex.load(str(tmp / 'g.index'))


for _cut in (0.1, 0.5, 0.95):

    @err('index', f'load file truncated to {_cut:.0%}', '{tmp}/g.index')
    def _(tmp, cut=_cut):
        from mmreid_video.retrieval import GalleryIndex
        path = _saved(tmp)
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * cut)])
        GalleryIndex.load(str(path))


@err('index', 'load a flipped byte', '{tmp}/g.index')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    path = _saved(tmp)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    GalleryIndex.load(str(path))


@err('index', 'load a checkpoint file', '{tmp}/g.index')
def _(tmp):
    import torch

    from mmreid_video.retrieval import GalleryIndex
    torch.save(dict(a=1), tmp / 'g.index')
    GalleryIndex.load(str(tmp / 'g.index'))


@ok('index', 'save over an old file replaces it whole', lambda n: n == 12)
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    path = tmp / 'g.index'
    path.write_bytes(b'old')
    _index().save(str(path))
    return GalleryIndex.load(str(path)).ntotal


@ok('index', 'save into a missing folder creates it', lambda n: n == 12)
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    _index().save(str(tmp / 'no/g.index'))
    return GalleryIndex.load(str(tmp / 'no/g.index')).ntotal


@err('index', 'merge of different dims', 'dim')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    GalleryIndex.merge([_index(), _index(feats=np.ones((2, 4), np.float32))])


@err('index', 'merge of different modes', 'mode')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    big = np.random.default_rng(1).standard_normal((300, 8)).astype('f4')
    comp = _index('compressed', feats=big, nlist=2, pq_m=2)
    comp.train()
    GalleryIndex.merge([_index(), comp])


@err('index', 'merge of nothing', 'merge')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    GalleryIndex.merge([])


@err('index', 'merge labelled with unlabelled', 'pids')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    bare = GalleryIndex(8)
    bare.add(F)
    GalleryIndex.merge([_index(), bare])


@ok('index', 'merge keeps order and labels',
    lambda p: p == list(range(12)) * 2)
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    return GalleryIndex.merge([_index(), _index()]).pids.tolist()


@err('index', 'merge shards of different trainings', '{tmp}/a.gidx',
     '{tmp}/b.gidx')
def _(tmp):
    from mmreid_video.retrieval import GalleryIndex
    rng = np.random.default_rng(1)
    for name in ('a', 'b'):
        shard = GalleryIndex(8, 'compressed', nlist=2, pq_m=2)
        shard.add(rng.standard_normal((300, 8)))
        shard.train()
        shard.save(str(tmp / f'{name}.gidx'))
    GalleryIndex.merge(
        [GalleryIndex.load(str(tmp / f'{n}.gidx')) for n in 'ab'])


# ---- feature shards --------------------------------------------------------
@err('shards', 'read a missing shard', '{tmp}/s.npz')
def _(tmp):
    from mmreid_video.retrieval.feature_shards import read_shard
    read_shard(str(tmp / 's.npz'))


@err('shards', 'read a truncated shard', '{tmp}/s.npz')
def _(tmp):
    from mmreid_video.retrieval.feature_shards import read_shard
    np.savez(tmp / 's.npz', feats=F, indices=np.arange(12))
    data = (tmp / 's.npz').read_bytes()
    (tmp / 's.npz').write_bytes(data[:len(data) // 2])
    read_shard(str(tmp / 's.npz'))


@err('shards', 'read a shard without arrays', '{tmp}/s.npz', 'lacks')
def _(tmp):
    from mmreid_video.retrieval.feature_shards import read_shard
    np.savez(tmp / 's.npz', other=F)
    read_shard(str(tmp / 's.npz'))


@err('shards', 'read shards of a folder without meta', '{tmp}')
def _(tmp):
    from mmreid_video.retrieval.feature_shards import read_shards
    read_shards(str(tmp))


@err('shards', 'read shards of an unknown subset', 'subset')
def _(tmp):
    from mmreid_video.retrieval.feature_shards import read_shards
    read_shards(str(tmp), subset='train')

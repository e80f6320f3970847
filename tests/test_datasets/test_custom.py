# Copyright (c) mmreid_video contributors. All rights reserved.
import json
import os.path as osp

import pytest
from fixture_trees import CUSTOM_ANN, custom_tracklet, write_custom_ann
from mmengine.registry import init_default_scope

from mmreid_video.datasets import CustomVideoReIDDataset
from mmreid_video.datasets.base_dataset import relabel_pids
from mmreid_video.datasets.layout import check_layout
from mmreid_video.registry import DATASETS


def test_train_relabel(tmp_path):
    init_default_scope('mmreid_video')
    ds = DATASETS.build(
        dict(
            type='CustomVideoReIDDataset',
            data_root=str(tmp_path),
            ann_file=write_custom_ann(tmp_path, CUSTOM_ANN)))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(i['pid'], i['ori_pid']) for i in infos] == [(1, 17), (0, 5),
                                                         (1, 17)]
    assert ds.metainfo['num_ids'] == 2 and ds.metainfo['split'] == 'train'
    assert infos[0]['frame_paths'] == [
        osp.join(str(tmp_path), f'train/17/a/{i}.jpg') for i in range(3)
    ]
    assert infos[0]['tracklet_id'] == 'train/17/a'
    assert 'is_query' not in infos[0]


def test_test_split_flags_and_shared_tracklet(tmp_path):
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path),
        ann_file=write_custom_ann(tmp_path, CUSTOM_ANN),
        split='test')
    got = [(d['tracklet_id'], d['pid'], d['is_query'], d['is_gallery'])
           for d in (ds.get_data_info(i) for i in range(len(ds)))]
    # The tracklet listed in query and gallery appears once with both flags.
    assert got == [('q/30', 30, True, False), ('shared/31', 31, True, True),
                   ('g/30', 30, False, True), ('g/0', 0, False, True)]
    assert ds.metainfo['num_ids'] == 2


def test_unknown_cameras_are_unique(tmp_path):
    ann = dict(
        train=[
            custom_tracklet(1, None, 2, 't1'),
            custom_tracklet(2, 0, 2, 't2')
        ],
        query=[custom_tracklet(1, None, 2, 'q')],
        gallery=[
            custom_tracklet(1, None, 2, 'g1'),
            {
                k: v
                for k, v in custom_tracklet(1, 0, 2, 'g2').items()
                if k != 'camid'
            },
            custom_tracklet(1, None, 2, 'q')
        ])
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path),
        ann_file=write_custom_ann(tmp_path, ann),
        split='test')
    camids = [ds.get_data_info(i)['camid'] for i in range(len(ds))]
    assert len(camids) == 3  # 'q' is both query and gallery
    assert len(set(camids)) == 3 and all(c < 0 for c in camids)
    train = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file=write_custom_ann(tmp_path, ann))
    assert train.get_data_info(0)['camid'] < 0
    assert train.get_data_info(1)['camid'] == 0


def test_absolute_frame_paths_kept(tmp_path):
    ann = dict(train=[dict(pid=1, camid=0, frame_paths=['/abs/x.jpg'])])
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file=write_custom_ann(tmp_path, ann))
    info = ds.get_data_info(0)
    assert info['frame_paths'] == ['/abs/x.jpg']
    assert info['tracklet_id'] == 'train/0'


@pytest.mark.parametrize('key, index, bad, msg', [
    ('train', 1, dict(pid='5'), '"pid" must be an integer'),
    ('train', 0, dict(frame_paths=[]), 'non-empty list'),
    ('gallery', 2, dict(camid=-3), '"camid" must be an integer >= 0'),
    ('gallery', 1, dict(pid=99), 'listed twice'),
])
def test_malformed_tracklets_name_file_and_row(tmp_path, key, index, bad, msg):
    ann = json.loads(json.dumps(CUSTOM_ANN))
    ann[key][index].update(bad)
    ann_file = write_custom_ann(tmp_path, ann, 'my_ann.json')
    split = 'train' if key == 'train' else 'test'
    with pytest.raises(
            ValueError, match=rf'my_ann\.json, row {key}\[{index}\]: .*{msg}'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=ann_file, split=split)


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file='missing.json')
    ann_file = write_custom_ann(tmp_path, dict(train=[]), 'no_query.json')
    with pytest.raises(ValueError, match='no_query.json.*"query"'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=ann_file, split='test')
    (tmp_path / 'broken.json').write_text('{')
    with pytest.raises(ValueError, match='broken.json: not valid JSON'):
        CustomVideoReIDDataset(data_root=str(tmp_path), ann_file='broken.json')
    with pytest.raises(ValueError, match='split must be one of'):
        CustomVideoReIDDataset(ann_file='x.json', split='val')


def test_helpers(tmp_path):
    infos = [dict(pid=9), dict(pid=3), dict(pid=9)]
    assert relabel_pids(infos) == 2
    assert [(i['pid'], i['ori_pid']) for i in infos] == [(1, 9), (0, 3),
                                                         (1, 9)]
    (tmp_path / 'a').mkdir()
    check_layout(str(tmp_path), ['a'], 'TREE', 'X')
    with pytest.raises(
            FileNotFoundError, match=r'(?s)X: ".*b" does not '
            r'exist.*TREE'):
        check_layout(str(tmp_path), ['a', 'b'], 'TREE', 'X')


def test_every_list_is_checked_whatever_the_split(tmp_path):
    ann = json.loads(json.dumps(CUSTOM_ANN))
    ann['gallery'][2]['pid'] = 'zero'
    ann_file = write_custom_ann(tmp_path, ann, 'bad_gallery.json')
    with pytest.raises(
            ValueError, match=r'bad_gallery\.json, row gallery\[2\]: "pid"'):
        CustomVideoReIDDataset(data_root=str(tmp_path), ann_file=ann_file)
    ann = json.loads(json.dumps(CUSTOM_ANN))
    ann['query'] = 'none'
    with pytest.raises(ValueError, match='expected a list under key "query"'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=write_custom_ann(tmp_path, ann))
    # A train-only file serves the train split.
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path),
        ann_file=write_custom_ann(tmp_path, dict(train=CUSTOM_ANN['train'])))
    assert len(ds) == 3


def test_tracklet_listed_twice_in_one_list(tmp_path):
    ann = json.loads(json.dumps(CUSTOM_ANN))
    ann['train'][2]['tracklet_id'] = 'train/17/a'
    with pytest.raises(
            ValueError,
            match=r'row train\[2\]: tracklet_id "train/17/a" is '
            r'listed twice in "train" \(also train\[0\]\)'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=write_custom_ann(tmp_path, ann))


def test_non_utf8_file_names_file_and_line(tmp_path):
    text = json.dumps(CUSTOM_ANN, indent=1).encode()
    pos = text.index(b'g/0')
    (tmp_path / 'latin1.json').write_bytes(text[:pos] + b'\xe9' + text[pos:])
    line = text[:pos].count(b'\n') + 1
    with pytest.raises(
            ValueError, match=rf'latin1\.json, line {line}: not UTF-8 text'):
        CustomVideoReIDDataset(data_root=str(tmp_path), ann_file='latin1.json')


@pytest.mark.parametrize('split, empty, what', [
    ('train', ('train', ), 'tracklets'),
    ('test', ('query', 'gallery'), 'query or gallery tracklets'),
])
def test_empty_split_names_dataset_and_split(tmp_path, split, empty, what):
    ann = dict(CUSTOM_ANN, **{key: [] for key in empty})
    with pytest.raises(
            ValueError,
            match=rf"CustomVideoReIDDataset: the '{split}' split "
            rf'of data_root ".*" has no {what}'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path),
            ann_file=write_custom_ann(tmp_path, ann),
            split=split)


def test_frames_under_two_test_tracklets_are_refused(tmp_path):
    ann = json.loads(json.dumps(CUSTOM_ANN))
    ann['gallery'].append(dict(ann['query'][0], tracklet_id='g/copy', camid=3))
    with pytest.raises(
            ValueError,
            match=r'ann.json: frame ".*q/30/0.jpg" belongs to tracklet '
            r'"q/30" and to tracklet "g/copy"'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path),
            ann_file=write_custom_ann(tmp_path, ann),
            split='test')


def test_query_set_of_unknown_identity(tmp_path):
    """A query list alone, without pids: tracklets to describe and search.
    Each unknown identity gets a pid of its own, below every given one."""
    query = [{
        k: v
        for k, v in custom_tracklet(None, cam, 2, name).items() if k != 'pid'
    } for cam, name in ((1, 'q/a'), (None, 'q/b'))]
    query.append(custom_tracklet(-1, 0, 2, 'q/junk'))
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path),
        ann_file=write_custom_ann(tmp_path, dict(query=query)),
        split='test')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(i['tracklet_id'], i['pid'], i['pid_known'], i['is_query'],
             i['is_gallery'])
            for i in infos] == [('q/a', -2, False, True, False),
                                ('q/b', -3, False, True, False),
                                ('q/junk', -1, True, True, False)]
    assert infos[0]['camid'] == 1 and infos[1]['camid'] < 0
    assert ds.metainfo['num_ids'] == 0
    # A query listed in the gallery too keeps one unknown identity.
    ann = dict(query=query[:1], gallery=[dict(query[0], pid=None)])
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path),
        ann_file=write_custom_ann(tmp_path, ann),
        split='test')
    assert len(ds) == 1 and ds.get_data_info(0)['is_gallery']
    # Train tracklets need their identity.
    ann = dict(train=[dict(query[0], pid=None)])
    with pytest.raises(
            ValueError,
            match=r'row train\[0\]: "pid" must be an '
            r'integer, got None$'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=write_custom_ann(tmp_path, ann))

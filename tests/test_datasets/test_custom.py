import json
import os.path as osp

import pytest
from mmengine.registry import init_default_scope

from mmreid_video.datasets import CustomVideoReIDDataset
from mmreid_video.datasets.base_dataset import relabel_pids
from mmreid_video.datasets.readers import check_layout
from mmreid_video.registry import DATASETS


def tracklet(pid, camid, n, name, **extra):
    return dict(
        pid=pid,
        camid=camid,
        tracklet_id=name,
        frame_paths=[f'{name}/{i}.jpg' for i in range(n)],
        **extra)


ANN = dict(
    train=[
        tracklet(17, 0, 3, 'train/17/a'),
        tracklet(5, 1, 2, 'train/5/a'),
        tracklet(17, 1, 1, 'train/17/b')
    ],
    query=[tracklet(30, 0, 2, 'q/30'),
           tracklet(31, 1, 2, 'shared/31')],
    gallery=[
        tracklet(30, 1, 4, 'g/30'),
        tracklet(31, 1, 2, 'shared/31'),
        tracklet(0, 2, 1, 'g/0')
    ])


def write(tmp_path, ann, name='ann.json'):
    (tmp_path / name).write_text(json.dumps(ann))
    return name


def test_train_relabel(tmp_path):
    init_default_scope('mmreid_video')
    ds = DATASETS.build(
        dict(
            type='CustomVideoReIDDataset',
            data_root=str(tmp_path),
            ann_file=write(tmp_path, ANN)))
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
        data_root=str(tmp_path), ann_file=write(tmp_path, ANN), split='test')
    got = [(d['tracklet_id'], d['pid'], d['is_query'], d['is_gallery'])
           for d in (ds.get_data_info(i) for i in range(len(ds)))]
    # The tracklet listed in query and gallery appears once with both flags.
    assert got == [('q/30', 30, True, False), ('shared/31', 31, True, True),
                   ('g/30', 30, False, True), ('g/0', 0, False, True)]
    assert ds.metainfo['num_ids'] == 2


def test_unknown_cameras_are_unique(tmp_path):
    ann = dict(
        train=[tracklet(1, None, 2, 't1'),
               tracklet(2, 0, 2, 't2')],
        query=[tracklet(1, None, 2, 'q')],
        gallery=[
            tracklet(1, None, 2, 'g1'), {
                k: v
                for k, v in tracklet(1, 0, 2, 'g2').items() if k != 'camid'
            },
            tracklet(1, None, 2, 'q')
        ])
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file=write(tmp_path, ann), split='test')
    camids = [ds.get_data_info(i)['camid'] for i in range(len(ds))]
    assert len(camids) == 3  # 'q' is both query and gallery
    assert len(set(camids)) == 3 and all(c < 0 for c in camids)
    train = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file=write(tmp_path, ann))
    assert train.get_data_info(0)['camid'] < 0
    assert train.get_data_info(1)['camid'] == 0


def test_absolute_frame_paths_kept(tmp_path):
    ann = dict(train=[dict(pid=1, camid=0, frame_paths=['/abs/x.jpg'])])
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file=write(tmp_path, ann))
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
    ann = json.loads(json.dumps(ANN))
    ann[key][index].update(bad)
    ann_file = write(tmp_path, ann, 'my_ann.json')
    split = 'train' if key == 'train' else 'test'
    with pytest.raises(
            ValueError, match=rf'my_ann\.json, row {key}\[{index}\]: .*{msg}'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=ann_file, split=split)


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file='missing.json')
    ann_file = write(tmp_path, dict(train=[]), 'no_query.json')
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


def load_tool(rel_path):
    """Import a script of tools/ (not a package) as a module."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).parents[2] / 'tools' / rel_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_folders_to_json(tmp_path):
    tree = {
        'train/7/t1': ['C2_f10.jpg', 'C2_f9.jpg'],
        'train/3/t1': ['C1_f1.png'],
        'query/12/a': ['C1_f2.jpg'],
        'gallery/12/b': ['C4_f1.jpg', 'notes.txt'],
    }
    for folder, frames in tree.items():
        (tmp_path / folder).mkdir(parents=True)
        for frame in frames:
            (tmp_path / folder / frame).write_bytes(b'')
    convert = load_tool('dataset_converters/folders_to_json.py').convert
    ann = convert(str(tmp_path), r'C(\d+)_')
    assert ann['train'][1]['frame_paths'] == [
        'train/7/t1/C2_f9.jpg', 'train/7/t1/C2_f10.jpg'
    ]
    assert [t['camid'] for t in ann['train']] == [1, 2]
    assert ann['gallery'][0]['frame_paths'] == ['gallery/12/b/C4_f1.jpg']
    write(tmp_path, ann, 'annotations.json')
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file='annotations.json', split='test')
    assert [(d['pid'], d['camid'], d['is_query'])
            for d in (ds.get_data_info(i)
                      for i in range(2))] == [(12, 1, True), (12, 4, False)]
    assert all(t['camid'] is None for t in convert(str(tmp_path))['query'])
    with pytest.raises(ValueError, match=r'train/3/t1: --cam-pattern'):
        convert(str(tmp_path), r'X(\d+)')


def test_dataset_stats(tmp_path, capsys, monkeypatch):
    ann_file = write(tmp_path, ANN)
    cfg = tmp_path / 'cfg.py'
    ds = (f"dict(type='CustomVideoReIDDataset', data_root='{tmp_path}', "
          f"ann_file='{ann_file}', split='{{}}', pipeline=[])")
    cfg.write_text(f"train_dataloader = dict(dataset={ds.format('train')})\n"
                   f"test_dataloader = dict(dataset={ds.format('test')})\n")
    stats = load_tool('analysis_tools/dataset_stats.py')
    monkeypatch.setattr('sys.argv', ['dataset_stats.py', str(cfg)])
    stats.main()
    out = capsys.readouterr().out
    assert '| train | 2 | 3 | 0 | 6 | 2 | 1 | 2.0 | 3 |' in out
    assert '| test | 3 | 4 | 0 | 9 | 3 | 1 | 2.2 | 4 |' in out
    assert '| query | 2 | 2 | 0 | 4 | 2 | 2 | 2.0 | 2 |' in out
    assert '| gallery | 3 | 3 | 0 | 7 | 2 | 1 | 2.3 | 4 |' in out


def test_every_list_is_checked_whatever_the_split(tmp_path):
    ann = json.loads(json.dumps(ANN))
    ann['gallery'][2]['pid'] = 'zero'
    ann_file = write(tmp_path, ann, 'bad_gallery.json')
    with pytest.raises(
            ValueError, match=r'bad_gallery\.json, row gallery\[2\]: "pid"'):
        CustomVideoReIDDataset(data_root=str(tmp_path), ann_file=ann_file)
    ann = json.loads(json.dumps(ANN))
    ann['query'] = 'none'
    with pytest.raises(ValueError, match='expected a list under key "query"'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=write(tmp_path, ann))
    # A train-only file serves the train split.
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path),
        ann_file=write(tmp_path, dict(train=ANN['train'])))
    assert len(ds) == 3


def test_tracklet_listed_twice_in_one_list(tmp_path):
    ann = json.loads(json.dumps(ANN))
    ann['train'][2]['tracklet_id'] = 'train/17/a'
    with pytest.raises(
            ValueError, match=r'row train\[2\]: tracklet_id "train/17/a" is '
            r'listed twice in "train" \(also train\[0\]\)'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file=write(tmp_path, ann))


def test_non_utf8_file_names_file_and_line(tmp_path):
    text = json.dumps(ANN, indent=1).encode()
    pos = text.index(b'g/0')
    (tmp_path / 'latin1.json').write_bytes(text[:pos] + b'\xe9' +
                                           text[pos:])
    line = text[:pos].count(b'\n') + 1
    with pytest.raises(
            ValueError, match=rf'latin1\.json, line {line}: not UTF-8 text'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path), ann_file='latin1.json')


@pytest.mark.parametrize('split, empty, what', [
    ('train', 'train', 'tracklets'),
    ('test', 'query', 'query tracklets'),
    ('test', 'gallery', 'gallery tracklets'),
])
def test_empty_split_names_dataset_and_split(tmp_path, split, empty, what):
    ann = dict(ANN, **{empty: []})
    with pytest.raises(
            ValueError, match=rf"CustomVideoReIDDataset: the '{split}' split "
            rf'of data_root ".*" has no {what}'):
        CustomVideoReIDDataset(
            data_root=str(tmp_path),
            ann_file=write(tmp_path, ann),
            split=split)

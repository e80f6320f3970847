# Copyright (c) mmreid_video contributors. All rights reserved.
import os.path as osp

import pytest

from mmreid_video.datasets import DukeMTMCVideoReID


def make_tree(root, tracklets):
    """tracklets: {(sub, pid4, trk4): [frame names]} (empty files)."""
    for (sub, pid, trk), names in tracklets.items():
        folder = root / sub / pid / trk
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_bytes(b'')


TREE = {
    # Compact name form, written out of order.
    ('train', '0001', '0001'):
    ['0001C6F0100X30823.jpg', '0001C6F0098X30821.jpg', '0001C6F0099X3.jpg'],
    # Underscore name form.
    ('train', '0001', '0002'):
    ['0001_C2_F0007_X1.jpg', '0001_C2_F0006_X1.jpg'],
    ('train', '0004', '0005'): ['0004C8F0001X1.jpg'],
    ('query', '0002', '0001'): ['0002C1F0010X2.jpg', '0002C1F0011X2.jpg'],
    ('gallery', '0002', '0003'): ['0002_C3_F0001_X5.jpg'],
    ('gallery', '0009', '0001'): ['0009C5F0004X5.jpg', '.DS_Store'],
}


@pytest.fixture
def dukev(tmp_path):
    make_tree(tmp_path, TREE)
    return tmp_path


def test_train(dukev):
    ds = DukeMTMCVideoReID(str(dukev))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(i['pid'], i['ori_pid'], i['camid']) for i in infos] == [(0, 1, 5),
                                                                     (0, 1, 1),
                                                                     (1, 4, 7)]
    folder = osp.join(str(dukev), 'train', '0001', '0001')
    # Sorted by frame number, whatever the listing order.
    assert infos[0]['frame_paths'] == [
        osp.join(folder, n) for n in [
            '0001C6F0098X30821.jpg', '0001C6F0099X3.jpg',
            '0001C6F0100X30823.jpg'
        ]
    ]
    assert [osp.basename(p) for p in infos[1]['frame_paths']
            ] == ['0001_C2_F0006_X1.jpg', '0001_C2_F0007_X1.jpg']
    assert infos[0]['tracklet_id'] == 'train/0001/0001'
    assert ds.metainfo['num_ids'] == 2


def test_test_split(dukev):
    ds = DukeMTMCVideoReID(str(dukev), split='test')
    got = [(d['tracklet_id'], d['pid'], d['camid'], d['is_query'],
            d['is_gallery'], len(d['frame_paths']))
           for d in (ds.get_data_info(i) for i in range(len(ds)))]
    assert got == [('query/0002/0001', 2, 0, True, False, 2),
                   ('gallery/0002/0003', 2, 2, False, True, 1),
                   ('gallery/0009/0001', 9, 4, False, True, 1)]
    assert ds.metainfo['num_ids'] == 2


@pytest.mark.parametrize('name, msg', [
    ('0001C9F0001X1.jpg', 'unknown camera 9'),
    ('0001C1F0001.jpg', 'does not match'),
    ('0003C1F0001X1.jpg', 'pid differs'),
])
def test_bad_frames_name_the_file(dukev, name, msg):
    folder = dukev / 'train' / '0001' / '0003'
    folder.mkdir()
    (folder / name).write_bytes(b'')
    with pytest.raises(ValueError, match=rf'0001/0003/{name}: .*{msg}'):
        DukeMTMCVideoReID(str(dukev))


def test_empty_and_mixed_tracklets(dukev):
    (dukev / 'gallery' / '0009' / '0002').mkdir()
    with pytest.raises(ValueError, match=r'0009/0002: empty tracklet'):
        DukeMTMCVideoReID(str(dukev), split='test')
    (dukev / 'gallery/0009/0002/0009C1F0001X1.jpg').write_bytes(b'')
    (dukev / 'gallery/0009/0002/0009C2F0002X1.jpg').write_bytes(b'')
    with pytest.raises(ValueError, match=r'several cameras \[1, 2\]'):
        DukeMTMCVideoReID(str(dukev), split='test')


def test_missing_folder(tmp_path):
    make_tree(tmp_path, {k: v for k, v in TREE.items() if k[0] != 'query'})
    DukeMTMCVideoReID(str(tmp_path))
    with pytest.raises(
            FileNotFoundError,
            match=r'(?s)query" does not exist'
            r'.*gallery/<pid4>/<tracklet4>'):
        DukeMTMCVideoReID(str(tmp_path), split='test')


def test_duplicate_frame_number(dukev):
    (dukev / 'train/0004/0005/0004_C8_F0001_X9.jpg').write_bytes(b'')
    with pytest.raises(
            ValueError,
            match=r'0004/0005/0004[_C8]+F0001_?X\d\.jpg: frame '
            r'number 1 is also that of 0004'):
        DukeMTMCVideoReID(str(dukev))


@pytest.mark.parametrize('folder',
                         ['001', '00012', '\u0661\u0662\u0663'
                          '\u0664'])
def test_pid_folder_must_be_four_ascii_digits(dukev, folder):
    (dukev / 'train' / folder / '0001').mkdir(parents=True)
    with pytest.raises(ValueError, match='expected a 4-digit pid folder'):
        DukeMTMCVideoReID(str(dukev))


def test_test_pid_in_train_is_an_error(dukev):
    make_tree(dukev, {('gallery', '0004', '0009'): ['0004C1F0001X1.jpg']})
    DukeMTMCVideoReID(str(dukev))
    with pytest.raises(
            ValueError, match=r'gallery/0004: pid is also a train id'):
        DukeMTMCVideoReID(str(dukev), split='test')


def test_empty_split_names_dataset_and_split(tmp_path):
    make_tree(tmp_path, {k: v for k, v in TREE.items() if k[0] != 'train'})
    (tmp_path / 'train').mkdir()
    with pytest.raises(
            ValueError,
            match=r"DukeMTMCVideoReID: the 'train' split of "
            r'data_root ".*" has no tracklets'):
        DukeMTMCVideoReID(str(tmp_path))
    for sub in ('query', 'gallery'):
        root = tmp_path / sub
        make_tree(root, {k: v for k, v in TREE.items() if k[0] != sub})
        (root / sub).mkdir()
        with pytest.raises(
                ValueError,
                match=rf"the 'test' split .* has no {sub} "
                'tracklets'):
            DukeMTMCVideoReID(str(root), split='test')


def test_os_files_are_skipped(dukev):
    for folder in ('train', 'train/0001', 'train/0001/0001'):
        for name in ('Thumbs.db', 'desktop.ini', '._0001C6F0100X30823.jpg'):
            (dukev / folder / name).write_bytes(b'x')
    ds = DukeMTMCVideoReID(str(dukev))
    assert [len(ds.get_data_info(i)['frame_paths'])
            for i in range(len(ds))] == [3, 2, 1]
    (dukev / 'train/0001/0001/notes.txt').write_bytes(b'x')
    with pytest.raises(ValueError, match='0001/notes.txt: frame name'):
        DukeMTMCVideoReID(str(dukev))

# Copyright (c) mmreid_video contributors. All rights reserved.
"""mmreid_video.datasets.tracklet_folders: tracklet folder trees to the
custom-tracklet JSON that CustomVideoReIDDataset reads."""
import pytest
from fixture_trees import write_custom_ann

from mmreid_video.datasets import CustomVideoReIDDataset
from mmreid_video.datasets.tracklet_folders import (find_tracklets,
                                                    list_frames,
                                                    tree_annotations)


def _tree(root, tree):
    for folder, frames in tree.items():
        (root / folder).mkdir(parents=True)
        for frame in frames:
            (root / folder / frame).write_bytes(b'')


def test_tree_annotations(tmp_path):
    _tree(
        tmp_path, {
            'train/7/t1': ['C2_f10.jpg', 'C2_f9.jpg'],
            'train/3/t1': ['C1_f1.png'],
            'query/12/a': ['C1_f2.jpg'],
            'gallery/12/b': ['C4_f1.jpg', 'notes.txt'],
        })
    with pytest.warns(UserWarning, match=r'gallery/12/b/notes\.txt'):
        ann, numbers = tree_annotations(str(tmp_path), r'C(\d+)_')
    assert ann['train'][1]['frame_paths'] == [
        'train/7/t1/C2_f9.jpg', 'train/7/t1/C2_f10.jpg'
    ]
    # Camera numbers 1, 2, 4 become camid 0, 1, 2 (docs/extending.md: the
    # tracklet c1_t1 has camid 0).
    assert numbers == [1, 2, 4]
    assert [t['camid'] for t in ann['train']] == [0, 1]
    assert ann['gallery'][0]['frame_paths'] == ['gallery/12/b/C4_f1.jpg']
    write_custom_ann(tmp_path, ann, 'annotations.json')
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file='annotations.json', split='test')
    assert [(d['pid'], d['camid'], d['is_query'])
            for d in (ds.get_data_info(i)
                      for i in range(2))] == [(12, 0, True), (12, 2, False)]
    ann, numbers = tree_annotations(str(tmp_path))
    assert numbers is None
    assert all(t['camid'] is None for t in ann['query'])
    with pytest.raises(
            ValueError,
            match=r'train/3/t1: --cam-pattern .* does not match "t1/C1_f1'):
        tree_annotations(str(tmp_path), r'X(\d+)')


def test_tracklets_of_unknown_identity(tmp_path):
    """Own footage: query/<tracklet>/<frames>, no pid folder, no train or
    gallery list; the JSON has "pid": null and the dataset reads it."""
    _tree(tmp_path, {
        'query/cam3_b': ['f2.jpg', 'f10.jpg'],
        'query/cam1_a': ['f1.jpg'],
    })
    ann, numbers = tree_annotations(str(tmp_path), r'cam(\d+)_')
    assert list(ann) == ['query'] and numbers == [1, 3]
    assert ann['query'] == [
        dict(
            tracklet_id='query/cam1_a',
            pid=None,
            camid=0,
            frame_paths=['query/cam1_a/f1.jpg']),
        dict(
            tracklet_id='query/cam3_b',
            pid=None,
            camid=1,
            frame_paths=['query/cam3_b/f2.jpg', 'query/cam3_b/f10.jpg'])
    ]
    write_custom_ann(tmp_path, ann, 'annotations.json')
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file='annotations.json', split='test')
    assert [ds.get_data_info(i)['pid_known']
            for i in range(2)] == [False, False]


@pytest.mark.parametrize('tree, msg', [
    ({
        'other/1/a': ['f.jpg']
    }, 'has none of the folders'),
    ({
        'train/a': ['f.jpg']
    }, r'train/a: train tracklets need a <pid>'),
    ({
        'query/x/a': ['f.jpg']
    }, r'query/x: neither a tracklet'),
    ({
        'query/1/a': ['notes.txt']
    }, r'query/1/a: no image frames'),
])
def test_tree_errors_name_the_folder(tmp_path, tree, msg):
    _tree(tmp_path, tree)
    with pytest.raises((ValueError, FileNotFoundError), match=msg):
        tree_annotations(str(tmp_path))


def test_find_tracklets_and_frames(tmp_path):
    _tree(
        tmp_path, {
            'g/12/t10': ['2.png', '10.png'],
            'g/12/t9': ['1.png'],
            'g/3/x': ['1.jpg'],
            'g/3/x/crops': ['1.jpg'],
        })
    root = str(tmp_path / 'g')
    assert find_tracklets(root) == [
        f'{root}/3/x', f'{root}/12/t9', f'{root}/12/t10'
    ]
    assert find_tracklets(f'{root}/12/t9') == [f'{root}/12/t9']
    assert list_frames(f'{root}/12/t10') == ['2.png', '10.png']
    (tmp_path / 'empty' / 'sub').mkdir(parents=True)
    with pytest.raises(ValueError, match='no folder below it holds image'):
        find_tracklets(str(tmp_path / 'empty'))


def test_os_files_skipped_and_other_files_reported(tmp_path):
    for sub in ('train', 'query', 'gallery'):
        folder = tmp_path / sub / '1' / 't1'
        folder.mkdir(parents=True)
        for name in ('0.jpg', '1.webp', '._0.jpg', 'Thumbs.db', '2.heic'):
            (folder / name).write_bytes(b'')
        for stray in (tmp_path / sub, tmp_path / sub / '1'):
            (stray / 'desktop.ini').write_bytes(b'')
            (stray / '.DS_Store').write_bytes(b'')
    with pytest.warns(UserWarning) as record:
        ann, _ = tree_annotations(str(tmp_path))
    assert ann['train'][0]['frame_paths'] == [
        'train/1/t1/0.jpg', 'train/1/t1/1.webp'
    ]
    message = str(record[0].message)
    assert message.startswith('3 file(s) of the tracklet folders are not '
                              'frames of a read extension')
    assert str(tmp_path / 'train/1/t1/2.heic') in message
    (tmp_path / 'train/1/notes.txt').write_bytes(b'')
    with pytest.raises(
            NotADirectoryError,
            match=r'train/1/notes.txt: expected a tracklet folder'):
        tree_annotations(str(tmp_path))

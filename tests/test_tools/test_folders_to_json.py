# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/dataset_converters/folders_to_json.py: a folder tree to the
custom-tracklet JSON that CustomVideoReIDDataset reads."""
import sys

import pytest
from fixture_trees import write_custom_ann
from tool_runner import load_tool

from mmreid_video.datasets import CustomVideoReIDDataset


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
    convert = load_tool('tools/dataset_converters/folders_to_json.py').convert
    with pytest.warns(UserWarning, match=r'gallery/12/b/notes\.txt'):
        ann = convert(str(tmp_path), r'C(\d+)_')
    assert ann['train'][1]['frame_paths'] == [
        'train/7/t1/C2_f9.jpg', 'train/7/t1/C2_f10.jpg'
    ]
    # Camera numbers 1, 2, 4 become camid 0, 1, 2 (docs/extending.md: the
    # tracklet c1_t1 has camid 0).
    assert [t['camid'] for t in ann['train']] == [0, 1]
    assert ann['gallery'][0]['frame_paths'] == ['gallery/12/b/C4_f1.jpg']
    write_custom_ann(tmp_path, ann, 'annotations.json')
    ds = CustomVideoReIDDataset(
        data_root=str(tmp_path), ann_file='annotations.json', split='test')
    assert [(d['pid'], d['camid'], d['is_query'])
            for d in (ds.get_data_info(i)
                      for i in range(2))] == [(12, 0, True), (12, 2, False)]
    with pytest.warns(UserWarning, match='notes.txt'):
        ann = convert(str(tmp_path))
    assert all(t['camid'] is None for t in ann['query'])
    with pytest.raises(ValueError, match=r'train/3/t1: --cam-pattern'):
        convert(str(tmp_path), r'X(\d+)')


def test_warns_without_cam_pattern(tmp_path, monkeypatch, capsys):
    for sub in ('train', 'query', 'gallery'):
        (tmp_path / sub / '1' / 'c1_t1').mkdir(parents=True)
        (tmp_path / sub / '1' / 'c1_t1' / '000.jpg').write_bytes(b'')
    tool = load_tool('tools/dataset_converters/folders_to_json.py')
    monkeypatch.setattr(sys, 'argv', ['folders_to_json.py', str(tmp_path)])
    tool.main()
    assert 'Warning: no --cam-pattern' in capsys.readouterr().err
    monkeypatch.setattr(
        sys, 'argv',
        ['folders_to_json.py', str(tmp_path), '--cam-pattern', r'c(\d+)_'])
    tool.main()
    out = capsys.readouterr()
    assert 'Warning' not in out.err
    assert 'camera numbers [1] -> camid 0..0' in out.out


def test_os_files_skipped_and_other_files_reported(tmp_path):
    for sub in ('train', 'query', 'gallery'):
        folder = tmp_path / sub / '1' / 't1'
        folder.mkdir(parents=True)
        for name in ('0.jpg', '1.webp', '._0.jpg', 'Thumbs.db', '2.heic'):
            (folder / name).write_bytes(b'')
        for stray in (tmp_path / sub, tmp_path / sub / '1'):
            (stray / 'desktop.ini').write_bytes(b'')
            (stray / '.DS_Store').write_bytes(b'')
    convert = load_tool('tools/dataset_converters/folders_to_json.py').convert
    with pytest.warns(UserWarning) as record:
        ann = convert(str(tmp_path))
    assert ann['train'][0]['frame_paths'] == [
        'train/1/t1/0.jpg', 'train/1/t1/1.webp'
    ]
    message = str(record[0].message)
    assert message.startswith('3 file(s) of the tracklet folders are not '
                              'frames of a read extension')
    assert str(tmp_path / 'train/1/t1/2.heic') in message
    (tmp_path / 'train/1/notes.txt').write_bytes(b'')
    with pytest.raises(ValueError, match=r'train/1/notes.txt: expected a '
                       'tracklet folder, found a file'):
        convert(str(tmp_path))

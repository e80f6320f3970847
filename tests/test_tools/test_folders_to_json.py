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
    assert all(t['camid'] is None for t in convert(str(tmp_path))['query'])
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

# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/dataset_converters/folders_to_json.py: a folder tree to the
custom-tracklet JSON that CustomVideoReIDDataset reads (the tree itself:
tests/test_datasets/test_tracklet_folders.py)."""
import json
import sys

from tool_runner import load_tool


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
        ['folders_to_json.py',
         str(tmp_path), '--cam-pattern', r'c(\d+)_'])
    tool.main()
    out = capsys.readouterr()
    assert 'Warning' not in out.err
    assert 'camera numbers [1] -> camid 0..0' in out.out
    with open(tmp_path / 'annotations.json') as f:
        assert [t['camid'] for t in json.load(f)['query']] == [0]

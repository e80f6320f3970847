# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/analysis_tools/benchmark_lsvid_init.py at LS-VID's full tracklet
count (with one frame per tracklet)."""
import re
from shutil import rmtree

import pytest
from tool_runner import load_tool

bench = load_tool('tools/analysis_tools/benchmark_lsvid_init.py')


# Not a tool subprocess, but LS-VID's 14,164 tracklets take a while.
@pytest.mark.slow
def test_generated_tree_and_table(tmp_path, monkeypatch, capsys):
    from mmreid_video.datasets import LSVID
    root = str(tmp_path / 'lsvid')
    frames = bench.make_tree(root, 1e-4)
    assert frames == 2831 + 11333  # at least one frame per tracklet
    train = LSVID(root, split='train')
    test = LSVID(root, split='test')
    assert len(train) == 2831 and len(test) == 11333
    assert sum(test.get_data_info(i)['is_query']
               for i in range(len(test))) == 3504
    assert bench.glob_per_tracklet(root, 'test') == 11333
    # The benchmark times this tree (the one it would build at this scale)
    # instead of building a second one: 14k hard links take seconds to
    # write and to unlink on a busy disk.
    monkeypatch.setattr(bench.tempfile, 'mkdtemp', lambda **_: root)
    monkeypatch.setattr(bench, 'make_tree', lambda root, scale: frames)
    monkeypatch.setattr(bench.shutil, 'rmtree', lambda root: None)
    monkeypatch.setattr(
        'sys.argv',
        ['benchmark_lsvid_init.py', '--frame-scale', '1e-4', '--repeats', '1'])
    bench.main()
    out = capsys.readouterr().out
    assert re.search(
        r'\| 0.0001 \| 14,164 \| test \| [\d.]+ \| [\d.]+ \| '
        r'[\d.]+x \| [\d.]+ \|', out)
    assert 'scaled to 2,827,193 frames: train load_data_list' in out
    # Removed here, as the benchmark removes its trees: left in tmp_path, it
    # would be unlinked by the start of a later test run, maybe a fast one.
    rmtree(root)

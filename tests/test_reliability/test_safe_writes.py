# Copyright (c) mmreid_video contributors. All rights reserved.
"""Issue 23 point 8: writes that race, fill the disk or are killed use
unique temporary names, name the path on ENOSPC and leave nothing behind."""
import os

import pytest
from _adversarial_tools import run_main
from _provenance_artefacts import (data_root, dump_file, extraction, full_disk,
                                   hidden, killed_mid_save, options)
from mmengine.registry import init_default_scope
from tool_runner import DEMO_CONFIG

from mmreid_video.fileio import atomic_write
from mmreid_video.retrieval import GalleryIndex


@pytest.mark.slow  # kills tool processes
def test_killed_build_index_and_converter_leave_no_partials(tmp_path):
    init_default_scope('mmreid_video')
    args = [str(extraction('a')), '--out', str(tmp_path / 'g.gidx')]
    proc = killed_mid_save(
        'import runpy, sys\n'
        f'sys.argv = ["build_index.py", *{args!r}]\n'
        'runpy.run_path("tools/build_index.py", run_name="__main__")\n')
    assert proc.returncode == -9 and hidden(tmp_path)  # a partial file
    run_main('tools/build_index.py', *args)
    assert hidden(tmp_path) == []
    assert GalleryIndex.load(str(tmp_path / 'g.gidx')).ntotal > 0

    mars = tmp_path / 'mars'
    args = [str(mars), '--num-train-ids', '2', '--num-test-ids', '2']
    proc = killed_mid_save(
        'import runpy, sys, cv2\n'
        'cv2.imwrite = lambda *a, **k: os.kill(os.getpid(), 9)\n'
        f'sys.argv = ["make_synthetic_mars.py", *{args!r}]\n'
        'runpy.run_path("tools/dataset_converters/make_synthetic_mars.py", '
        'run_name="__main__")\n')
    assert proc.returncode == -9 and [
        n for n in hidden(tmp_path) if n.startswith('.mars.')
    ]
    run_main('tools/dataset_converters/make_synthetic_mars.py', *args)
    assert hidden(tmp_path) == [] and (mars / 'info').is_dir()


def test_full_disk_names_the_file_and_leaves_nothing(tmp_path):
    init_default_scope('mmreid_video')
    out, dump = tmp_path / 'vis', dump_file(tmp_path)
    with full_disk(), pytest.raises(OSError) as info:
        run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG,
                 '--dump', str(dump), '--out-dir', str(out), '--num', '1',
                 '--cfg-options', *options(data_root()))
    assert f'while writing {out}/ranked_list_0.png' in str(info.value)
    assert 'No space left on device' in str(info.value)
    assert os.listdir(out) == []


def test_writers_of_one_shard_never_touch_each_other(tmp_path):
    """A second writer of a shard (another run into the same folder) while
    the first is mid-write: both publish a whole file, and the second does
    not take the first one's temporary file for a killed run's."""
    import numpy as np

    from mmreid_video.retrieval.feature_shards import (read_provenance,
                                                       read_shard, write_shard)
    folder = extraction('a')
    arrays = dict(np.load(folder / 'shard_00000.npz'))
    prov = read_provenance(str(folder))
    path = tmp_path / 'shard_00000.npz'

    def first(f):
        np.savez(f, **arrays)
        write_shard(str(path), arrays, prov)  # starts and ends meanwhile
        assert len(hidden(tmp_path)) == 1  # the first one's file is kept

    atomic_write(first, path)
    assert hidden(tmp_path) == []
    assert (read_shard(str(path))['feats'] == arrays['feats']).all()

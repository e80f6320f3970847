# Copyright (c) mmreid_video contributors. All rights reserved.
"""Issue 23 point 1: every artefact knows where it came from, and artefacts
of different provenance are refused where they meet, naming what differs.

The artefacts (two checkpoints' extractions, their indexes, a metric dump)
are built once by ``_adversarial_provenance`` and the tools run in this
process."""
import json
import os
import shutil

import numpy as np
import pytest
import torch
from _adversarial_tools import run_main
from _provenance_artefacts import (checkpoint, data_root, dump_file, extract,
                                   extraction, index_file, options,
                                   ranked_rows, resumable, search,
                                   search_truncated)
from mmengine.registry import init_default_scope
from tool_runner import DEMO_CONFIG

from mmreid_video.retrieval import GalleryIndex, IndexFileError
from mmreid_video.retrieval.feature_shards import read_shards

# utils.provenance.ProvenanceError is a ValueError; the tests match on
# ValueError and the message, so that on code without provenance they fail
# on what happens (no error), not on an import.


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmreid_video')


def _weights(name):
    from mmreid_video.utils.provenance import weights_fingerprint
    state = torch.load(checkpoint(name), weights_only=False)['state_dict']
    return weights_fingerprint(state)


def test_provenance_is_recorded_in_every_artefact(tmp_path):
    folder = extraction('a')
    with open(folder / 'meta.json') as f:
        prov = json.load(f).get('provenance')
    assert prov['weights'] == _weights('a') == _weights('a_resaved')
    for name in sorted(os.listdir(folder)):
        if name.startswith('shard_'):
            with np.load(folder / name) as data:
                assert json.loads(data['provenance'].item()) == prov
    assert GalleryIndex.load(str(index_file('a', tmp_path))).provenance == prov
    import mmengine
    dump = mmengine.load(dump_file(tmp_path))
    assert dump['provenance'] == prov  # test.py --out: the same descriptors


def test_resume_with_other_checkpoint_content_names_both(tmp_path):
    out = resumable(tmp_path)
    with pytest.raises(ValueError, match='weights') as info:
        extract(checkpoint('b'), out)
    msg = str(info.value)
    assert f'weights {_weights("b")} vs {_weights("a")}' in msg
    assert f'{out}/meta.json' in msg and '--out' in msg
    assert not (out / 'shard_00001.npz').exists()  # nothing mixed in


def test_build_index_names_foreign_shard_and_folder(tmp_path):
    out = extraction('a', tmp_path)
    shutil.copy(extraction('b') / 'shard_00001.npz', out)
    with pytest.raises(ValueError, match='weights') as info:
        run_main('tools/build_index.py', str(out), '--out',
                 str(tmp_path / 'g.gidx'))
    assert f'shard {out}/shard_00001.npz' in str(info.value)
    assert f'{out}/meta.json' in str(info.value)
    assert not (tmp_path / 'g.gidx').exists()


def test_search_refuses_foreign_queries_unless_allowed(tmp_path):
    index = index_file('a', tmp_path)
    with pytest.raises(ValueError, match='weights'):
        search(index, extraction('b'), tmp_path / 'r.json')
    assert not (tmp_path / 'r.json').exists()
    got = search(index, extraction('b'), tmp_path / 'r.json',
                 '--allow-foreign-queries')
    q = read_shards(str(extraction('b')), 'query')
    g = read_shards(str(extraction('a')), 'gallery')
    from mmreid_video.retrieval import search as exact
    expected = exact(q['feats'], g['feats'], 3, q['pids'], q['camids'],
                     g['pids'], g['camids'])[0]
    assert ranked_rows(got) == expected.tolist()


def test_vis_refuses_dump_of_another_dataset(tmp_path):
    with pytest.raises(ValueError, match='other data'):
        run_main('tools/visualizations/vis_ranked_list.py', DEMO_CONFIG,
                 '--dump', str(dump_file(tmp_path)), '--out-dir',
                 str(tmp_path / 'vis'), '--cfg-options',
                 *options(data_root(2)))
    assert not (tmp_path / 'vis').exists() or not os.listdir(tmp_path / 'vis')


@pytest.mark.slow  # a process of its own
def test_index_file_changed_in_place_after_load(tmp_path):
    q = read_shards(str(extraction('a')), 'query')['feats']
    path = index_file('a', tmp_path)
    other = index_file('b', tmp_path)
    index = GalleryIndex.load(str(path))
    with open(other, 'rb') as src, open(path, 'r+b') as dst:
        dst.write(src.read())  # cp: same inode and size, other bytes
    with pytest.raises(IndexFileError, match=f'{path}: changed on disk'):
        index.search(q, 3)
    # A shorter file (in a child: a mapped page past the end is SIGBUS).
    shutil.copy(other, path)
    proc = search_truncated(path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f'IndexFileError: {path}: changed on disk' in proc.stderr

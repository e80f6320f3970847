# Copyright (c) mmreid_video contributors. All rights reserved.
"""Dataset roots one level off: every dataset says "did you mean <path>"
(one mechanism in BaseVideoReIDDataset, mmreid_video/datasets/layout.py)."""
import os.path as osp

import pytest

from mmreid_video.datasets import (LSVID, MARS, PRID2011,
                                   CustomVideoReIDDataset, DatasetLayoutError,
                                   DukeMTMCVideoReID, iLIDSVID)
from mmreid_video.datasets.layout import nearby_roots, suggest_path

# (class, extra arguments, split): one per dataset; the paths each split
# reads come from the class itself.
DATASETS = {
    'MARS': (MARS, {}, 'test'),
    'DukeV': (DukeMTMCVideoReID, {}, 'test'),
    'iLIDS-VID': (iLIDSVID, {}, 'train'),
    'PRID-2011': (PRID2011, {}, 'train'),
    'LS-VID': (LSVID, {}, 'test'),
    'custom': (CustomVideoReIDDataset, dict(ann_file='ann.json'), 'train'),
}


def required(name, root):
    cls, kwargs, split = DATASETS[name]
    return cls(
        data_root=str(root), split=split, lazy_init=True,
        **kwargs).required_paths()


def lay_out(root, paths):
    """Create the paths (files where the name has a suffix, else folders)."""
    for rel in paths:
        path = root / rel
        if osp.splitext(rel)[1]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        else:
            path.mkdir(parents=True, exist_ok=True)


def build(name, data_root):
    cls, kwargs, split = DATASETS[name]
    return cls(data_root=str(data_root), split=split, **kwargs)


def refusal(name, data_root):
    with pytest.raises(DatasetLayoutError) as info:
        build(name, data_root)
    message = str(info.value)
    # The suggestion is on the first line, before the layout.
    return message.split('\nExpected layout:')[0]


# The folder a dataset's archive extracts to, inside the configured root
# (a custom dataset's root holds only its JSON file, so it is the file that
# is said to be misplaced: test_one_path_misplaced).
ARCHIVE_FOLDER = {
    'MARS': 'MARS',
    'DukeV': 'DukeMTMC-VideoReID',
    'iLIDS-VID': 'iLIDS-VID',
    'PRID-2011': 'prid2011',
    'LS-VID': 'LS-VID',
}


@pytest.mark.parametrize('name', sorted(ARCHIVE_FOLDER))
def test_root_one_level_too_high(tmp_path, name):
    """data/<ds>/<archive folder>/... with data_root=data/<ds>."""
    inner = tmp_path / ARCHIVE_FOLDER[name]
    lay_out(inner, required(name, inner))
    head = refusal(name, tmp_path)
    assert f'Did you mean data_root="{inner}"?' in head
    assert 'does not exist' in head


# A folder inside the dataset that users take for its root.
INNER_FOLDER = {
    'MARS': 'bbox_train',
    'DukeV': 'train',
    'iLIDS-VID': 'i-LIDS-VID',
    'PRID-2011': 'prid_2011',
    'LS-VID': 'list_sequence',
    'custom': None,
}


@pytest.mark.parametrize('name',
                         [n for n in sorted(DATASETS) if INNER_FOLDER[n]])
def test_root_one_level_too_deep(tmp_path, name):
    """data_root pointing into the dataset, e.g. PRID without prid_2011/."""
    lay_out(tmp_path, required(name, tmp_path))
    head = refusal(name, tmp_path / INNER_FOLDER[name])
    assert f'Did you mean data_root="{tmp_path}"?' in head


@pytest.mark.parametrize(
    'name,misplaced,found',
    [
        # list_sequence/ twice (an archive folder extracted into its namesake).
        ('LS-VID', 'list_sequence/list_seq_test.txt',
         'list_sequence/list_sequence/list_seq_test.txt'),
        # PRID's split JSON inside the dataset folder instead of beside it.
        ('PRID-2011', 'splits_prid2011.json', 'prid_2011/splits_prid2011.json'
         ),
        # PRID extracted without its prid_2011/ folder.
        ('PRID-2011', 'prid_2011/multi_shot/cam_a', 'multi_shot/cam_a'),
        # iLIDS-VID's split folder inside i-LIDS-VID/.
        ('iLIDS-VID',
         'train-test people splits/train_test_splits_ilidsvid.mat',
         'i-LIDS-VID/train-test people splits/train_test_splits_ilidsvid.mat'),
        # MARS's info/ inside the evaluation kit's folder.
        ('MARS', 'info/tracks_test_info.mat',
         'MARS-evaluation-master/info/tracks_test_info.mat'),
        # DukeV's query/ inside another folder.
        ('DukeV', 'query', 'DukeMTMC-VideoReID/query'),
        ('custom', 'ann.json', 'annotations/ann.json'),
    ])
def test_one_path_misplaced(tmp_path, name, misplaced, found):
    paths = required(name, tmp_path)
    lay_out(tmp_path, [p for p in paths if p != misplaced] + [found])
    head = refusal(name, tmp_path)
    assert f'"{tmp_path / misplaced}" does not exist' in head
    assert (f'Did you mean "{tmp_path / found}"? The layout expects it at '
            f'"{tmp_path / misplaced}": move it there.') in head


def test_lsvid_info_variant_one_level_too_high(tmp_path):
    inner = tmp_path / 'LSVID'
    lay_out(inner, [
        'info/list_sequence/list_seq_train.txt',
        'info/list_sequence/list_seq_test.txt', 'info/data/info_test.mat',
        'tracklet_test'
    ])
    head = refusal('LS-VID', tmp_path)
    assert f'Did you mean data_root="{inner}"?' in head


def test_missing_root_and_nothing_nearby(tmp_path):
    (tmp_path / 'LS-VID').mkdir()
    lay_out(tmp_path / 'LS-VID', required('LS-VID', tmp_path / 'LS-VID'))
    # A misspelt root: the sibling that holds the dataset is suggested.
    head = refusal('LS-VID', tmp_path / 'lsvid')
    assert f'Did you mean data_root="{tmp_path / "LS-VID"}"?' in head
    # Nothing nearby fits: no suggestion.
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert 'Did you mean' not in refusal('MARS', empty)
    assert suggest_path(str(empty), [['a']]) == ''


def test_nearby_roots_keep_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'data/mars/MARS').mkdir(parents=True)
    (tmp_path / 'data/mars/.cache').mkdir()
    assert nearby_roots('data/mars') == ['data/mars/MARS', 'data']
    assert nearby_roots('data/mars/') == ['data/mars/MARS', 'data']

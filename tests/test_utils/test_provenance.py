# Copyright (c) mmreid_video contributors. All rights reserved.
"""utils.provenance: the parts' fingerprints and the messages that name
what differs."""
import json
import os
from collections import OrderedDict

import numpy as np
import pytest
import torch

import mmreid_video.utils.provenance as prov

A = prov.make_provenance('w' * 16, 'c' * 16, 'p' * 16, 'd' * 16)


def test_weights_fingerprint_is_the_weights_not_the_container():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    state = model.state_dict()
    reordered = OrderedDict(reversed(list(state.items())))
    copied = {k: v.clone() for k, v in state.items()}
    fingerprints = [
        prov.weights_fingerprint(w) for w in (model, reordered, copied)
    ]
    assert len(set(fingerprints)) == 1
    copied['0.weight'][0, 0] += 1e-6  # one value
    assert prov.weights_fingerprint(copied) != prov.weights_fingerprint(state)
    renamed = {'x' + k: v for k, v in state.items()}  # same values
    assert prov.weights_fingerprint(renamed) != prov.weights_fingerprint(state)
    as_double = {k: v.double() for k, v in state.items()}
    assert prov.weights_fingerprint(as_double) != prov.weights_fingerprint(
        state)


class _Tracklets:
    """A dataset of plain data infos."""

    def __init__(self, root, pids=(1, 2)):
        self.data_root = root
        self.metainfo = dict(split='test')
        self.infos = [
            dict(
                tracklet_id=f't{i}',
                pid=pid,
                camid=i,
                is_query=i == 0,
                is_gallery=True,
                frame_paths=[
                    os.path.join(root, f'bbox/{i}/{j}.jpg') for j in range(3)
                ]) for i, pid in enumerate(pids)
        ]

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


def test_data_fingerprint_is_the_tracklets_not_the_root():
    here = prov.data_fingerprint(_Tracklets('/data/mars'))
    assert prov.data_fingerprint(_Tracklets('/mnt/copy/mars/')) == here
    assert prov.data_fingerprint(_Tracklets('/data/mars', (1, 3))) != here
    other = _Tracklets('/data/mars')
    other.infos[1]['frame_paths'].pop()
    assert prov.data_fingerprint(other) != here


def test_mismatch_names_each_differing_part_and_both_fingerprints():
    assert prov.provenance_mismatch(A, dict(A), 'x', 'y') is None
    b = dict(A, weights='v' * 16, data='e' * 16)
    why = prov.provenance_mismatch(b, A, 'queries q/', 'index g.gidx')
    assert why.startswith('queries q/ and index g.gidx differ in model '
                          f'weights (weights {"v" * 16} vs {"w" * 16}), '
                          f'data (data {"e" * 16} vs {"d" * 16})')
    assert 'pipeline (' not in why
    # descriptors compare across data
    assert prov.provenance_mismatch(b, dict(A, weights='v' * 16), 'x', 'y',
                                    prov.DESCRIPTOR_PARTS) is None
    assert 'y records no provenance' in prov.provenance_mismatch(
        A, None, 'x', 'y')
    assert prov.provenance_mismatch(None, None, 'x', 'y') is None
    assert 'rule' in prov.provenance_mismatch(dict(A, version=2), A, 'x', 'y')
    with pytest.raises(prov.ProvenanceError, match='weights.*Do this.$'):
        prov.check_provenance(b, A, 'x', 'y', hint='Do this.')
    prov.check_provenance(None, None, 'x', 'y')  # a warning, no error


def test_stored_forms_and_merges():
    text = prov.encode_provenance(A)
    assert prov.as_provenance(text, 'f') == prov.as_provenance(
        np.array(text), 'f') == A
    assert prov.as_provenance(prov.encode_provenance(None), 'f') is None
    with pytest.raises(ValueError, match='meta.json: the provenance must'):
        prov.as_provenance(json.dumps(dict(weights='w')), 'meta.json')
    with pytest.raises(ValueError, match='shard.npz: the provenance is not'):
        prov.as_provenance('{', 'shard.npz')
    assert set(prov.PARTS) < set(A)
    assert prov.merged_provenance([A, A]) == A
    mixed = prov.merged_provenance([A, dict(A, data='e' * 16)])
    assert mixed['weights'] == A['weights'] and mixed['data'] not in (
        A['data'], 'e' * 16)
    assert prov.merged_provenance([None, None]) is None

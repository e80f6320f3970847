# Copyright (c) mmreid_video contributors. All rights reserved.
"""utils.provenance: the parts' fingerprints and the messages that name
what differs."""
import json
import os
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mmreid_video.utils.provenance import (DESCRIPTOR_PARTS, PARTS,
                                           ProvenanceError, as_provenance,
                                           check_provenance, data_fingerprint,
                                           encode_provenance, make_provenance,
                                           merged_provenance,
                                           provenance_mismatch,
                                           weights_fingerprint)

A = make_provenance('w' * 16, 'c' * 16, 'p' * 16, 'd' * 16)


def test_weights_fingerprint_is_the_weights_not_the_container():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    state = model.state_dict()
    reordered = OrderedDict(reversed(list(state.items())))
    copied = {k: v.clone() for k, v in state.items()}
    assert weights_fingerprint(model) == weights_fingerprint(reordered) == \
        weights_fingerprint(copied)
    copied['0.weight'][0, 0] += 1e-6  # one value
    assert weights_fingerprint(copied) != weights_fingerprint(state)
    renamed = {'x' + k: v for k, v in state.items()}  # same values
    assert weights_fingerprint(renamed) != weights_fingerprint(state)
    as_double = {k: v.double() for k, v in state.items()}
    assert weights_fingerprint(as_double) != weights_fingerprint(state)


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
                ])
            for i, pid in enumerate(pids)
        ]

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


def test_data_fingerprint_is_the_tracklets_not_the_root():
    here = data_fingerprint(_Tracklets('/data/mars'))
    assert data_fingerprint(_Tracklets('/mnt/copy/mars/')) == here
    assert data_fingerprint(_Tracklets('/data/mars', (1, 3))) != here
    other = _Tracklets('/data/mars')
    other.infos[1]['frame_paths'].pop()
    assert data_fingerprint(other) != here


def test_mismatch_names_each_differing_part_and_both_fingerprints():
    assert provenance_mismatch(A, dict(A), 'x', 'y') is None
    b = dict(A, weights='v' * 16, data='e' * 16)
    why = provenance_mismatch(b, A, 'queries q/', 'index g.gidx')
    assert why.startswith('queries q/ and index g.gidx differ in model '
                          f'weights (weights {"v" * 16} vs {"w" * 16}), '
                          f'data (data {"e" * 16} vs {"d" * 16})')
    assert 'pipeline (' not in why
    # descriptors compare across data
    assert provenance_mismatch(b, dict(A, weights='v' * 16), 'x', 'y',
                               DESCRIPTOR_PARTS) is None
    assert 'y records no provenance' in provenance_mismatch(A, None, 'x', 'y')
    assert provenance_mismatch(None, None, 'x', 'y') is None
    assert 'rule' in provenance_mismatch(dict(A, version=2), A, 'x', 'y')
    with pytest.raises(ProvenanceError, match='weights.*Do this.$'):
        check_provenance(b, A, 'x', 'y', hint='Do this.')
    check_provenance(None, None, 'x', 'y')  # a warning, no error


def test_stored_forms_and_merges():
    text = encode_provenance(A)
    assert as_provenance(text, 'f') == as_provenance(np.array(text), 'f') == A
    assert as_provenance(encode_provenance(None), 'f') is None
    with pytest.raises(ValueError, match='meta.json: the provenance must'):
        as_provenance(json.dumps(dict(weights='w')), 'meta.json')
    with pytest.raises(ValueError, match='shard.npz: the provenance is not'):
        as_provenance('{', 'shard.npz')
    assert set(PARTS) < set(A)
    assert merged_provenance([A, A]) == A
    mixed = merged_provenance([A, dict(A, data='e' * 16)])
    assert mixed['weights'] == A['weights'] and mixed['data'] not in (
        A['data'], 'e' * 16)
    assert merged_provenance([None, None]) is None

# Copyright (c) mmreid_video contributors. All rights reserved.
"""retrieval.search_results: what tools/search.py prints and writes (the
tool end to end: tests/test_tools/test_extract_features.py)."""
import json

import numpy as np
import pytest

from mmreid_video.retrieval import GalleryIndex
from mmreid_video.retrieval.search_results import (percent_metrics,
                                                   query_records,
                                                   read_search_results,
                                                   results_table, rule_labels,
                                                   search_protocol)


def _query(pid_known=(True, True), camids=(0, -2)):
    return dict(
        feats=np.eye(3, dtype=np.float32)[:2],
        pids=np.array([5, -1]),
        camids=np.array(camids),
        pid_known=np.array(pid_known),
        tracklet_ids=np.array(['q/a', 'q/b']),
        preview_frames=np.array([['/f/a0.jpg', ''], ['/f/b0.jpg',
                                                     '/f/b1.jpg']]))


def test_rule_labels():
    query = _query()
    assert rule_labels('reid', query, 'F') == (query['pids'], query['camids'])
    assert rule_labels('camera', query, 'F') == (None, query['camids'])
    assert rule_labels('none', query, 'F') == (None, None)
    with pytest.raises(
            ValueError,
            match=r"1 of the 2 queries of F \(e.g. 'q/b'\) have no pid.*"
            '--rule camera'):
        rule_labels('reid', _query(pid_known=(True, False)), 'F')
    with pytest.raises(ValueError, match='rule must be one of'):
        rule_labels('pid', query, 'F')


def test_protocol_records_and_table():
    index = GalleryIndex(3)
    index.add(
        np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0]], np.float32),
        camids=[0, 1, -3])
    query = _query()
    settings, text = search_protocol(index, 'camera', 3, query)
    assert settings == dict(
        distance='cosine',
        exclusion='same camera as the query (nothing for 1 query of '
        'unknown camera)',
        index_mode='exact',
        index_backend='faiss',
        topk=3)
    assert text == ('cosine distance, excluded: same camera as the query '
                    '(nothing for 1 query of unknown camera), '
                    'index_mode=exact, index_backend=faiss, topk=3')
    _, text = search_protocol(index, 'none', 3, query, metrics=True)
    assert text.startswith('cosine distance, excluded: nothing, ')
    assert text.endswith('under the re-ID rule (AP@k over min(positives, '
                         'k)), values in %')
    indices, dists = index.search(query['feats'], 3, None, query['camids'])
    assert indices.tolist() == [[1, 2, -1], [2, 1, 0]]  # camera 0 left out
    records = query_records(query, indices.numpy(), dists.numpy(), index)
    assert records[0] == dict(
        tracklet_id='q/a',
        pid=5,
        camid=0,
        frames=['/f/a0.jpg'],
        results=[
            dict(
                rank=1,
                row=1,
                distance=pytest.approx(1 - 0.9 / np.hypot(0.9, 0.1)),
                tracklet_id=None,
                pid=None,
                camid=1,
                frames=None),
            dict(
                rank=2,
                row=2,
                distance=1.0,
                tracklet_id=None,
                pid=None,
                camid=None,  # unknown camera
                frames=None)
        ])
    assert records[1]['pid'] == -1 and records[1]['camid'] is None
    records[1]['pid'] = None
    table = results_table(records, 2).split('\n')
    assert table == [
        'query  pid  camid  rank  distance  gallery item  pid  camid',
        'q/a    5    0      1     0.0061    row 1         ?    1',
        '                   2     1.0000    row 2         ?    ?',
        'q/b    ?    ?      1     0.0000    row 2         ?    ?',
        '                   2     0.8896    row 1         ?    1',
        '                   3     1.0000    row 0         ?    0',
    ]
    assert len(results_table(records, 1).split('\n')) == 3
    records[0]['results'] = []
    assert results_table(records, 1).split('\n')[1].split() == [
        'q/a', '5', '0', '-', '-', '(no', 'gallery', 'item', 'left)'
    ]


def test_percent_metrics_and_reading_results(tmp_path):
    assert percent_metrics(
        dict(R1=0.5, **{'mAP@10': 0.25}, num_valid_queries=3)) == {
            'R1': 50.0,
            'mAP@10': 25.0,
            'num_valid_queries': 3
        }
    path = tmp_path / 'r.json'
    path.write_text(json.dumps(dict(protocol_text='p', topk=3)))
    with pytest.raises(
            ValueError,
            match="r.json is not a results file of "
            r"tools/search.py --out \(it needs the keys"):
        read_search_results(str(path))
    path.write_text(json.dumps(dict(protocol_text='p', topk=3, queries=[{}])))
    with pytest.raises(ValueError, match=r'queries\[0\] has no "results"'):
        read_search_results(str(path))
    path.write_text('{')
    with pytest.raises(ValueError, match='r.json is not valid JSON'):
        read_search_results(str(path))

# Copyright (c) mmreid_video contributors. All rights reserved.
"""evaluation.result_records: a test result is reused only under the
settings that produced it."""
import json
import os.path as osp

from mmreid_video.evaluation import (evaluation_fingerprints, read_test_log,
                                     reusable_result, write_result_record)
from mmreid_video.utils import load_config

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'demo', 'baseline_r18_demo.py')


def test_reads_the_newest_test_log(tmp_path):
    assert read_test_log(str(tmp_path), 'reid') is None
    # Runner.test dumps <work_dir>/<ts>/<ts>.json; val logs go to vis_data.
    (tmp_path / '20260101_000000/vis_data').mkdir(parents=True)
    (tmp_path / '20260101_000000/vis_data/scalars.json'
     ).write_text(json.dumps({'reid/R1': 1.0}) + '\n')
    record = {
        f'reid/{k}': v
        for k, v in dict(mAP=70.0, R1=80.0, R5=90.0, R10=95.0,
                         R20=99.0).items()
    }
    log = tmp_path / '20260101_000000/20260101_000000.json'
    log.write_text(json.dumps(dict(record, **{'reid/protocol': 'p'})))
    assert read_test_log(str(tmp_path), 'reid') == dict(
        metrics=dict(R1=80.0, R5=90.0, R10=95.0, R20=99.0, mAP=70.0),
        protocol='p',
        log=str(log))


def test_fingerprints_follow_what_changes_the_numbers(tmp_path):
    ckpt = tmp_path / 'epoch_1.pth'
    ckpt.write_bytes(b'weights')
    cfg = load_config(CONFIG)
    base = evaluation_fingerprints(cfg, str(ckpt))
    # Where results go or run is not part of the protocol.
    cfg.merge_from_dict({
        'test_evaluator.out_file': 'x.pkl',
        'test_evaluator.device': 'cpu'
    })
    assert evaluation_fingerprints(cfg, str(ckpt)) == base
    changes = {
        'test_evaluator.rerank': ('protocol', True),
        'test_dataloader.dataset.data_root': ('test_data', 'elsewhere'),
        'model.head.num_classes': ('model', 3),
    }
    for key, (part, value) in changes.items():
        changed = load_config(CONFIG)
        changed.merge_from_dict({key: value})
        now = evaluation_fingerprints(changed, str(ckpt))
        assert [k for k in base if base[k] != now[k]] == [part], key
    ckpt.write_bytes(b'other weights')
    now = evaluation_fingerprints(load_config(CONFIG), str(ckpt))
    assert [k for k in base if base[k] != now[k]] == ['checkpoint']
    assert evaluation_fingerprints(cfg, None)['checkpoint'] is None


def test_reuse_only_under_the_same_fingerprints(tmp_path):
    record_file = str(tmp_path / 'test_result.json')
    fps = dict(protocol='a', test_data='b', model='c', checkpoint='d')
    assert reusable_result(record_file,
                           fps) == (None, f'no result record {record_file}')
    log = dict(metrics=dict(R1=50.0), protocol=None, log='x.json')
    written = write_result_record(record_file, load_config(CONFIG), fps,
                                  'ckpt.pth', log)
    # A log without a protocol line: the config's protocol is named.
    assert written['protocol_text'].startswith('cosine distance, standard AP')
    assert reusable_result(record_file, fps) == (written, '')
    # A gone checkpoint (None) does not invalidate the record.
    assert reusable_result(record_file, dict(fps, checkpoint=None))[0]
    record, why = reusable_result(record_file,
                                  dict(fps, protocol='z', checkpoint='y'))
    assert record is None and why == (
        'the evaluation protocol (test_evaluator) and the checkpoint changed '
        f'since {record_file}')

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Reuse a test result only under the settings that produced it.

A test result depends on the evaluation protocol (the metric's settings),
the test data (dataset, split, pipeline), the model config and the
checkpoint's weights. :func:`evaluation_fingerprints` fingerprints each part;
:func:`write_result_record` stores them with the result (a JSON record next
to the run) and :func:`reusable_result` hands a stored result back only when
every part is unchanged, saying otherwise which part changed. The numbers
themselves come from the test run's MMEngine json log
(:func:`read_test_log`).

A checkpoint is itself a reused result: :func:`write_training_settings`
stores the settings a training ran with, and :func:`training_changes` lists
what differs in a later run's config.
"""
import glob
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config

from mmreid_video.fileio import atomic_write
from mmreid_video.utils.fingerprint import file_fingerprint, fingerprint
from mmreid_video.utils.provenance import config_fingerprint
from .protocol import describe_protocol

# Metrics a split-based benchmark reports, in table order.
RESULT_KEYS = ('R1', 'R5', 'R10', 'R20', 'mAP')
# Top-level config keys that do not shape the trained weights, and
# dataloader keys that only say how fast data comes.
NOT_TRAINING = ('work_dir', 'launcher', 'load_from', 'resume',
                'experiment_name', 'val_dataloader', 'val_evaluator',
                'val_cfg', 'test_dataloader', 'test_evaluator', 'test_cfg',
                'default_hooks', 'visualizer', 'vis_backends', 'log_processor',
                'log_level', 'env_cfg')
LOADER_SPEED_KEYS = ('num_workers', 'persistent_workers', 'pin_memory',
                     'prefetch_factor')
# What each fingerprint covers, for the message that says what changed.
_PARTS = dict(
    protocol='the evaluation protocol (test_evaluator)',
    test_data='the test data settings (test_dataloader.dataset)',
    model='the model config',
    checkpoint='the checkpoint')


def _evaluators(cfg: Config) -> list:
    evaluators = cfg.test_evaluator
    if isinstance(evaluators, (list, tuple)):
        return list(evaluators)
    return [evaluators]


def config_protocol(cfg: Config) -> Tuple[list, str]:
    """The protocol of a config's ``test_evaluator``, read from the config
    alone (what depends on the test set, e.g. ``query_in_gallery``, is
    known only once it is loaded).

    Args:
        cfg (Config): A full test config.

    Returns:
        tuple[list[dict], str]: The settings of each metric and their
        one-line descriptions joined by ``'; '``.
    """
    described = [describe_protocol(m) for m in _evaluators(cfg)]
    return [d[0] for d in described], '; '.join(d[1] for d in described)


def evaluation_fingerprints(
        cfg: Config, checkpoint: Optional[str]) -> Dict[str, Optional[str]]:
    """Fingerprints of everything a test result depends on.

    Args:
        cfg (Config): The full test config (options merged).
        checkpoint (str, optional): The tested checkpoint; None when it is
            gone (then any stored checkpoint fingerprint is accepted).

    Returns:
        dict[str, str | None]: ``protocol``, ``test_data``, ``model`` and
        ``checkpoint`` fingerprints.
    """
    return dict(
        protocol=fingerprint(config_protocol(cfg)[0]),
        test_data=fingerprint(cfg.test_dataloader.dataset),
        model=config_fingerprint(cfg),
        checkpoint=file_fingerprint(checkpoint) if checkpoint else None)


def read_test_log(work_dir: str, prefix: str) -> Optional[dict]:
    """The results of the newest test run under ``work_dir``.

    ``Runner.test`` dumps one json object per run to
    ``<work_dir>/<timestamp>/<timestamp>.json``; training logs live under
    ``vis_data/`` and are not read.

    Args:
        work_dir (str): The run's work directory.
        prefix (str): The metric prefix, e.g. ``'reid'``.

    Returns:
        dict | None: ``metrics`` (:data:`RESULT_KEYS` found, in %),
        ``protocol`` (the logged one-line protocol, or None in logs
        written before it was logged) and ``log`` (the file); None when no
        test log holds ``<prefix>/R1``.
    """
    logs = sorted(
        glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(logs):
        with open(path) as f:
            try:
                record = json.load(f)
            except json.JSONDecodeError:
                continue
        if isinstance(record, dict) and f'{prefix}/R1' in record:
            metrics = {
                k: float(record[f'{prefix}/{k}'])
                for k in RESULT_KEYS if f'{prefix}/{k}' in record
            }
            return dict(
                metrics=metrics,
                protocol=record.get(f'{prefix}/protocol'),
                log=path)
    return None


def reusable_result(
        record_file: str,
        fingerprints: Dict[str, Optional[str]]) -> Tuple[Optional[dict], str]:
    """The stored result if it was computed under the same settings.

    Args:
        record_file (str): A record written by :func:`write_result_record`.
        fingerprints (dict): The current :func:`evaluation_fingerprints`.

    Returns:
        tuple[dict | None, str]: The record, or None and why it cannot be
        reused (no record, or which parts changed).
    """
    if not osp.isfile(record_file):
        return None, f'no result record {record_file}'
    with open(record_file) as f:
        try:
            record = json.load(f)
        except json.JSONDecodeError:
            return None, f'{record_file} is not valid JSON'
    stored = record.get('fingerprints', {}) if isinstance(record, dict) else {}
    changed = [
        _PARTS.get(k, k) for k, v in fingerprints.items()
        if v is not None and stored.get(k) != v
    ]
    if changed:
        return None, ' and '.join(changed) + ' changed since ' + record_file
    return record, ''


def write_result_record(record_file: str, cfg: Config,
                        fingerprints: Dict[str, Optional[str]],
                        checkpoint: str, test_log: dict) -> dict:
    """Store a test result with the fingerprints of what produced it.

    Args:
        record_file (str): The JSON file (written whole or not at all).
        cfg (Config): The test config.
        fingerprints (dict): Its :func:`evaluation_fingerprints`.
        checkpoint (str): The tested checkpoint.
        test_log (dict): The test run's :func:`read_test_log`.

    Returns:
        dict: The record: ``metrics``, ``protocol`` (settings),
        ``protocol_text``, ``fingerprints``, ``checkpoint``, ``test_log``.
    """
    settings, text = config_protocol(cfg)
    record = dict(
        metrics=test_log['metrics'],
        protocol=settings,
        # The logged line also knows the test set (query_in_gallery).
        protocol_text=test_log['protocol'] or text,
        fingerprints=fingerprints,
        checkpoint=checkpoint,
        test_log=test_log['log'])
    atomic_write(json.dumps(record, indent=1).encode(), record_file)
    return record


def training_settings(cfg: Config) -> Dict[str, Any]:
    """The settings of a config that shape the trained weights, flattened
    to dotted keys (JSON values).

    Args:
        cfg (Config): The training config (options merged).

    Returns:
        dict[str, Any]: E.g. ``{'train_cfg.max_epochs': 30, ...}``.
    """
    plain = json.loads(json.dumps(cfg.to_dict(), default=repr))
    flat = {}

    def walk(key: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f'{key}.{k}', v)
        elif key.rsplit('.', 1)[-1] not in LOADER_SPEED_KEYS:
            flat[key] = value

    for key, value in plain.items():
        if key not in NOT_TRAINING:
            walk(key, value)
    return flat


def write_training_settings(path: str, cfg: Config) -> None:
    """Store :func:`training_settings` of a finished training (JSON)."""
    atomic_write(json.dumps(training_settings(cfg), indent=1).encode(), path)


def training_changes(path: str, cfg: Config) -> List[str]:
    """What ``cfg`` would train differently from the stored settings.

    Args:
        path (str): A file of :func:`write_training_settings`.
        cfg (Config): The current config.

    Returns:
        list[str]: ``'<key>: <then> then, <now> now'`` per differing key;
        empty when equal or when nothing was stored.
    """
    if not osp.isfile(path):
        return []
    with open(path) as f:
        old = json.load(f)
    new = training_settings(cfg)
    return [
        f'{k}: {old.get(k, "unset")!r} then, {new.get(k, "unset")!r} now'
        for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    ]

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Stable short fingerprints of settings and files.

One hashing rule for everything that records where an artefact came from
or how a result was computed (configs, evaluation protocols, checkpoints'
weights, data): equal content gives an equal fingerprint in any process,
on any machine, whatever the key order of a dict.
"""
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Union

# Hex digits kept: 64 bits, plenty to tell artefacts apart and short enough
# to print in an error message.
FINGERPRINT_HEX = 16


def _plain(obj: Any) -> Any:
    """``obj`` as JSON-able plain data with a canonical form."""
    if hasattr(obj, 'to_dict'):  # mmengine ConfigDict
        obj = obj.to_dict()
    if isinstance(obj, dict):
        return {
            str(k): _plain(v)
            for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, float):
        # repr round-trips every float; nan/inf are not JSON.
        return repr(obj) if not math.isfinite(obj) else obj
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if hasattr(obj, 'tolist'):  # numpy / torch scalars and arrays
        return _plain(obj.tolist())
    return repr(obj)


def fingerprint(obj: Any) -> str:
    """The fingerprint of plain data (dicts, lists, numbers, strings,
    configs).

    Args:
        obj (Any): What to fingerprint; dict keys may come in any order.

    Returns:
        str: ``FINGERPRINT_HEX`` hex digits of its SHA-256.

    Examples:
        >>> fingerprint(dict(a=1, b=[2.0, 'x'])) == fingerprint(
        ...     dict(b=[2.0, 'x'], a=1))
        True
    """
    text = json.dumps(_plain(obj), sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_HEX]


def bytes_fingerprint(data: Any) -> str:
    """The fingerprint of raw bytes (e.g. a serialised trained index).

    Args:
        data (bytes | memoryview | np.ndarray): A C-contiguous buffer.

    Returns:
        str: ``FINGERPRINT_HEX`` hex digits of its SHA-256.
    """
    return hashlib.sha256(data).hexdigest()[:FINGERPRINT_HEX]


def file_fingerprint(path: Union[str, Path], block_size: int = 1 << 20) -> str:
    """The fingerprint of a file's bytes (read in blocks: checkpoints can be
    large).

    Args:
        path (str | Path): The file.
        block_size (int): Bytes read at a time. Defaults to 1 MiB.

    Returns:
        str: ``FINGERPRINT_HEX`` hex digits of the SHA-256 of its content.
    """
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(block_size), b''):
            digest.update(block)
    return digest.hexdigest()[:FINGERPRINT_HEX]

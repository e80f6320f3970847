# Copyright (c) mmreid_video contributors. All rights reserved.
"""The config a checkpoint was written with, and how another one differs.

MMEngine's ``Runner.save_checkpoint`` stores the run's whole config as text
(``meta['cfg']``, ``Config.pretty_text``). :func:`saved_config` reads it
back without running it (it is Python source from a file of unknown origin)
and :func:`config_differences` lists what another config changes, key by
key, for the checks of ``--resume`` and of loaded weights.
"""
import json
from typing import Any, Dict, List, Optional, Tuple

from mmreid_video.utils.cfg_options import parse_config_text

# A change: (dotted key, saved value, new value); a value of MISSING means
# the key is absent on that side.
Change = Tuple[str, Any, Any]
MISSING = '<missing>'


def plain(obj: Any) -> Any:
    """``obj`` as JSON data: dicts (configs too), lists (tuples too),
    strings, numbers, booleans and None; anything else as its ``repr``."""
    return json.loads(json.dumps(obj, default=repr))


def saved_config(checkpoint: dict) -> Optional[Dict[str, Any]]:
    """The config a checkpoint was written with, as plain data.

    Args:
        checkpoint (dict): A loaded checkpoint.

    Returns:
        dict, optional: The config, or None when the checkpoint holds none
        (weights saved by other code) or one that is not plain
        ``key = value`` text.
    """
    meta = checkpoint.get('meta')
    text = meta.get('cfg') if isinstance(meta, dict) else None
    if not isinstance(text, str):
        return None
    try:
        return plain(parse_config_text(text))
    except ValueError:
        return None


def _flat(value: Any, key: str, out: Dict[str, Any]) -> None:
    """Dotted keys of nested dicts; ``key[i]`` for lists of dicts."""
    if isinstance(value, dict) and value:
        for sub, item in value.items():
            _flat(item, f'{key}.{sub}' if key else str(sub), out)
    elif (isinstance(value, list) and value
          and all(isinstance(v, dict) for v in value)):
        for i, item in enumerate(value):
            _flat(item, f'{key}[{i}]', out)
    else:
        out[key] = value


def config_differences(saved: Any, new: Any, prefix: str = '') -> List[Change]:
    """What ``new`` changes in ``saved``, leaf by leaf.

    Args:
        saved (Any): A config or part of one (plain data or ConfigDict).
        new (Any): The other.
        prefix (str): Prepended to every key (e.g. ``'model'``).

    Returns:
        list[tuple[str, Any, Any]]: ``(key, saved value, new value)``,
        sorted by key; :data:`MISSING` for an absent side.
    """
    old_flat, new_flat = {}, {}
    _flat(plain(saved), prefix, old_flat)
    _flat(plain(new), prefix, new_flat)
    return [(key, old_flat.get(key, MISSING), new_flat.get(key, MISSING))
            for key in sorted(old_flat.keys() | new_flat.keys())
            if old_flat.get(key, MISSING) != new_flat.get(key, MISSING)]


def describe_changes(changes: List[Change], shown: int = 8) -> str:
    """``key: saved -> new`` for the first ``shown`` changes."""
    text = '; '.join(f'{key}: {old!r} -> {new!r}'
                     for key, old, new in changes[:shown])
    more = len(changes) - shown
    return text + (f'; ... ({more} more)' if more > 0 else '')

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Name the config a checkpoint was trained with.

A run trained with ``--cfg-options`` (e.g. ``model.head.num_classes=8``)
has a model that the plain config file does not build, so testing the
checkpoint with that file fails. MMEngine records the full training config
in the checkpoint (``meta['cfg']``, its text) and the training wrote the
same text into its work_dir (``<work_dir>/<config name>.py``, and
``<work_dir>/<timestamp>/vis_data/config.py`` per run). The copy whose text
equals the recorded one is the config to test with. The recorded text is
only compared, never executed.
"""
import glob
import os.path as osp
from typing import Optional


def find_training_config(checkpoint: dict, filename: str) -> Optional[str]:
    """The config copy next to a checkpoint that it was trained with.

    Args:
        checkpoint (dict): The loaded checkpoint.
        filename (str): Its path.

    Returns:
        str | None: The work_dir's top-level copy if it matches, else the
        newest matching per-run copy; None when the checkpoint records no
        config, lies elsewhere than on local disk, or no copy matches.
    """
    meta = checkpoint.get('meta')
    recorded = meta.get('cfg') if isinstance(meta, dict) else None
    if not isinstance(recorded, str) or '://' in filename:
        return None
    folder = osp.dirname(osp.abspath(filename))
    # Run folders are timestamps: newest first.
    candidates = sorted(glob.glob(osp.join(folder, '*.py'))) + sorted(
        glob.glob(osp.join(folder, '*', 'vis_data', 'config.py')),
        reverse=True)
    for path in candidates:
        try:
            with open(path, encoding='utf-8') as f:
                if f.read() == recorded:
                    return path
        except (OSError, UnicodeDecodeError):
            continue
    return None


def training_config_hint(checkpoint: dict, filename: str) -> str:
    """What to test a mismatching checkpoint with, as a sentence.

    Args:
        checkpoint (dict): The loaded checkpoint.
        filename (str): Its path.

    Returns:
        str: Names the matching config copy when there is one.
    """
    path = find_training_config(checkpoint, filename)
    if path is not None:
        return (f'It was trained with the config copy {path} (its training '
                'wrote it there; the checkpoint records the same config, '
                'e.g. the --cfg-options of that run such as '
                'model.head.num_classes): test with that file, '
                f'`python tools/test.py {path} {filename}`.')
    if isinstance(checkpoint.get('meta'), dict) and isinstance(
            checkpoint['meta'].get('cfg'), str):
        return ('It records another training config (meta["cfg"]), and no '
                'copy of it is next to it: test it with the config file and '
                'the --cfg-options (e.g. model.head.num_classes=...) it was '
                'trained with.')
    return ('It was probably trained with another config; test or load it '
            'with that config.')

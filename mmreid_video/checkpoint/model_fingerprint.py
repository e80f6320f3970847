# Copyright (c) mmreid_video contributors. All rights reserved.
"""Refuse weights trained for another architecture with the same shapes.

Names and shapes of the weights do not tell every model apart: a DI decoder
of the ``'dense'`` and of the ``'vanilla'`` variant, decoder layers paired
with blocks ``[0, 1]`` or ``[1, 0]``, a ResNet with last stride 1 or 2 hold
identical tensors, and the weights of one load into the other without a
word, then compute something else. So the checkpoint hook writes the
model's architecture (its config without the settings that only matter
for training, :data:`TRAINING_ONLY_KEYS`) and its fingerprint into
``meta`` (:func:`architecture_meta`), and every load compares them with the
model it loads into (:func:`check_same_architecture`), naming the keys that
differ.

Checkpoints written before the fingerprint existed carry the run's config
text (``meta['cfg']``, written by every MMEngine run), from which the
architecture is read instead. Weights without either (saved by other code)
load with a warning that only names and shapes were checked.
"""
import inspect
from typing import Any, Dict, List, Optional

from mmengine.logging import MMLogger

from mmreid_video.utils.fingerprint import fingerprint
from .saved_config import (MISSING, Change, describe_changes, plain,
                           saved_config)

FINGERPRINT_KEY = 'model_fingerprint'
ARCHITECTURE_KEY = 'model_architecture'
# Model settings that change how a model is trained or run, never what its
# trained weights compute: initialisation, losses, regularisation, frozen
# parts, batching and memory layout.
TRAINING_ONLY_KEYS = frozenset({
    'init_cfg', 'pretrained', 'encoder_checkpoint', 'clips_per_forward',
    'channels_last', 'frozen_stages', 'norm_eval', 'with_cp', 'dropout',
    'drop_rate', 'drop_path_rate', 'attn_drop_rate'
})
_LOSS_PREFIX = 'loss'
_OWN_SCOPE = 'mmreid_video.'
_PLAIN_TYPES = (dict, list, tuple, str, int, float, bool, type(None))


def _class_of(type_name: Any):
    """The registered model class of a ``type``, or None."""
    if not isinstance(type_name, str):
        return None
    from mmreid_video.registry import MODELS
    try:
        return MODELS.get(type_name)
    except Exception:  # noqa: BLE001 -- an unknown scope or import error
        return None


def _defaults(cls) -> Dict[str, Any]:
    """The plain-data default arguments of ``cls``."""
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {
        p.name: p.default
        for p in params if p.default is not inspect.Parameter.empty
        and isinstance(p.default, _PLAIN_TYPES)
    }


def _normalise(value: Any) -> Any:
    """Training-only keys dropped, our own (default) scope stripped."""
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        key: (str(item).replace(_OWN_SCOPE, '', 1)
              if key == 'type' else _normalise(item))
        for key, item in value.items() if key not in TRAINING_ONLY_KEYS
        and not str(key).startswith(_LOSS_PREFIX)
    }


def _changes(old: Any, new: Any, key: str) -> List[Change]:
    """The differences of two architectures; a key given on one side only
    counts unless its value is the default of that side's class."""
    if isinstance(old, list) and isinstance(
            new, list) and len(old) == len(new) and any(
                isinstance(v, dict) for v in old + new):
        return [
            change for i, (o, n) in enumerate(zip(old, new))
            for change in _changes(o, n, f'{key}[{i}]')
        ]
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [] if old == new else [(key, old, new)]
    cls = _class_of(new.get('type', old.get('type')))
    defaults = plain(_defaults(cls)) if cls is not None else {}
    changes = []
    for sub in sorted(old.keys() | new.keys()):
        o, n = old.get(sub, MISSING), new.get(sub, MISSING)
        if MISSING in (o, n) and sub in defaults:
            # A default given explicitly on one side only is no change.
            o, n = (defaults[sub] if o == MISSING else o,
                    defaults[sub] if n == MISSING else n)
        changes += _changes(o, n, f'{key}.{sub}')
    return changes


def architecture(model_cfg: Any) -> Optional[Dict[str, Any]]:
    """What a model config says about the computation its weights do.

    Args:
        model_cfg (dict, optional): A model config (``type`` and the
            constructor arguments, as in a config file).

    Returns:
        dict, optional: The config as plain data, with
        :data:`TRAINING_ONLY_KEYS` and ``loss*`` keys dropped and the
        ``mmreid_video.`` scope stripped from types; None when ``model_cfg``
        is None.
    """
    if model_cfg is None:
        return None
    return plain(_normalise(plain(model_cfg)))


def architecture_meta(model_cfg: Any) -> Dict[str, Any]:
    """The ``meta`` entries a checkpoint of this model carries.

    Args:
        model_cfg (dict, optional): The model config.

    Returns:
        dict: ``model_architecture`` and ``model_fingerprint``, or nothing
        when the config is unknown.
    """
    arch = architecture(model_cfg)
    if arch is None:
        return {}
    return {ARCHITECTURE_KEY: arch, FINGERPRINT_KEY: fingerprint(arch)}


def recorded_architecture(checkpoint: dict) -> Optional[Dict[str, Any]]:
    """The architecture a checkpoint was trained with: its
    ``meta['model_architecture']``, else the model of its ``meta['cfg']``.

    Args:
        checkpoint (dict): A loaded checkpoint.

    Returns:
        dict, optional: The architecture, or None when unrecorded.
    """
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and isinstance(meta.get(ARCHITECTURE_KEY), dict):
        return meta[ARCHITECTURE_KEY]
    cfg = saved_config(checkpoint)
    if cfg is None or not isinstance(cfg.get('model'), dict):
        return None
    model = dict(cfg['model'])
    # The Runner merges a top-level data_preprocessor into the model.
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg['data_preprocessor'])
    return architecture(model)


def check_same_architecture(model_cfg: Any,
                            checkpoint: dict,
                            filename: str,
                            allow_partial: bool = False,
                            logger: Optional[MMLogger] = None) -> None:
    """Refuse a checkpoint trained with another model architecture.

    Args:
        model_cfg (dict, optional): The config of the model loaded into;
            None skips the check (a model built from modules, not configs).
        checkpoint (dict): The loaded checkpoint.
        filename (str): The file, for messages.
        allow_partial (bool): Only warn (``allow_partial_load = True``: the
            user loads another model's weights on purpose). Defaults to
            False.
        logger (MMLogger, optional): Where warnings go. Defaults to the
            current MMLogger.

    Raises:
        RuntimeError: The architectures differ; the message names each
            differing key with both values and both fingerprints.
    """
    logger = logger or MMLogger.get_current_instance()
    current = architecture(model_cfg)
    if current is None:
        return
    recorded = recorded_architecture(checkpoint)
    if recorded is None:
        logger.warning(
            f'Checkpoint {filename} records no model config (neither '
            f'meta.{FINGERPRINT_KEY} nor meta.cfg): only the names and '
            'shapes of its weights were checked against the model.')
        return
    if fingerprint(recorded) == fingerprint(current):
        return
    changes = _changes(recorded, current, 'model')
    if not changes:
        return  # the same model, its defaults spelled out differently
    summary = (f'Checkpoint {filename} was trained with another model '
               f'architecture (fingerprint {fingerprint(recorded)}, this '
               f'config {fingerprint(current)}) whose weights have the same '
               f'names and shapes: {describe_changes(changes)}')
    if allow_partial:
        logger.warning(f'{summary}. Loading it anyway '
                       '(allow_partial_load=True).')
        return
    raise RuntimeError(
        f'{summary}. The weights would load and compute something else. '
        'Use the config the checkpoint was trained with, or set '
        '`allow_partial_load = True` to load them into this model on '
        'purpose.')

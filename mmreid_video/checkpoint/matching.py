# Copyright (c) mmreid_video contributors. All rights reserved.
"""Refuse the weights of another model.

MMEngine loads ``load_from``, ``tools/test.py``'s checkpoint and
``mmengine.runner.load_checkpoint`` with ``strict=False``: a checkpoint of a
different model only logs its missing keys and the model is then evaluated
with random weights. :func:`check_weights_match` turns every missing,
unexpected or differently shaped weight into an error naming the file and the
first keys, and weights of another architecture with the same names and
shapes into one naming the config keys that differ (see
:mod:`.model_fingerprint`), unless the config opts into partial loading with
``allow_partial_load = True``.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.runner import CheckpointLoader, load_state_dict
from torch import nn

from .config_copy import training_config_hint
from .model_fingerprint import check_same_architecture

# The config key that opts into loading only the matching weights.
PARTIAL_LOAD_KEY = 'allow_partial_load'
# How many keys of each kind an error lists.
_SHOWN = 5
# MMEngine strips a DDP prefix before loading (``revise_keys``).
_WRAPPER_PREFIX = re.compile(r'^module\.')


def weights_of(checkpoint: dict, filename: str) -> Dict[str, torch.Tensor]:
    """The model weights of a loaded checkpoint, DDP prefix stripped.

    Args:
        checkpoint (dict): A loaded checkpoint: ``{'state_dict': ...}`` or a
            bare parameter-name -> tensor dict.
        filename (str): The file, for error messages.

    Returns:
        dict[str, Tensor]: The weights.

    Raises:
        TypeError: The weights are not a name -> tensor dict.
    """
    weights = checkpoint.get('state_dict', checkpoint)
    if not isinstance(weights, dict):
        raise TypeError(
            f'Checkpoint {filename}: "state_dict" is a '
            f'{type(weights).__name__}; it must map parameter names to '
            'tensors.')
    for name, value in weights.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f'Checkpoint {filename}: entry {name!r} of its weights is a '
                f'{type(value).__name__}, not a tensor. A checkpoint must '
                'hold the model weights under "state_dict" (parameter name '
                '-> tensor).')
    stripped = OrderedDict(
        (_WRAPPER_PREFIX.sub('', k), v) for k, v in weights.items())
    # Module versions (e.g. of BN) that ``load_state_dict`` reads.
    stripped._metadata = getattr(weights, '_metadata', OrderedDict())
    return stripped


def compare_weights(
    model: nn.Module,
    weights: Dict[str,
                  torch.Tensor]) -> Tuple[List[str], List[str], List[str]]:
    """Compare checkpoint weights with a model's state dict.

    Args:
        model (nn.Module): The (unwrapped) model.
        weights (dict[str, Tensor]): The checkpoint's weights.

    Returns:
        tuple[list[str], list[str], list[str]]: Model keys missing from the
        checkpoint, checkpoint keys the model does not have, and
        ``'key: checkpoint (..) vs model (..)'`` for shape mismatches.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    mismatched = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in weights.items() if k in own and v.shape != own[k].shape
    ]
    return missing, unexpected, mismatched


def _describe(model: nn.Module, missing: List[str], unexpected: List[str],
              mismatched: List[str]) -> str:
    """One sentence per kind of difference, with the first keys of each."""

    def first(keys: List[str]) -> str:
        more = f', ... ({len(keys) - _SHOWN} more)' if len(
            keys) > _SHOWN else ''
        return ', '.join(keys[:_SHOWN]) + more

    total = len(model.state_dict())
    parts = []
    if missing:
        parts.append(f'{len(missing)} of the model\'s {total} keys are '
                     f'missing from it ({first(missing)})')
    if unexpected:
        parts.append(f'{len(unexpected)} of its keys are unknown to the '
                     f'model ({first(unexpected)})')
    if mismatched:
        parts.append(f'{len(mismatched)} have another shape '
                     f'({first(mismatched)})')
    return '; '.join(parts)


def check_weights_match(model: nn.Module,
                        checkpoint: dict,
                        filename: str,
                        allow_partial: bool = False,
                        logger: Optional[MMLogger] = None) -> None:
    """Raise unless the checkpoint holds exactly the model's weights, of
    the model's architecture.

    Args:
        model (nn.Module): The (unwrapped) model to load into.
        checkpoint (dict): The loaded checkpoint.
        filename (str): The file, for messages.
        allow_partial (bool): Only warn, so that the matching weights are
            loaded and the others keep their initial values. Defaults to
            False.
        logger (MMLogger, optional): Where the warning goes. Defaults to the
            current MMLogger.

    Raises:
        RuntimeError: Weights are missing, unexpected or of another shape,
            or the checkpoint records another architecture than the model's
            ``build_cfg``, and ``allow_partial`` is False.
    """
    differences = compare_weights(model, weights_of(checkpoint, filename))
    if not any(differences):
        check_same_architecture(
            getattr(model, 'build_cfg', None), checkpoint, filename,
            allow_partial, logger)
        return
    summary = _describe(model, *differences)
    model_name = type(model).__name__
    if allow_partial:
        (logger or MMLogger.get_current_instance()).warning(
            f'Loading only the matching weights of {filename} into '
            f'{model_name} ({PARTIAL_LOAD_KEY}=True): {summary}.')
        return
    raise RuntimeError(
        f'Checkpoint {filename} does not fit the model {model_name}: '
        f'{summary}. {training_config_hint(checkpoint, filename)} '
        f'To load only the matching weights on '
        f'purpose (the rest keep their initial values), set '
        f'`{PARTIAL_LOAD_KEY} = True` in the config (--cfg-options '
        f'{PARTIAL_LOAD_KEY}=True).')


def load_model_weights(model: nn.Module,
                       filename: str,
                       map_location: str = 'cpu',
                       allow_partial: bool = False) -> dict:
    """Load a checkpoint's weights into ``model``, refusing another model's.

    Args:
        model (nn.Module): The model.
        filename (str): Checkpoint path or URL.
        map_location (str): See :func:`torch.load`. Defaults to 'cpu'.
        allow_partial (bool): See :func:`check_weights_match`. Defaults to
            False.

    Returns:
        dict: The loaded checkpoint.
    """
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location)
    check_weights_match(model, checkpoint, filename, allow_partial)
    load_state_dict(
        model, weights_of(checkpoint, filename), strict=not allow_partial)
    return checkpoint

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Inference API: load a model, describe tracklets."""
import copy
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.image.geometric import cv2_interp_codes
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from mmreid_video.checkpoint import PARTIAL_LOAD_KEY, load_model_weights
from mmreid_video.engine.hooks.sample_timeout_hook import (SampleWatchdog,
                                                           sample_timeout)
from mmreid_video.registry import MODELS, TRANSFORMS
from mmreid_video.utils.config_file import load_config

Frame = Union[str, Path, np.ndarray]
Tracklet = Sequence[Frame]

# The pipeline step that reads image files; array tracklets replace it.
_LOADING_TYPES = ('LoadFrames', 'mmreid_video.LoadFrames')
_PACKING_TYPES = ('PackReIDInputs', 'mmreid_video.PackReIDInputs')


def init_model(config: Union[str, Path, Config],
               checkpoint: Union[str, Path, None] = None,
               device: Union[str, torch.device] = 'cpu') -> nn.Module:
    """Build a re-ID model from a config and load a checkpoint.

    ``init_weights`` is not called, so ``Pretrained`` init configs are not
    fetched: without a checkpoint the weights are random. A checkpoint whose
    weights do not fit the model is refused unless the config sets
    ``allow_partial_load = True``.

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str | Path, optional): Checkpoint file. Defaults to None.
        device (str | torch.device): Device of the model. Defaults to 'cpu'.

    Returns:
        nn.Module: The model in eval mode, with the config as ``model.cfg``.
    """
    if isinstance(config, (str, Path)):
        config = load_config(config)
    elif not isinstance(config, Config):
        raise TypeError('config must be a file path or a Config, got '
                        f'{type(config)}')
    config = copy.deepcopy(config)
    if 'model' not in config:
        raise KeyError('The config has no `model` key')
    init_default_scope(config.get('default_scope', 'mmreid_video'))
    model_cfg = config.model
    # A top-level data_preprocessor is merged into the model by the Runner.
    if config.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', config.data_preprocessor)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        # Another model's weights are an error unless the config allows it.
        load_model_weights(
            model,
            str(checkpoint),
            allow_partial=config.get(PARTIAL_LOAD_KEY, False))
    model.cfg = config
    model.to(device)
    model.eval()
    return model


def _test_pipeline_cfg(cfg: Config, clip_len: Optional[int]) -> list:
    """The test dataset's pipeline for unlabelled tracklets, with
    ``clip_len`` overridden if given."""
    try:
        pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    except AttributeError as err:
        raise KeyError('The model config has no '
                       'test_dataloader.dataset.pipeline') from err
    for step in pipeline:
        # User tracklets have no pid; labels never change a descriptor.
        if step['type'] in _PACKING_TYPES:
            step['with_label'] = False
    if clip_len is not None:
        samplers = [t for t in pipeline if 'clip_len' in t]
        if len(samplers) != 1:
            raise ValueError('Cannot override clip_len: expected one test '
                             'pipeline step with a `clip_len` key, found '
                             f'{len(samplers)}')
        samplers[0]['clip_len'] = clip_len
    return pipeline


def _check_tracklet(i: int, tracklet: Tracklet) -> bool:
    """Validate a tracklet; return True if it is made of arrays."""
    if isinstance(tracklet, (str, Path, np.ndarray)) or len(tracklet) == 0:
        raise ValueError(f'Tracklet {i} must be a non-empty list of image '
                         'paths or of (H, W, 3) uint8 RGB arrays')
    is_array = [isinstance(f, np.ndarray) for f in tracklet]
    if any(is_array) and not all(is_array):
        raise TypeError(f'Tracklet {i} mixes arrays and paths')
    if not all(is_array):
        return False
    for j, frame in enumerate(tracklet):
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(
                f'Tracklet {i} frame {j}: expected an (H, W, 3) uint8 RGB '
                f'array, got shape {frame.shape} {frame.dtype}')
    return True


class _TrackletPipeline:
    """The test pipeline applied to in-memory tracklets.

    Path tracklets run the whole pipeline, under the config's sample
    timeout (a frame whose read blocks fails, naming it, as in
    ``tools/test.py``). Array tracklets run it with the loading step
    replaced by what it does to decoded frames: pick ``frame_inds`` and,
    when ``LoadFrames(scale=...)`` is set, resize.
    """

    def __init__(self, cfg: Config, clip_len: Optional[int]) -> None:
        self._cfg = _test_pipeline_cfg(cfg, clip_len)
        self._full = Compose(self._cfg)
        timeout = sample_timeout(cfg)
        if timeout is not None:
            self._full = SampleWatchdog(self._full, timeout,
                                        'extract_tracklet_features')
        self._split = None

    def _array_steps(self) -> Tuple[Compose, object, Compose]:
        if self._split is None:
            idx = [
                i for i, t in enumerate(self._cfg)
                if t['type'] in _LOADING_TYPES
            ]
            if len(idx) != 1:
                raise ValueError('Array tracklets need exactly one LoadFrames '
                                 f'step in the test pipeline, found '
                                 f'{len(idx)}')
            self._split = (Compose(self._cfg[:idx[0]]),
                           TRANSFORMS.build(self._cfg[idx[0]]),
                           Compose(self._cfg[idx[0] + 1:]))
        return self._split

    def __call__(self, i: int, tracklet: Tracklet) -> dict:
        name = f'tracklet_{i}'
        if not _check_tracklet(i, tracklet):
            return self._full(
                dict(
                    frame_paths=[str(f) for f in tracklet],
                    tracklet_id=name,
                    sample_idx=i))
        before, loader, after = self._array_steps()
        results = before(
            dict(
                frame_paths=[f'{name}[{j}]' for j in range(len(tracklet))],
                tracklet_id=name,
                sample_idx=i))
        frames = [tracklet[j] for j in results['frame_inds']]
        if loader.scale is not None:
            interp = cv2_interp_codes[loader.interpolation]
            frames = [
                f if f.shape[1::-1] == loader.scale else cv2.resize(
                    f, loader.scale, interpolation=interp) for f in frames
            ]
        elif len({f.shape for f in frames}) > 1:
            raise ValueError(f'Tracklet {i}: frames differ in size; set '
                             'LoadFrames(scale=...) in the test pipeline')
        imgs = np.stack(frames)
        results.update(
            imgs=imgs,
            img_shape=imgs.shape[1:3],
            ori_shape=tracklet[results['frame_inds'][0]].shape[:2])
        return after(results)


@torch.no_grad()
def extract_tracklet_features(model: nn.Module,
                              tracklets: Sequence[Tracklet],
                              clip_len: Optional[int] = None,
                              batch_size: int = 8) -> torch.Tensor:
    """Compute one L2-normalised descriptor per tracklet.

    Every tracklet goes through the config's test pipeline (by default the
    all-frames protocol: consecutive clips covering every frame) and the
    model's test step, so the result equals the test-time descriptor.
    Loading one tracklet's frames may take at most the config's
    ``default_hooks.sample_timeout.timeout`` seconds (in the main thread;
    a ``TimeoutError`` names the frames).

    Args:
        model (nn.Module): A model from :func:`init_model` (needs
            ``model.cfg``).
        tracklets (Sequence[Sequence[str | Path | np.ndarray]]): Each a list
            of image paths or of (H, W, 3) uint8 RGB arrays, of any length.
        clip_len (int, optional): Override the test pipeline's clip length.
            Defaults to None (the config's).
        batch_size (int): Tracklets per test step; the frames of a step
            are in memory at once (as floats after normalisation), so use 1
            for tracklets of hundreds of frames. Defaults to 8.

    Returns:
        Tensor: CPU float tensor (N, D) with unit-norm rows.
    """
    if not hasattr(model, 'cfg'):
        raise AttributeError('The model has no `cfg`; build it with '
                             'mmreid_video.apis.init_model')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    if len(tracklets) == 0:
        raise ValueError('extract_tracklet_features needs >= 1 tracklet')
    init_default_scope(model.cfg.get('default_scope', 'mmreid_video'))
    pipeline = _TrackletPipeline(model.cfg, clip_len)
    was_training = model.training
    model.eval()
    feats: List[torch.Tensor] = []
    try:
        for start in range(0, len(tracklets), batch_size):
            batch = [
                pipeline(i, tracklets[i])
                for i in range(start, min(start + batch_size, len(tracklets)))
            ]
            samples = model.test_step(pseudo_collate(batch))
            feats.extend(s.pred_feature.float().cpu() for s in samples)
    finally:
        model.train(was_training)
    return F.normalize(torch.stack(feats), dim=1)

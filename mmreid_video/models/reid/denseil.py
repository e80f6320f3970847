# Copyright (c) mmreid_video contributors. All rights reserved.
"""DenseIL: a CNN encoder (stage 1) and a DI decoder on top of it (stage 2)."""
import os.path as osp
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.runner import CheckpointLoader

from mmreid_video.registry import MODELS
from ..utils.build_cfg import records_build_cfg
from .video_reid import VideoReID

# Encoder sub-modules of DenseIL, i.e. what stage 1 trains and stage 2 freezes.
ENCODER = ('backbone', 'encoder_neck', 'encoder_head')


def _with_in_channels(head: Union[dict, nn.Module],
                      channels: Optional[int]) -> Union[dict, nn.Module]:
    """Fill in a head config's ``in_channels`` when it is not given."""
    if isinstance(head, dict) and 'in_channels' not in head and channels:
        return {**head, 'in_channels': channels}
    return head


@MODELS.register_module()
class DenseIL(VideoReID):
    """Dense Interaction Learning (He et al., ICCV 2021), two-stage.

    The backbone is shared by two branches:

    - stage 1 (encoder): ``encoder_neck`` (temporal average pooling) +
      ``encoder_head`` (BNNeck), i.e. the baseline;
    - stage 2 (decoder): ``neck`` (:class:`DIDecoder`) + ``head`` (BNNeck),
      trained on a frozen encoder (no gradients, BN statistics frozen).

    The active branch gives the losses and the inference descriptor. The
    stage is a persistent buffer, so a checkpoint tested later uses the
    branch it was trained with. ``TwoStageTrainingHook`` switches the stage
    during training. With ``two_stage=False`` the backbone, DI decoder and
    its head train end to end from the start (the encoder branch is unused).

    Args:
        backbone (dict | nn.Module): Backbone returning every block's map.
        neck (dict | nn.Module): The DI decoder neck.
        head (dict | nn.Module): The decoder's BNNeck head. Without
            ``in_channels`` it takes the neck's ``embed_dims``.
        encoder_head (dict | nn.Module): The stage-1 BNNeck head. Without
            ``in_channels`` it takes the last of the neck's ``in_channels``
            (the last block's width), so swapping the backbone only needs
            the backbone dict and ``neck.in_channels``.
        encoder_neck (dict | nn.Module): The stage-1 neck. Defaults to
            ``dict(type='TemporalAvgPool')``.
        two_stage (bool): Train encoder then frozen-encoder decoder (the
            paper) or, if False, everything end to end. Defaults to True.
        encoder_checkpoint (str, optional): Stage-1 weights loaded into the
            encoder by :meth:`init_weights`: a ``VideoReID`` baseline
            checkpoint (``backbone/neck/head`` keys) or a DenseIL checkpoint
            (``backbone/encoder_neck/encoder_head`` keys). The model then
            starts in stage 2 and the backbone's own ``init_cfg`` is
            dropped (nothing to download). Defaults to None.
        data_preprocessor (dict | nn.Module, optional): See ``VideoReID``.
        clips_per_forward (int): See ``VideoReID``. Defaults to 64.
        channels_last (bool): See ``VideoReID``. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    @records_build_cfg
    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 neck: Union[dict, nn.Module],
                 head: Union[dict, nn.Module],
                 encoder_head: Union[dict, nn.Module],
                 encoder_neck: Union[dict,
                                     nn.Module] = dict(type='TemporalAvgPool'),
                 two_stage: bool = True,
                 encoder_checkpoint: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 clips_per_forward: int = 64,
                 channels_last: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if encoder_checkpoint is not None and not two_stage:
            raise ValueError('DenseIL: encoder_checkpoint needs '
                             'two_stage=True (it freezes the loaded encoder).')
        if encoder_checkpoint is not None and isinstance(backbone, dict):
            backbone = {**backbone, 'init_cfg': None}
        if isinstance(neck, dict):
            head = _with_in_channels(head, neck.get('embed_dims'))
            encoder_head = _with_in_channels(encoder_head,
                                             neck['in_channels'][-1])
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            clips_per_forward=clips_per_forward,
            channels_last=channels_last,
            init_cfg=init_cfg)
        self.encoder_neck = self._build(encoder_neck)
        self.encoder_head = self._build(encoder_head)
        self.two_stage = two_stage
        self.encoder_checkpoint = encoder_checkpoint
        # Parameters frozen by design (e.g. the BNNeck bias) stay frozen when
        # the encoder is unfrozen again.
        self._encoder_trainable = [
            p for m in self._encoder_modules() for p in m.parameters()
            if p.requires_grad
        ]
        start = 1 if two_stage and encoder_checkpoint is None else 2
        self.register_buffer('_stage', torch.tensor(start), persistent=True)
        self._train_stage = start
        self.register_load_state_dict_post_hook(DenseIL._sync_stage)
        self.set_train_stage(start)

    def _encoder_modules(self) -> List[nn.Module]:
        return [getattr(self, name) for name in ENCODER]

    @property
    def train_stage(self) -> int:
        """The active stage: 1 (encoder branch) or 2 (decoder branch)."""
        return self._train_stage

    @property
    def encoder_frozen(self) -> bool:
        """Whether the encoder is frozen (two-stage training, stage 2)."""
        return self.two_stage and self._train_stage == 2

    def set_train_stage(self, stage: int) -> None:
        """Activate a stage and (un)freeze the encoder accordingly.

        Args:
            stage (int): 1 or 2. Stage 1 needs ``two_stage=True``.
        """
        if stage not in (1, 2):
            raise ValueError(f'DenseIL: stage must be 1 or 2, got {stage}.')
        if stage == 1 and not self.two_stage:
            raise ValueError('DenseIL: two_stage=False trains end to end; '
                             'there is no stage 1.')
        self._train_stage = stage
        self._stage.fill_(stage)
        for param in self._encoder_trainable:
            param.requires_grad_(not self.encoder_frozen)
        self.train(self.training)

    @staticmethod
    def _sync_stage(module: 'DenseIL', incompatible_keys) -> None:
        """Apply a loaded ``_stage`` buffer (test or resume)."""
        if not module.two_stage:
            # End to end has no stage 1; a stage-1 checkpoint is only init.
            module._stage.fill_(2)
            return
        module.set_train_stage(int(module._stage))

    def train(self, mode: bool = True) -> 'DenseIL':
        """Set train/eval mode; a frozen encoder always stays in eval mode,
        so its BN running statistics do not move."""
        super().train(mode)
        if mode and self.encoder_frozen:
            for module in self._encoder_modules():
                module.eval()
        return self

    def _branch(self) -> Tuple[nn.Module, nn.Module]:
        """The (neck, head) of the active stage: they give the losses, the
        ``'tensor'`` logits and the inference descriptor (stage 1: encoder
        branch, stage 2: decoder branch)."""
        if self._train_stage == 1:
            return self.encoder_neck, self.encoder_head
        return self.neck, self.head

    def _backbone_forward(self,
                          inputs: torch.Tensor,
                          camera_ids: Optional[torch.Tensor] = None
                          ) -> Tuple[torch.Tensor, ...]:
        if self.encoder_frozen:
            # No graph through the frozen encoder: saves memory and time.
            with torch.no_grad():
                return super()._backbone_forward(inputs, camera_ids)
        return super()._backbone_forward(inputs, camera_ids)

    def init_weights(self) -> None:
        """Initialize, then load ``encoder_checkpoint`` if one is set."""
        super().init_weights()
        if self.encoder_checkpoint is not None:
            self.load_encoder(self.encoder_checkpoint)

    def load_encoder(self, filename: str) -> None:
        """Load stage-1 weights into the encoder, strictly.

        Args:
            filename (str): A ``VideoReID`` or ``DenseIL`` checkpoint (local
                path or URL).

        Raises:
            FileNotFoundError: The local file does not exist.
            RuntimeError: Missing, unexpected or mis-shaped encoder keys.
        """
        if '://' not in filename and not osp.isfile(filename):
            raise FileNotFoundError(
                f'DenseIL: encoder_checkpoint {filename!r} does not exist.')
        ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        state = ckpt.get('state_dict', ckpt)
        encoder_state = self._map_encoder_keys(state, filename)
        own = {
            f'{name}.{key}': value
            for name in ENCODER
            for key, value in getattr(self, name).state_dict().items()
        }
        problems = []
        missing = sorted(set(own) - set(encoder_state))
        unexpected = sorted(set(encoder_state) - set(own))
        shapes = [
            f'{k} {tuple(v.shape)} vs model {tuple(own[k].shape)}'
            for k, v in encoder_state.items()
            if k in own and v.shape != own[k].shape
        ]
        for what, keys in (('missing keys', missing),
                           ('unexpected keys', unexpected), ('shape mismatch',
                                                             shapes)):
            if keys:
                problems.append(f'{what} ({len(keys)}): {keys[:5]}')
        if problems:
            raise RuntimeError(
                f'DenseIL: encoder_checkpoint {filename!r} does not fit the '
                'encoder (backbone/encoder_neck/encoder_head): ' +
                '; '.join(problems))
        for name in ENCODER:
            prefix = f'{name}.'
            getattr(self, name).load_state_dict({
                k[len(prefix):]: v
                for k, v in encoder_state.items() if k.startswith(prefix)
            })

    @staticmethod
    def _map_encoder_keys(state: Dict[str, torch.Tensor],
                          filename: str) -> Dict[str, torch.Tensor]:
        """Rename checkpoint keys to DenseIL encoder keys.

        A baseline ``VideoReID`` checkpoint maps ``neck.``/``head.`` to
        ``encoder_neck.``/``encoder_head.``; a DenseIL checkpoint keeps its
        encoder keys and drops its decoder. Preprocessor buffers are ignored.
        """
        if any(k.startswith('encoder_head.') for k in state):
            rename = {
                p: p
                for p in ('backbone.', 'encoder_neck.', 'encoder_head.')
            }
            ignore = ('neck.', 'head.', 'data_preprocessor.', '_stage')
        else:
            rename = {
                'backbone.': 'backbone.',
                'neck.': 'encoder_neck.',
                'head.': 'encoder_head.'
            }
            ignore = ('data_preprocessor.', )
        mapped, unknown = {}, []
        for key, value in state.items():
            prefix = next((p for p in rename if key.startswith(p)), None)
            if prefix is not None:
                mapped[rename[prefix] + key[len(prefix):]] = value
            elif not key.startswith(ignore):
                unknown.append(key)
        if unknown:
            raise RuntimeError(
                f'DenseIL: encoder_checkpoint {filename!r} has keys that '
                f'belong to no encoder part: {sorted(unknown)[:5]}.')
        return mapped

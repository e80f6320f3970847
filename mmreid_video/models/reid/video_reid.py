# Copyright (c) mmreid_video contributors. All rights reserved.
"""The video re-ID model: frames -> backbone -> temporal neck -> BNNeck."""
import inspect
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS
from ..utils import batch_frame_valid, records_build_cfg


@MODELS.register_module()
class VideoReID(BaseModel):
    """Video person re-ID model with a per-frame 2D backbone.

    A clip batch ``(B, T, 3, H, W)`` is flattened to ``B * T`` frames for the
    backbone; the neck turns the frame feature maps into one pre-BN feature
    per clip, and the head gives the BN descriptor (inference) and the
    logits and losses (training). At test time a tracklet is several clips,
    whose descriptors are averaged.

    Args:
        backbone (dict | nn.Module): Backbone returning a tuple of
            ``(B*T, C, h, w)`` maps, e.g. ``mmpretrain.ResNet``. A backbone
            with the attribute ``with_camera_ids = True`` (e.g.
            ``CameraAwareViT``) is called as ``backbone(frames,
            camera_ids)``, with each clip's ``camid`` from the data samples
            repeated for its frames.
        neck (dict | nn.Module): Neck called as ``neck(feats, num_frames=T)``
            that returns ``(B, D)`` clip features, e.g. ``TemporalAvgPool``;
            clips with padded frames (``frame_valid`` metainfo, written by
            ``AllFramesSample``) call it with ``frame_valid=`` a ``(B, T)``
            bool mask of the real frames, which it must honour.
        head (dict | nn.Module): Head with ``pre_logits``, ``forward`` and
            ``loss``, e.g. ``BNNeckHead``.
        data_preprocessor (dict | nn.Module, optional): The data
            preprocessor. Defaults to ``ReIDDataPreprocessor`` with the
            ImageNet mean and std.
        clips_per_forward (int): The most clips pushed through the network
            at once in :meth:`predict`, which bounds test memory for long
            tracklets. Defaults to 64.
        channels_last (bool): Keep the backbone weights and frames in the
            channels-last memory format, which makes convolutions faster on
            CPUs (oneDNN) and on GPU tensor cores with AMP. Defaults to
            False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    @records_build_cfg
    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 neck: Union[dict, nn.Module],
                 head: Union[dict, nn.Module],
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 clips_per_forward: int = 64,
                 channels_last: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        data_preprocessor = data_preprocessor or {}
        if isinstance(data_preprocessor, dict):
            # Built here with our registry, so the lookup starts in the
            # mmreid_video scope.
            data_preprocessor = MODELS.build({
                'type': 'ReIDDataPreprocessor',
                **data_preprocessor
            })
        elif not isinstance(data_preprocessor, nn.Module):
            raise TypeError('VideoReID: data_preprocessor must be a dict or '
                            f'an nn.Module, got {type(data_preprocessor)}.')
        super().__init__(
            init_cfg=init_cfg, data_preprocessor=data_preprocessor)

        if not isinstance(clips_per_forward, int) or isinstance(
                clips_per_forward, bool) or clips_per_forward < 1:
            raise ValueError('VideoReID: clips_per_forward must be an int '
                             f'>= 1, got {clips_per_forward!r}.')
        self.clips_per_forward = clips_per_forward
        self.backbone = self._build(backbone)
        self.neck = self._build(neck)
        self.head = self._build(head)
        self.channels_last = channels_last
        if channels_last:
            # In-place initialisation and checkpoint loading keep the layout.
            self.backbone.to(memory_format=torch.channels_last)

        # Backbones loading third-party weights rename keys with this hook.
        if hasattr(self.backbone, '_checkpoint_filter'):
            self._register_load_state_dict_pre_hook(
                self.backbone._checkpoint_filter)

    @staticmethod
    def _build(cfg: Union[dict, nn.Module]) -> nn.Module:
        """Build a sub-module from a config unless it is built already."""
        return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """The unified entry for training, testing and plain tensors.

        Args:
            inputs (Tensor): Normalized clips of shape ``(B, T, 3, H, W)``.
            data_samples (list[DataSample], optional): Annotations; required
                for ``mode='loss'``. Defaults to None.
            mode (str): ``'tensor'`` returns the head logits ``(B, C)``,
                ``'loss'`` a dict of losses, ``'predict'`` the data samples
                with ``pred_feature`` set. Defaults to ``'tensor'``.

        Returns:
            Tensor | dict | list[DataSample]: Depends on ``mode``.
        """
        if mode == 'tensor':
            return self._branch()[1](
                self._clip_feature(inputs, self._camera_ids(data_samples),
                                   self._frame_valid(inputs, data_samples)))
        elif mode == 'loss':
            return self.loss(inputs, data_samples)
        elif mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'VideoReID: invalid mode "{mode}"; expected '
                           "'tensor', 'loss' or 'predict'.")

    def _backbone_forward(self,
                          inputs: torch.Tensor,
                          camera_ids: Optional[torch.Tensor] = None
                          ) -> Tuple[torch.Tensor, ...]:
        """Run the backbone on every frame of the clips.

        Args:
            inputs (Tensor): Clips of shape ``(B, T, 3, H, W)``.
            camera_ids (Tensor, optional): Camera index of every clip
                ``(B, )``, passed on to backbones with ``with_camera_ids``
                only. Defaults to None.

        Returns:
            tuple[Tensor]: The backbone maps, each ``(B*T, C_i, h_i, w_i)``.
        """
        if inputs.dim() != 5 or inputs.size(2) != 3:
            raise ValueError('VideoReID expects clips (B, T, 3, H, W), got '
                             f'shape {tuple(inputs.shape)}.')
        frames = inputs.flatten(0, 1)
        if self.channels_last:
            frames = frames.contiguous(memory_format=torch.channels_last)
        if camera_ids is None or not self._takes_camera_ids:
            feats = self.backbone(frames)
        else:
            if camera_ids.shape != inputs.shape[:1]:
                raise ValueError(
                    f'VideoReID: got {camera_ids.numel()} camera ids for '
                    f'{inputs.size(0)} clips.')
            # One camera per clip: every frame of a clip shares it.
            feats = self.backbone(
                frames,
                camera_ids.to(frames.device).repeat_interleave(inputs.size(1)))
        if not isinstance(feats, tuple):
            raise TypeError('VideoReID: the backbone must return a tuple of '
                            f'feature maps, got {type(feats)}.')
        return feats

    @property
    def _takes_camera_ids(self) -> bool:
        """Whether the backbone is called with the frames' camera ids."""
        return getattr(self.backbone, 'with_camera_ids', False)

    def _camera_ids(
            self,
            data_samples: Optional[List[DataSample]],
            num_clips: Optional[List[int]] = None) -> Optional[torch.Tensor]:
        """Camera index (metainfo ``camid``) of every clip, for a backbone
        with ``with_camera_ids``; None for other backbones or no samples.

        Args:
            data_samples (list[DataSample], optional): The batch's samples.
            num_clips (list[int], optional): Clips per sample (test time);
                None means one clip per sample.

        Returns:
            Tensor | None: Camera ids ``(sum num_clips, )``.
        """
        if data_samples is None or not self._takes_camera_ids:
            return None
        missing = [
            i for i, sample in enumerate(data_samples)
            if 'camid' not in sample.metainfo
        ]
        if missing:
            raise KeyError(
                f'VideoReID: the backbone {type(self.backbone).__name__} '
                f"takes camera ids, but data samples {missing[:5]} have no "
                "'camid' metainfo (keep 'camid' in PackReIDInputs meta_keys).")
        camera_ids = torch.tensor([int(s.camid) for s in data_samples])
        if num_clips is not None:
            camera_ids = camera_ids.repeat_interleave(torch.tensor(num_clips))
        return camera_ids

    def _branch(self) -> Tuple[nn.Module, nn.Module]:
        """The (neck, head) that give the features and losses."""
        return self.neck, self.head

    @staticmethod
    def _frame_valid(
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]],
            num_clips: Optional[List[int]] = None) -> Optional[torch.Tensor]:
        """Real-frame mask ``(sum num_clips, T)`` of the clips from the
        samples' ``frame_valid`` metainfo; None when every frame is real.

        Args:
            inputs (Tensor): The clips ``(N, T, 3, H, W)``.
            data_samples (list[DataSample], optional): The batch's samples.
            num_clips (list[int], optional): Clips per sample (test time);
                None means one clip per sample.
        """
        if data_samples is None:
            return None
        if num_clips is None:
            num_clips = [1] * len(data_samples)
        valid = batch_frame_valid(data_samples, num_clips, inputs.size(1))
        return None if valid is None else valid.to(inputs.device)

    def _clip_feature(
            self,
            inputs: torch.Tensor,
            camera_ids: Optional[torch.Tensor] = None,
            frame_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Return the pre-BN clip features ``(B, D)`` the losses use.

        Args:
            inputs (Tensor): Clips of shape ``(B, T, 3, H, W)``.
            camera_ids (Tensor, optional): See :meth:`extract_feat`.
            frame_valid (Tensor, optional): See :meth:`extract_feat`.
        """
        neck = self._branch()[0]
        feats = self._backbone_forward(inputs, camera_ids)
        if frame_valid is None:
            return neck(feats, num_frames=inputs.size(1))
        name = type(self).__name__
        if frame_valid.shape != inputs.shape[:2]:
            raise ValueError(
                f'{name}: frame_valid of shape {tuple(frame_valid.shape)} '
                f'for clips of shape {tuple(inputs.shape[:2])} (B, T).')
        if 'frame_valid' not in inspect.signature(neck.forward).parameters:
            raise TypeError(
                f'{name}: the neck {type(neck).__name__} takes no '
                "'frame_valid', but these clips have padded frames; give "
                'its forward a frame_valid argument, or test with '
                "AllFramesSample(last_chunk='cycle'), 'pad' or 'overlap'.")
        return neck(feats, num_frames=inputs.size(1), frame_valid=frame_valid)

    def extract_feat(
            self,
            inputs: torch.Tensor,
            camera_ids: Optional[torch.Tensor] = None,
            frame_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the inference descriptor of every clip.

        This is the one entry point that tools, benchmarks and the inference
        API share.

        Args:
            inputs (Tensor): Normalized clips of shape ``(B, T, 3, H, W)``.
            camera_ids (Tensor, optional): Camera index of every clip
                ``(B, )``; needed by backbones with ``with_camera_ids``
                (e.g. ``CameraAwareViT``), ignored otherwise. Defaults to
                None.
            frame_valid (Tensor, optional): Bool mask ``(B, T)``, True for
                the real frames of each clip and False for padding, which
                then counts zero in the neck. Defaults to None (every frame
                real).

        Returns:
            Tensor: Descriptors (the head's BN features) of shape ``(B, D)``,
            not L2-normalized.
        """
        return self._branch()[1].pre_logits(
            self._clip_feature(inputs, camera_ids, frame_valid))

    def get_layer_depth(self, param_name: str) -> Tuple[int, int]:
        """Layer depth of a parameter, for layer-wise lr decay with
        mmpretrain's ``LearningRateDecayOptimWrapperConstructor``.

        The backbone's ``get_layer_depth`` (e.g. ``VisionTransformer``) gives
        the depth of its parameters and the deepest one to everything else
        (neck, heads), as in mmpretrain's ``ImageClassifier``.

        Args:
            param_name (str): Parameter name in the model.

        Returns:
            tuple[int, int]: The layer depth and the number of depths.
        """
        if not hasattr(self.backbone, 'get_layer_depth'):
            raise NotImplementedError(
                f'VideoReID: layer-wise lr decay needs a backbone with '
                f'get_layer_depth; {type(self.backbone).__name__} has none.')
        return self.backbone.get_layer_depth(param_name, 'backbone.')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """Compute the training losses of a clip batch.

        Args:
            inputs (Tensor): Clips of shape ``(B, T, 3, H, W)``, one per
                sample.
            data_samples (list[DataSample]): ``B`` samples with ``gt_label``.

        Returns:
            dict[str, Tensor]: The head's losses and logged values.
        """
        if data_samples is None:
            raise ValueError(f"{type(self).__name__}: mode='loss' needs "
                             'data_samples.')
        return self._branch()[1].loss(
            self._clip_feature(inputs, self._camera_ids(data_samples),
                               self._frame_valid(inputs, data_samples)),
            data_samples)

    def predict(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None
    ) -> List[DataSample]:
        """Compute one descriptor per tracklet.

        Clips pass through the network ``clips_per_forward`` at a time; the
        descriptors of a sample's ``num_clips`` consecutive clips (metainfo,
        1 when absent) are averaged, each weighted by its real frames: with
        the metainfo ``frame_valid`` (``AllFramesSample`` marks the padding
        of a short last chunk) padded frames count zero in the neck and in
        the weights, without it every frame is real. A backbone with
        ``with_camera_ids`` gets each sample's ``camid`` for all its clips.

        Args:
            inputs (Tensor): Clips of shape ``(sum num_clips, T, 3, H, W)``.
            data_samples (list[DataSample], optional): One sample per
                tracklet. Defaults to None, meaning one clip per tracklet and
                new samples.

        Returns:
            list[DataSample]: The given samples (or new ones) with the field
            ``pred_feature`` of shape ``(D, )``.
        """
        if data_samples is None:
            data_samples = [DataSample() for _ in range(inputs.size(0))]
        num_clips = [int(s.metainfo.get('num_clips', 1)) for s in data_samples]
        if sum(num_clips) != inputs.size(0):
            raise ValueError(
                f'VideoReID.predict: got {inputs.size(0)} clips but the data '
                f'samples\' num_clips sum to {sum(num_clips)}.')

        chunks = inputs.split(self.clips_per_forward)
        camera_ids = self._camera_ids(data_samples, num_clips)
        camera_chunks = ([None] * len(chunks) if camera_ids is None else
                         camera_ids.split(self.clips_per_forward))
        valid = self._frame_valid(inputs, data_samples, num_clips)
        # A slice of full clips runs unmasked (fused attention kernels).
        valid_chunks = ([None] * len(chunks) if valid is None else [
            None if bool(v.all()) else v
            for v in valid.split(self.clips_per_forward)
        ])
        feats = torch.cat([
            self.extract_feat(*args)
            for args in zip(chunks, camera_chunks, valid_chunks)
        ])
        weights = (
            torch.ones(len(feats), dtype=feats.dtype, device=feats.device)
            if valid is None else valid.sum(dim=1).to(feats.dtype))
        for sample, clip_feats, clip_weights in zip(data_samples,
                                                    feats.split(num_clips),
                                                    weights.split(num_clips)):
            # Normalised first: no large sums in half precision.
            sample.set_field((clip_weights / clip_weights.sum()) @ clip_feats,
                             'pred_feature')
        return data_samples

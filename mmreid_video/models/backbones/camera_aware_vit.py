# Copyright (c) mmreid_video contributors. All rights reserved.
"""mmpretrain's Vision Transformer plus a learned embedding per camera."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models import VisionTransformer

from mmreid_video.registry import MODELS


@MODELS.register_module()
class CameraAwareViT(VisionTransformer):
    """Vision Transformer with camera-aware token embeddings.

    A learned vector per camera, times ``camera_embed_scale``, is added to
    every token (class and patch tokens) right after the position
    embedding, as the camera part of TransReID's side information embedding
    (SIE, He et al., ICCV 2021) does. Everything else is mmpretrain's
    :class:`~mmpretrain.models.VisionTransformer`: the embedding is added by
    a forward pre-hook on ``drop_after_pos`` (the dropout right after the
    position embedding), so the ViT's forward is not copied, its checkpoints
    load as they are (``camera_embed`` is new) and ``get_layer_depth``
    serves layer-wise lr decay.

    The model passes the camera of every frame: ``VideoReID`` calls
    ``backbone(frames, camera_ids)`` for backbones with
    ``with_camera_ids = True``, taking the ids from the data samples'
    ``camid`` (a 0-based camera index).

    Args:
        num_cameras (int): Number of cameras; camera ids are indices in
            ``[0, num_cameras)``.
        camera_embed_scale (float): Factor on the camera embedding.
            Defaults to 3.0 (TransReID's SIE coefficient).
        **kwargs: Arguments of :class:`mmpretrain.models.VisionTransformer`.

    Examples:
        >>> import torch
        >>> vit = CameraAwareViT(num_cameras=6, arch=dict(embed_dims=32,
        ...     num_layers=2, num_heads=2, feedforward_channels=64),
        ...     img_size=(64, 32), patch_size=8, out_type='featmap')
        >>> vit(torch.rand(2, 3, 64, 32), torch.tensor([0, 5]))[0].shape
        torch.Size([2, 32, 8, 4])
    """

    with_camera_ids = True

    def __init__(self,
                 num_cameras: int,
                 camera_embed_scale: float = 3.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(num_cameras, int) or num_cameras < 1:
            raise ValueError('CameraAwareViT: num_cameras must be an int >= '
                             f'1, got {num_cameras!r}.')
        self.num_cameras = num_cameras
        self.camera_embed_scale = camera_embed_scale
        self.camera_embed = nn.Parameter(
            torch.zeros(num_cameras, 1, self.embed_dims))
        if self.frozen_stages > 0:
            # Frozen with the position embedding, as in _freeze_stages.
            self.camera_embed.requires_grad_(False)
        self._camera_ids: Optional[torch.Tensor] = None
        self.drop_after_pos.register_forward_pre_hook(self._add_camera_embed)

    def init_weights(self) -> None:
        """Initialize (or load) the ViT, then the camera embedding, which no
        ImageNet or CLIP checkpoint has."""
        super().init_weights()
        trunc_normal_(self.camera_embed, std=0.02)

    def forward(self,
                x: torch.Tensor,
                camera_ids: Optional[torch.Tensor] = None) -> Tuple:
        """Encode frames taken by the given cameras.

        Args:
            x (Tensor): Frames ``(N, 3, H, W)``.
            camera_ids (Tensor): Camera index of every frame, shape
                ``(N, )``, integers in ``[0, num_cameras)``.

        Returns:
            tuple[Tensor]: The outputs of ``out_indices`` (see
            ``VisionTransformer``).
        """
        if camera_ids is None:
            raise ValueError(
                'CameraAwareViT needs the camera id of every frame: the data '
                "samples must carry 'camid' (PackReIDInputs meta_keys), or "
                'pass camera_ids to extract_feat.')
        if (camera_ids.shape != (x.size(0), )
                or camera_ids.is_floating_point() or camera_ids.is_complex()):
            raise ValueError(
                'CameraAwareViT: camera_ids must be an integer tensor of '
                f'shape ({x.size(0)}, ), got {camera_ids.dtype} '
                f'{tuple(camera_ids.shape)}.')
        if camera_ids.numel() and (int(camera_ids.min()) < 0 or
                                   int(camera_ids.max()) >= self.num_cameras):
            raise ValueError(
                f'CameraAwareViT: camera ids {camera_ids.unique().tolist()} '
                f'out of range [0, {self.num_cameras}); set num_cameras to '
                "the dataset's number of cameras.")
        self._camera_ids = camera_ids.long()
        try:
            return super().forward(x)
        finally:
            self._camera_ids = None

    def _add_camera_embed(self, module: nn.Module,
                          args: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Pre-hook of ``drop_after_pos``: tokens + scale * E[camera]."""
        if self._camera_ids is None:
            raise RuntimeError('CameraAwareViT: drop_after_pos called outside '
                               'forward(x, camera_ids).')
        tokens = args[0]
        camera = self.camera_embed[self._camera_ids]
        return (tokens + self.camera_embed_scale * camera.to(tokens.dtype), )

    def get_layer_depth(self,
                        param_name: str,
                        prefix: str = '') -> Tuple[int, int]:
        """Layer depth for layer-wise lr decay: the camera embedding sits
        with the position embedding at depth 0 (see ``VisionTransformer``).
        """
        if param_name == prefix + 'camera_embed':
            return 0, self.num_layers + 2
        return super().get_layer_depth(param_name, prefix)

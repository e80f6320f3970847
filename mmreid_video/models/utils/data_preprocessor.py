# Copyright (c) mmreid_video contributors. All rights reserved.
"""Data preprocessor that turns packed frame stacks into normalized clips."""
from numbers import Number
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS
from .frame_valid import clip_frame_valid


@MODELS.register_module()
class ReIDDataPreprocessor(BaseDataPreprocessor):
    """Stack packed frames into clips and normalize them on the device.

    Each packed sample holds ``num_clips * clip_len`` frames as a uint8 tensor
    of shape ``(N_i, 3, H, W)``; its data sample carries ``clip_len`` (and,
    optionally, ``num_clips``) in its metainfo. The frames are moved to the
    device as uint8 (a quarter of the float transfer), then cast and
    normalized, and every sample is cut into its clips, so that the output is
    ``(sum_i num_clips_i, T, 3, H, W)``. During training each sample is one
    clip, giving ``(B, T, 3, H, W)``.

    A sample's optional ``frame_valid`` metainfo (which of its frames are
    real rather than padding, from ``AllFramesSample``) is checked here,
    before any frame reaches the model: ``num_clips * clip_len`` booleans,
    at least one real frame per clip. The model reads it from the data
    samples (padded frames then count zero).

    Args:
        mean (Sequence[Number]): Per-channel pixel mean, in the channel order
            of the inputs (RGB). Defaults to the ImageNet mean.
        std (Sequence[Number]): Per-channel pixel standard deviation.
            Defaults to the ImageNet std.
        non_blocking (bool): Whether to copy to the device without blocking.
            Defaults to False.

    Examples:
        >>> import torch
        >>> from mmpretrain.structures import DataSample
        >>> pre = ReIDDataPreprocessor()
        >>> sample = DataSample(metainfo=dict(clip_len=4, num_clips=2))
        >>> frames = torch.zeros(8, 3, 32, 16, dtype=torch.uint8)
        >>> out = pre(dict(inputs=[frames], data_samples=[sample]))
        >>> out['inputs'].shape
        torch.Size([2, 4, 3, 32, 16])
    """

    def __init__(self,
                 mean: Sequence[Number] = (123.675, 116.28, 103.53),
                 std: Sequence[Number] = (58.395, 57.12, 57.375),
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if len(mean) != 3 or len(std) != 3:
            raise ValueError('ReIDDataPreprocessor: `mean` and `std` need 3 '
                             f'values (one per channel), got mean={mean}, '
                             f'std={std}.')
        if min(std) <= 0:
            raise ValueError(
                f'ReIDDataPreprocessor: `std` must be positive, got {std}.')
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Move frames to the device, normalize them and group them in clips.

        Args:
            data (dict): A collated batch with ``inputs`` (a list of
                ``(N_i, 3, H, W)`` tensors, or one ``(B, N, 3, H, W)``
                tensor) and ``data_samples`` (a list of :obj:`DataSample`
                with ``clip_len`` in the metainfo).
            training (bool): Unused; kept for the mmengine interface.
                Defaults to False.

        Returns:
            dict: ``inputs`` of shape ``(num_clips_total, T, 3, H, W)`` on
            the device and the same ``data_samples`` list.
        """
        data_samples = data.get('data_samples')
        inputs = list(data['inputs'])
        clip_len = self._clip_len(data_samples, len(inputs))

        clips = []
        for i, (frames, sample) in enumerate(zip(inputs, data_samples)):
            if frames.dim() != 4 or frames.size(1) != 3:
                raise ValueError(
                    'ReIDDataPreprocessor: every input must be (N, 3, H, W), '
                    f'got shape {tuple(frames.shape)} for sample {i}.')
            num_frames = frames.size(0)
            num_clips = int(
                sample.metainfo.get('num_clips', num_frames // clip_len))
            if num_frames != num_clips * clip_len or num_clips < 1:
                raise ValueError(
                    f'ReIDDataPreprocessor: sample {i} has {num_frames} '
                    f'frames, expected num_clips * clip_len = {num_clips} * '
                    f'{clip_len}.')
            if 'frame_valid' in sample.metainfo:
                clip_frame_valid(sample.frame_valid, num_clips, clip_len, i)
            clips.append(
                frames.reshape(num_clips, clip_len, *frames.shape[1:]))
        if len({c.shape[2:] for c in clips}) > 1:
            raise ValueError('ReIDDataPreprocessor: all frames in a batch '
                             'must share one size, got '
                             f'{sorted({tuple(c.shape[3:]) for c in clips})}.')

        batch = self.cast_data(torch.cat(clips))
        # Normalization is the only place that fixes the dtype; autocast and
        # channels-last conversions downstream stay free.
        batch = (batch.float() - self.mean) / self.std
        return dict(inputs=batch, data_samples=data_samples)

    @staticmethod
    def _clip_len(data_samples: Optional[List[DataSample]],
                  num_inputs: int) -> int:
        """Read the clip length shared by every sample of the batch."""
        if data_samples is None or len(data_samples) != num_inputs:
            raise ValueError(
                'ReIDDataPreprocessor needs one data sample per input with '
                '`clip_len` in its metainfo (written by the clip sampling '
                f'transform); got {num_inputs} inputs and '
                f'{None if data_samples is None else len(data_samples)} '
                'data samples.')
        clip_lens = {s.metainfo.get('clip_len') for s in data_samples}
        if None in clip_lens:
            raise KeyError(
                'ReIDDataPreprocessor: a data sample lacks the metainfo key '
                "'clip_len'; add it to PackReIDInputs(meta_keys=...).")
        if len(clip_lens) != 1:
            raise ValueError('ReIDDataPreprocessor: samples of one batch '
                             f'must share clip_len, got {sorted(clip_lens)}.')
        return int(clip_lens.pop())

# Copyright (c) mmreid_video contributors. All rights reserved.
"""The per-frame validity mask (``frame_valid``) of padded test chunks.

``AllFramesSample(last_chunk='weighted')`` pads a tracklet's short last
chunk to T frames and writes ``frame_valid`` (True for a real frame, False
for padding); ``PackReIDInputs`` carries it in the metainfo, the data
preprocessor checks it and the model reads it here, so that padded frames
count zero in every pooling and as attention keys.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmpretrain.structures import DataSample


def clip_frame_valid(frame_valid, num_clips: int, clip_len: int,
                     index: int) -> torch.Tensor:
    """Check one sample's ``frame_valid`` and cut it into its clips.

    Args:
        frame_valid (array-like): The metainfo value, ``num_clips * clip_len``
            booleans.
        num_clips (int): Clips of the sample.
        clip_len (int): Frames per clip T.
        index (int): Position of the sample in the batch (for messages).

    Returns:
        Tensor: Bool mask of shape ``(num_clips, clip_len)``.

    Raises:
        ValueError: Not booleans, the wrong number of frames, or a clip
            without a real frame (its descriptor would be undefined).
    """
    valid = np.asarray(frame_valid)
    if valid.dtype != np.bool_:
        raise ValueError(
            f'frame_valid of sample {index} must be booleans (True = real '
            f'frame), got dtype {valid.dtype}.')
    if valid.shape != (num_clips * clip_len, ):
        raise ValueError(
            f'frame_valid of sample {index} has shape {valid.shape}, '
            f'expected ({num_clips * clip_len},) = num_clips {num_clips} x '
            f'clip_len {clip_len}.')
    valid = torch.from_numpy(valid.reshape(num_clips, clip_len).copy())
    empty = torch.nonzero(~valid.any(dim=1)).flatten().tolist()
    if empty:
        raise ValueError(
            f'frame_valid of sample {index}: clips {empty[:5]} have no real '
            'frame.')
    return valid


def batch_frame_valid(data_samples: Optional[Sequence[DataSample]],
                      num_clips: List[int],
                      clip_len: int) -> Optional[torch.Tensor]:
    """The real-frame mask of a batch of clips, from the samples' metainfo.

    Args:
        data_samples (Sequence[DataSample], optional): The batch's samples.
        num_clips (list[int]): Clips per sample.
        clip_len (int): Frames per clip T.

    Returns:
        Tensor | None: Bool mask ``(sum num_clips, clip_len)`` (a sample
        without ``frame_valid`` is all real), or None when no sample has
        one, i.e. every frame is real.
    """
    if data_samples is None or not any('frame_valid' in s.metainfo
                                       for s in data_samples):
        return None
    return torch.cat([
        torch.ones(n, clip_len, dtype=torch.bool) if 'frame_valid'
        not in s.metainfo else clip_frame_valid(s.frame_valid, n, clip_len, i)
        for i, (s, n) in enumerate(zip(data_samples, num_clips))
    ])

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Temporal sampling: choose which frames of a tracklet form the clip(s).

Every transform here only writes frame indices (``frame_inds``); decoding is
left to :class:`LoadFrames`. Random draws use NumPy's global RNG, which
MMEngine seeds (``randomness.seed``) and the dataloader worker init function
reseeds per worker, so seeded runs reproduce.
"""
import math
from typing import Dict, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmreid_video.registry import TRANSFORMS


class BaseClipSample(BaseTransform):
    """Shared argument check and result writing of the sampling transforms.

    Args:
        clip_len (int): Number of frames T of a clip.
    """

    def __init__(self, clip_len: int = 8) -> None:
        if not isinstance(clip_len, int) or isinstance(clip_len, bool) \
                or clip_len < 1:
            raise ValueError(
                f'{type(self).__name__}: clip_len must be a positive int, '
                f'got {clip_len!r}.')
        self.clip_len = clip_len

    def _num_frames(self, results: Dict) -> int:
        if 'frame_paths' not in results:
            raise KeyError(f'{type(self).__name__} needs the key '
                           "'frame_paths' in the results dict.")
        num_frames = len(results['frame_paths'])
        if num_frames == 0:
            raise ValueError(
                f'{type(self).__name__}: tracklet '
                f"{results.get('tracklet_id', '<unknown>')!r} has no frames.")
        return num_frames

    def _chunk_bounds(self, num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
        """Bounds of the T equal chunks ``[floor(i*n/T), floor((i+1)*n/T))``.

        A chunk that is empty (``n < T``) is widened to its start frame, so
        a short tracklet repeats its frames in temporal order, e.g. ``n=3,
        T=8`` gives ``[0, 0, 0, 1, 1, 1, 2, 2]``.
        """
        edges = np.arange(self.clip_len + 1, dtype=np.int64) * num_frames \
            // self.clip_len
        starts = edges[:-1]
        ends = np.maximum(edges[1:], starts + 1)
        return starts, ends

    def _pack(self, results: Dict, frame_inds: np.ndarray,
              num_clips: int) -> Dict:
        results['frame_inds'] = frame_inds.astype(np.int64, copy=False)
        results['clip_len'] = self.clip_len
        results['num_clips'] = num_clips
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(clip_len={self.clip_len})'


@TRANSFORMS.register_module()
class RestrictedRandomSample(BaseClipSample):
    """Restricted random sampling (training), one clip of T frames.

    The tracklet of n frames is split into T equal consecutive chunks
    ``[floor(i*n/T), floor((i+1)*n/T))`` and one frame is drawn uniformly from
    each chunk. Tracklets shorter than T repeat their frames in temporal
    order (``n=3, T=8`` -> ``[0, 0, 0, 1, 1, 1, 2, 2]``), so every frame is
    used and order is kept.

    Required Keys:

    - frame_paths

    Added Keys:

    - frame_inds (np.ndarray[int64], shape (T,))
    - clip_len
    - num_clips (always 1)

    Args:
        clip_len (int): Frames per clip T. Defaults to 8.
    """

    def transform(self, results: Dict) -> Dict:
        starts, ends = self._chunk_bounds(self._num_frames(results))
        offsets = np.floor(np.random.random(self.clip_len) *
                           (ends - starts)).astype(np.int64)
        return self._pack(results, starts + offsets, num_clips=1)


@TRANSFORMS.register_module()
class ChunkMiddleSample(BaseClipSample):
    """Deterministic restricted sampling: the middle frame of each chunk.

    The test-time counterpart of :class:`RestrictedRandomSample`: same T
    chunks, frame ``(start + end - 1) // 2`` of each.

    Required Keys:

    - frame_paths

    Added Keys:

    - frame_inds (np.ndarray[int64], shape (T,))
    - clip_len
    - num_clips (always 1)

    Args:
        clip_len (int): Frames per clip T. Defaults to 8.
    """

    def transform(self, results: Dict) -> Dict:
        starts, ends = self._chunk_bounds(self._num_frames(results))
        return self._pack(results, (starts + ends - 1) // 2, num_clips=1)


@TRANSFORMS.register_module()
class EvenlySample(BaseClipSample):
    """Evenly spaced sampling (cheap test mode), one clip of T frames.

    Frames ``round(linspace(0, n - 1, T))``: the first and last frame are
    always included; short tracklets repeat frames in order.

    Required Keys:

    - frame_paths

    Added Keys:

    - frame_inds (np.ndarray[int64], shape (T,))
    - clip_len
    - num_clips (always 1)

    Args:
        clip_len (int): Frames per clip T. Defaults to 8.
    """

    def transform(self, results: Dict) -> Dict:
        num_frames = self._num_frames(results)
        frame_inds = np.rint(np.linspace(0, num_frames - 1, self.clip_len))
        return self._pack(results, frame_inds, num_clips=1)


@TRANSFORMS.register_module()
class AllFramesSample(BaseClipSample):
    """Every frame once, in consecutive T-frame chunks (the "all frames" test
    protocol of AP3D/TCLNet).

    ``num_clips = ceil(n / T)``. The model averages the chunk descriptors of
    a tracklet and processes long tracklets in slices
    (``VideoReID.clips_per_forward``), so memory stays bounded. A last chunk
    of ``r < T`` real frames is read as ``last_chunk`` says:

    - ``'weighted'`` (default): padded by repeating its last frame, and the
      padded frames marked invalid in ``frame_valid``: the model ignores
      them (temporal pooling averages the real frames, the DI decoder does
      not attend to their tokens) and weights every chunk by its real frames
      in the tracklet average, so every real frame counts once and a padded
      frame not at all. This is AP3D's ``test-all.py``, which runs the short
      chunk unpadded and averages per-frame features over all frames: for a
      per-frame-average model the descriptor does not depend on T.
    - ``'cycle'``: padded by cycling the chunk's own frames (``r=3, T=8``:
      ``a b c a b c a b``), all chunks weighted alike: TCLNet's test code.
    - ``'pad'``: padded by repeating its last frame, weighted like a full
      chunk (a 1-frame remainder becomes T copies of one frame).
    - ``'overlap'``: the last T real frames (overlapping the previous
      chunk), weighted like a full chunk.

    A tracklet shorter than T is one chunk, padded as its mode pads
    (``'overlap'`` pads it like ``'pad'``).

    Required Keys:

    - frame_paths

    Added Keys:

    - frame_inds (np.ndarray[int64], shape (num_clips * T,))
    - clip_len
    - num_clips
    - frame_valid (np.ndarray[bool], shape (num_clips * T,): True for a
      real frame, False for padding; only with ``last_chunk='weighted'``)

    Args:
        clip_len (int): Frames per chunk T. Defaults to 8.
        last_chunk (str): ``'weighted'``, ``'cycle'``, ``'pad'`` or
            ``'overlap'``. Defaults to ``'weighted'``.
    """

    LAST_CHUNK_MODES = ('weighted', 'cycle', 'pad', 'overlap')

    def __init__(self,
                 clip_len: int = 8,
                 last_chunk: str = 'weighted') -> None:
        super().__init__(clip_len)
        if last_chunk not in self.LAST_CHUNK_MODES:
            raise ValueError(f'AllFramesSample: last_chunk must be one of '
                             f'{self.LAST_CHUNK_MODES}, got {last_chunk!r}.')
        self.last_chunk = last_chunk

    def transform(self, results: Dict) -> Dict:
        num_frames = self._num_frames(results)
        num_clips = math.ceil(num_frames / self.clip_len)
        slots = np.arange(num_clips * self.clip_len)
        frame_inds = np.minimum(slots, num_frames - 1)
        last_start = (num_clips - 1) * self.clip_len
        if self.last_chunk == 'cycle':
            frame_inds[last_start:] = last_start + (
                slots[last_start:] - last_start) % (
                    num_frames - last_start)
        elif self.last_chunk == 'overlap' and num_frames > self.clip_len:
            frame_inds[-self.clip_len:] = np.arange(num_frames - self.clip_len,
                                                    num_frames)
        elif self.last_chunk == 'weighted':
            results['frame_valid'] = slots < num_frames
        return self._pack(results, frame_inds, num_clips=num_clips)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, '
                f'last_chunk={self.last_chunk!r})')

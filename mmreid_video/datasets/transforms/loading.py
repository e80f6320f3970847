# Copyright (c) mmreid_video contributors. All rights reserved.
"""Decode the sampled frames of a tracklet with OpenCV."""
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform

from mmreid_video.registry import TRANSFORMS

# libjpeg decodes at 1/2, 1/4 or 1/8 size for little more than the cost of
# the entropy decoding; OpenCV exposes it through these flags.
_REDUCED_FLAGS = ((8, cv2.IMREAD_REDUCED_COLOR_8),
                  (4, cv2.IMREAD_REDUCED_COLOR_4),
                  (2, cv2.IMREAD_REDUCED_COLOR_2))

# Start-of-frame markers (baseline, progressive, lossless, arithmetic); the
# others (DHT C4, JPG C8, DAC CC) carry no size.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def read_frame_bytes(path: str) -> bytes:
    """Read the encoded bytes of one frame file.

    Args:
        path (str): Image file.

    Returns:
        bytes: The file's content (never empty).

    Raises:
        FileNotFoundError: The file does not exist.
        OSError: The file is empty or unreadable.
    """
    try:
        with open(path, 'rb') as f:
            buffer = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f'Frame file not found: {path}') from None
    except OSError as err:
        raise OSError(f'Cannot read frame file {path}: {err}') from err
    if not buffer:
        raise OSError(f'Frame file is empty (0 bytes): {path}')
    return buffer


def decode_frame(buffer: bytes,
                 path: str,
                 flag: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Decode the bytes of one frame file as a BGR uint8 image.

    Args:
        buffer (bytes): The encoded image.
        path (str): Its file, named in the error.
        flag (int): ``cv2.imdecode`` flag. Defaults to ``cv2.IMREAD_COLOR``.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR image.

    Raises:
        OSError: The bytes are not a decodable image.
    """
    img = cv2.imdecode(np.frombuffer(buffer, np.uint8), flag)
    if img is None:
        raise OSError(f'Frame file cannot be decoded as an image (corrupt '
                      f'or not an image): {path}')
    return img


def read_frame(path: str, flag: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Read one frame file as a BGR uint8 image.

    Args:
        path (str): Image file.
        flag (int): ``cv2.imdecode`` flag. Defaults to ``cv2.IMREAD_COLOR``.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR image.

    Raises:
        FileNotFoundError: The file does not exist.
        OSError: The file is empty, unreadable or not a decodable image.
    """
    return decode_frame(read_frame_bytes(path), path, flag)


def jpeg_size(buffer: bytes) -> Optional[Tuple[int, int]]:
    """The (H, W) a JPEG decodes to, read from its start-of-frame header.

    Only the marker segments before the first start-of-frame are walked
    (a few hundred bytes), so this costs microseconds.

    Args:
        buffer (bytes): The encoded image.

    Returns:
        tuple[int, int] | None: The size, or None when the bytes are not a
        JPEG, the header is malformed, or an EXIF segment may rotate the
        decoded image (the size is then known only after decoding).
    """
    if buffer[:2] != b'\xff\xd8':
        return None
    pos, end = 2, len(buffer)
    while pos + 4 <= end:
        if buffer[pos] != 0xFF:
            return None
        marker = buffer[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no payload
            pos += 2
            continue
        if marker in _SOF_MARKERS:
            if pos + 9 > end:
                return None
            height = int.from_bytes(buffer[pos + 5:pos + 7], 'big')
            width = int.from_bytes(buffer[pos + 7:pos + 9], 'big')
            return (height, width) if height and width else None
        if marker in (0xDA, 0xD9) or (marker == 0xE1 and
                                      buffer[pos + 4:pos + 10] == b'Exif\0\0'):
            return None
        pos += 2 + int.from_bytes(buffer[pos + 2:pos + 4], 'big')
    return None


@TRANSFORMS.register_module()
class LoadFrames(BaseTransform):
    """Load the frames ``frame_inds`` of a tracklet as an RGB uint8 array.

    Each distinct frame is decoded once (short tracklets and the padded last
    chunk of :class:`AllFramesSample` repeat indices). With ``scale`` set,
    frames are resized to it while loading, so a following
    :class:`ClipResize` to the same size is a no-op; when the source is at
    least twice the target in both sides, JPEGs are decoded directly at 1/2,
    1/4 or 1/8 size (``reduced_decode``), judged per frame from the
    frame's own JPEG header, so no frame is decoded below the target size
    even when the crops of a tracklet change size.

    Required Keys:

    - frame_paths
    - frame_inds

    Added Keys:

    - imgs (np.ndarray[uint8], shape (N, H, W, 3), RGB)
    - img_shape (H, W)
    - ori_shape (H, W) of the first source frame

    Args:
        scale (tuple[int, int], optional): Target size ``(W, H)``. ``None``
            keeps the source size (all frames must then share it).
            Defaults to None.
        reduced_decode (bool): Decode at a reduced size when the target is
            at most half the source. Only used with ``scale``.
            Defaults to True.
        interpolation (str): Resize interpolation, one of ``'nearest'``,
            ``'bilinear'``, ``'bicubic'``, ``'area'``, ``'lanczos'``.
            Defaults to ``'bilinear'``.
    """

    def __init__(self,
                 scale: Optional[Sequence[int]] = None,
                 reduced_decode: bool = True,
                 interpolation: str = 'bilinear') -> None:
        if scale is not None:
            if len(scale) != 2 or not all(
                    isinstance(s, int) and s > 0 for s in scale):
                raise ValueError('LoadFrames: scale must be (W, H) with two '
                                 f'positive ints, got {scale!r}.')
            scale = tuple(scale)
        if interpolation not in cv2_interp_codes:
            raise ValueError(
                f'LoadFrames: interpolation must be one of '
                f'{sorted(cv2_interp_codes)}, got {interpolation!r}.')
        self.scale = scale
        self.reduced_decode = bool(reduced_decode)
        self.interpolation = interpolation

    def _decode_flag(self, src_hw: Optional[Tuple[int, int]]) -> int:
        """The largest reduction that keeps ``src_hw`` >= the target."""
        if src_hw is None:
            return cv2.IMREAD_COLOR
        width, height = self.scale
        for factor, flag in _REDUCED_FLAGS:
            if src_hw[0] >= factor * height and src_hw[1] >= factor * width:
                return flag
        return cv2.IMREAD_COLOR

    def transform(self, results: Dict) -> Dict:
        paths = results['frame_paths']
        tracklet = results.get('tracklet_id', '<unknown>')
        frame_inds = np.asarray(results['frame_inds'])
        # A cast would floor 0.5 to 0 and load a frame nobody asked for.
        if frame_inds.dtype.kind not in 'iu':
            raise TypeError(
                f'LoadFrames: frame_inds of tracklet {tracklet!r} must be '
                f'integers, got {frame_inds.dtype}: {frame_inds.tolist()}.')
        frame_inds = frame_inds.astype(np.int64, copy=False)
        if frame_inds.size == 0 or frame_inds.min() < 0 \
                or frame_inds.max() >= len(paths):
            raise IndexError(
                f'LoadFrames: frame_inds of tracklet {tracklet!r} must lie in '
                f'[0, {len(paths)}), got {frame_inds.tolist()}.')
        unique_inds, inverse = np.unique(frame_inds, return_inverse=True)

        reduce = self.scale is not None and self.reduced_decode
        out_hw = None if self.scale is None else self.scale[::-1]
        interp = cv2_interp_codes[self.interpolation]
        for i, ind in enumerate(unique_inds):
            buffer = read_frame_bytes(paths[ind])
            # Each frame's own size: crops may change size in a tracklet.
            src_hw = jpeg_size(buffer) if reduce else None
            img = decode_frame(buffer, paths[ind], self._decode_flag(src_hw))
            if i == 0:
                ori_shape = src_hw or img.shape[:2]
                out_hw = out_hw or ori_shape
                out = np.empty((len(unique_inds), *out_hw, 3), np.uint8)
            if img.shape[:2] != out_hw:
                if self.scale is None:
                    raise ValueError(
                        f'LoadFrames: frame {paths[ind]} has size '
                        f'{img.shape[:2]} but the first loaded frame of '
                        f'tracklet {tracklet!r} has {out_hw}; set `scale` to '
                        'resize while loading.')
                img = cv2.resize(img, self.scale, interpolation=interp)
            # Write the RGB frame straight into the output buffer.
            cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=out[i])

        sorted_unique = len(unique_inds) == len(frame_inds) and bool(
            np.all(np.diff(frame_inds) > 0))
        results['imgs'] = out if sorted_unique else out[inverse]
        results['img_shape'] = out_hw
        results['ori_shape'] = ori_shape
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, '
                f'reduced_decode={self.reduced_decode}, '
                f"interpolation='{self.interpolation}')")

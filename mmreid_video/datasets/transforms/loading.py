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
    try:
        with open(path, 'rb') as f:
            buffer = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f'Frame file not found: {path}') from None
    except OSError as err:
        raise OSError(f'Cannot read frame file {path}: {err}') from err
    if not buffer:
        raise OSError(f'Frame file is empty (0 bytes): {path}')
    img = cv2.imdecode(np.frombuffer(buffer, np.uint8), flag)
    if img is None:
        raise OSError(f'Frame file cannot be decoded as an image (corrupt '
                      f'or not an image): {path}')
    return img


@TRANSFORMS.register_module()
class LoadFrames(BaseTransform):
    """Load the frames ``frame_inds`` of a tracklet as an RGB uint8 array.

    Each distinct frame is decoded once (short tracklets and the padded last
    chunk of :class:`AllFramesSample` repeat indices). With ``scale`` set,
    frames are resized to it while loading, so a following
    :class:`ClipResize` to the same size is a no-op; when the source is at
    least twice the target in both sides, JPEGs are decoded directly at 1/2,
    1/4 or 1/8 size (``reduced_decode``), judged from the first frame.

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

    def _decode_flag(self, src_hw: Tuple[int, int]) -> int:
        if self.scale is None or not self.reduced_decode:
            return cv2.IMREAD_COLOR
        width, height = self.scale
        for factor, flag in _REDUCED_FLAGS:
            if src_hw[0] >= factor * height and src_hw[1] >= factor * width:
                return flag
        return cv2.IMREAD_COLOR

    def transform(self, results: Dict) -> Dict:
        paths = results['frame_paths']
        frame_inds = np.asarray(results['frame_inds'], dtype=np.int64)
        tracklet = results.get('tracklet_id', '<unknown>')
        if frame_inds.size == 0 or frame_inds.min() < 0 \
                or frame_inds.max() >= len(paths):
            raise IndexError(
                f'LoadFrames: frame_inds of tracklet {tracklet!r} must lie in '
                f'[0, {len(paths)}), got {frame_inds.tolist()}.')
        unique_inds, inverse = np.unique(frame_inds, return_inverse=True)

        first = read_frame(paths[unique_inds[0]])
        ori_shape = first.shape[:2]
        if self.scale is None:
            out_hw = ori_shape
        else:
            out_hw = (self.scale[1], self.scale[0])
        flag = self._decode_flag(ori_shape)
        interp = cv2_interp_codes[self.interpolation]
        out = np.empty((len(unique_inds), *out_hw, 3), dtype=np.uint8)
        for i, ind in enumerate(unique_inds):
            img = first if i == 0 else read_frame(paths[ind], flag)
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

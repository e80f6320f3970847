# Copyright (c) mmreid_video contributors. All rights reserved.
"""One rule for the arrays every entry point takes: descriptors and ids.

The evaluator (``evaluation.functional``, ``VideoReIDMetric``), exact
search, ``GalleryIndex`` and the tools check their inputs here, so an input
is accepted or refused everywhere alike, with the same message naming the
argument (and the row or entry).

- Descriptors: a numpy array or torch tensor of shape (N, D), N, D >= 1,
  of real numbers (float of any width, or integers, compared as floats),
  all finite. For the cosine distance rows of any finite magnitude are
  accepted: each row is scaled by a power of two before it is normalised,
  so neither 1e19 (whose squares overflow float32) nor 1e-30 (whose
  squares underflow) nor float64 beyond float32's range is lost. For
  other uses the values must fit float32.
- Ids (pids, camera ids): integers, or floats holding whole numbers (ids
  read from MATLAB files are doubles); never booleans, strings, NaN or
  fractions.
"""
import warnings
from typing import Optional, Sequence, Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]
Labels = Union[ArrayLike, Sequence[int]]
DeviceLike = Union[str, torch.device]

_FLOAT32_MAX = float(np.finfo(np.float32).max)
# Rows whose largest |value| lies in this range are normalised as they are
# (sums of squares of up to 2**26 values neither overflow nor underflow
# float32); others are scaled first. Scaling by a power of two is exact, so
# both give bit-identical unit rows wherever both work.
_SAFE_MAX_ABS = (2.0**-50, 2.0**50)
_NORMALIZE_EPS = 1e-12  # F.normalize's default


def to_tensor(x: ArrayLike,
              name: str,
              device: Optional[DeviceLike] = None) -> torch.Tensor:
    """A tensor of the same data on ``device``, sharing memory where it can.

    Args:
        x (np.ndarray | torch.Tensor): The array.
        name (str): Argument name used in error messages.
        device (str | torch.device, optional): Target device. Defaults to
            None (CPU).

    Returns:
        torch.Tensor: The data, detached.
    """
    device = 'cpu' if device is None else device
    if isinstance(x, torch.Tensor):
        return x.detach().to(device)
    if isinstance(x, np.ndarray):
        if not x.dtype.isnative:  # torch reads native byte order only
            x = x.astype(x.dtype.newbyteorder('='))
        with warnings.catch_warnings():
            # Read-only arrays (memory maps of saved files) are only read.
            warnings.filterwarnings('ignore', 'The given NumPy array is not '
                                    'writable')
            return torch.from_numpy(np.ascontiguousarray(x)).to(device)
    raise TypeError(f'`{name}` must be a numpy array or a torch tensor, '
                    f'got {type(x).__name__}')


def _is_real(x: ArrayLike) -> bool:
    """Whether ``x`` holds real numbers (floats or integers, not bools)."""
    if isinstance(x, torch.Tensor):
        return x.dtype != torch.bool and not x.is_complex()
    return x.dtype.kind in 'iuf'


def _wide_tensor(x: ArrayLike, name: str,
                 device: Optional[DeviceLike]) -> torch.Tensor:
    """``x`` on ``device`` as float32 or float64, no value lost."""
    if isinstance(x, np.ndarray) and (x.dtype.kind in 'iu'
                                      or x.dtype.itemsize > 8):
        x = x.astype(np.float64)
    t = to_tensor(x, name, device)
    if not t.is_floating_point():
        return t.double()
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def _bad_rows(mask: torch.Tensor) -> np.ndarray:
    """Row numbers where a boolean (N, D) mask has a True entry."""
    return mask.any(dim=1).nonzero()[:, 0].cpu().numpy()


def as_descriptors(x: ArrayLike,
                   name: str,
                   dim: Optional[int] = None,
                   device: Optional[DeviceLike] = None,
                   normalize: bool = False) -> torch.Tensor:
    """Check descriptors and return them as float32.

    Args:
        x (np.ndarray | torch.Tensor): (N, D) real numbers, N, D >= 1.
        name (str): Argument name used in error messages.
        dim (int, optional): Required D. Defaults to None (any).
        device (str | torch.device, optional): Where the result lives.
            Defaults to None (CPU).
        normalize (bool): L2-normalise the rows (any finite magnitude; an
            all-zero row stays zero). Defaults to False.

    Returns:
        torch.Tensor: float32 (N, D) on ``device``; it shares memory with
        ``x`` when no conversion was needed and ``normalize`` is False.

    Raises:
        TypeError: ``x`` is not an array or holds no real numbers.
        ValueError: A wrong shape or dimension, NaN/inf values, or (without
            ``normalize``) values beyond float32's range.
    """
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        raise TypeError(f'`{name}` must be a numpy array or a torch tensor, '
                        f'got {type(x).__name__}')
    shape = tuple(x.shape)
    if len(shape) != 2 or 0 in shape:
        raise ValueError(f'`{name}` must be a non-empty array of shape '
                         f'(N, D), got shape {shape}')
    if dim is not None and shape[1] != dim:
        raise ValueError(f'`{name}` has dimension {shape[1]}, expected {dim}')
    if not _is_real(x):
        # numpy and torch arrays named alike: 'bool', not 'torch.bool'.
        dtype = str(x.dtype).replace('torch.', '')
        raise TypeError(f'`{name}` must hold real numbers (float or integer '
                        f'descriptors), got dtype {dtype}')
    t = _wide_tensor(x, name, device)
    # One cheap reduction; rows are searched only when it is not finite.
    if not torch.isfinite(t.sum()):
        bad = _bad_rows(~torch.isfinite(t))
        if len(bad):
            raise ValueError(
                f'`{name}` has NaN/inf values in {len(bad)} of {shape[0]} '
                f'rows (first: row {bad[0]}); descriptors must be finite')
    if normalize:
        return normalize_rows(t)
    if t.dtype == torch.float64:
        big = t.abs() > _FLOAT32_MAX
        if big.any():
            bad = _bad_rows(big)
            raise ValueError(
                f'`{name}` has values beyond float32\'s range in '
                f'{len(bad)} of {shape[0]} rows (first: row {bad[0]}); only '
                'the cosine distance takes them (rows are scaled before '
                'they are normalised)')
    return t.float()


def check_same_dim(query_dim: int, gallery_dim: int) -> None:
    """Refuse query and gallery descriptors of different lengths."""
    if query_dim != gallery_dim:
        raise ValueError(f'Query and gallery feature dims differ: '
                         f'{query_dim} vs {gallery_dim}')


def normalize_rows(t: torch.Tensor) -> torch.Tensor:
    """L2-normalised float32 rows of finite float32/float64 values.

    Rows whose largest magnitude is outside ``[2**-50, 2**50]`` are first
    scaled by a power of two (exact), so squares neither overflow nor
    underflow; on other rows the result is bit-identical to
    ``F.normalize(t.float(), dim=1)``.

    Args:
        t (torch.Tensor): (N, D) finite values.

    Returns:
        torch.Tensor: float32 (N, D), a new tensor.
    """
    lo, hi = torch.aminmax(t, dim=1)
    peak = torch.maximum(hi, -lo)
    safe = (peak >= _SAFE_MAX_ABS[0]) & (peak <= _SAFE_MAX_ABS[1])
    if bool(safe.all()):
        out = t.float().clone() if t.dtype == torch.float32 else t.float()
    else:
        exponent = torch.frexp(peak).exponent
        exponent[safe] = 0  # those rows keep their values
        scale = torch.ldexp(torch.ones_like(peak), -exponent)
        out = torch.empty(t.shape, dtype=torch.float32, device=t.device)
        torch.mul(t, scale[:, None], out=out)
    norm = out.norm(dim=1, keepdim=True).clamp_min_(_NORMALIZE_EPS)
    return out.div_(norm)


def as_labels(x: Labels, name: str, size: int) -> np.ndarray:
    """Check a per-item id array (pids or camera ids).

    Args:
        x (array-like): (size, ) integer ids, or floats holding whole
            numbers; a list, numpy array or tensor.
        name (str): Argument name used in error messages.
        size (int): The number of items.

    Returns:
        np.ndarray: int64 (size, ).

    Raises:
        TypeError: The ids are not numbers (bools, strings, objects).
        ValueError: A wrong length, NaN/inf, fractions, or ids beyond the
            int64 range.
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        arr = (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    else:
        try:
            arr = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise TypeError(f'`{name}` must be a flat sequence of integer '
                            f'ids: {err}') from None
    if arr.shape != (size, ):
        raise ValueError(f'`{name}` must have shape ({size},), got '
                         f'{arr.shape}')
    if arr.dtype.kind not in 'iuf':
        raise TypeError(f'`{name}` must hold integer ids, got dtype '
                        f'{arr.dtype}')
    if arr.dtype.kind == 'f':
        finite = np.isfinite(arr)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise ValueError(f'`{name}` has {len(bad)} NaN/inf entries '
                             f'(first at index {bad[0]}); ids must be finite')
        whole = arr == np.round(arr)
        if not whole.all():
            # 1.5 would silently match nothing.
            bad = np.flatnonzero(~whole)
            raise ValueError(f'`{name}` has {len(bad)} entries that are not '
                             f'integer ids (first: index {bad[0]}, '
                             f'{float(arr[bad[0]])}); ids must be integers')
    if arr.dtype.kind != 'i' and len(arr) and \
            (arr.max() >= 2.0**63 or arr.min() < -2.0**63):
        raise ValueError(f'`{name}` has ids beyond the int64 range (up to '
                         f'{arr.max()})')
    return arr.astype(np.int64, copy=False)

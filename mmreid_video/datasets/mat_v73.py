"""Read integer arrays from a MATLAB v7.3 (HDF5) ``.mat`` file."""
from typing import Dict, Sequence

import numpy as np


def load_mat_v73(path: str,
                 keys: Sequence[str],
                 optional: Sequence[str] = ()) -> Dict[str, np.ndarray]:
    """Read integer arrays of a MATLAB v7.3 file in MATLAB's orientation.

    Args:
        path (str): The ``.mat`` file (``save -v7.3``, i.e. HDF5).
        keys (Sequence[str]): Variables that must exist.
        optional (Sequence[str]): Variables read when present.

    Returns:
        dict[str, np.ndarray]: int64 arrays, transposed back from HDF5's
        row-major view of MATLAB's column-major data.
    """
    import h5py
    try:
        f = h5py.File(path, 'r')
    except OSError as e:
        raise ValueError(f'{path}: cannot read it as a MATLAB v7.3 (HDF5) '
                         f'file ({e})')
    with f:
        missing = [k for k in keys if k not in f]
        if missing:
            raise KeyError(f'{path}: expected the key "{missing[0]}", found '
                           f'{sorted(f.keys())}')
        arrays = {}
        for key in [*keys, *(k for k in optional if k in f)]:
            if not isinstance(f[key], h5py.Dataset):
                raise ValueError(f'{path}: "{key}" must be a numeric array')
            arr = np.asarray(f[key][()])
            if arr.dtype.kind not in 'iuf' or (
                    arr.dtype.kind == 'f'
                    and not np.all(arr == np.round(arr))):
                raise ValueError(f'{path}: "{key}" must hold integers, got '
                                 f'dtype {arr.dtype}')
            arrays[key] = arr.T.astype(np.int64)
    return arrays

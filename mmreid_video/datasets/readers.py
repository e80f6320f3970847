"""Readers shared by the dataset classes: ``.mat`` arrays (v7.3 too), name
lists, MARS-style names, layout checks and the error raised for a bad row."""
import os
import os.path as osp
from typing import List, Sequence, Union

import h5py
import numpy as np
from scipy.io import loadmat
from scipy.io.matlab import MatReadError


def format_error(file: str, row: Union[int, str], msg: str) -> ValueError:
    """Build the error raised for malformed metadata.

    Args:
        file (str): The metadata file that is malformed.
        row (int | str): The row (1-based for tables) or key path at fault.
        msg (str): What is wrong and what was expected.

    Returns:
        ValueError: The error to raise.
    """
    return ValueError(f'{file}, row {row}: {msg}')


def check_layout(data_root: str, required: Sequence[str], layout: str,
                 dataset: str) -> None:
    """Check that the files and folders a dataset reads exist.

    Only the given paths are checked (never every frame), so the check is
    cheap even for MARS.

    Args:
        data_root (str): The dataset root.
        required (Sequence[str]): Paths relative to ``data_root``.
        layout (str): The expected tree, shown in the error.
        dataset (str): Dataset name, shown in the error.

    Raises:
        FileNotFoundError: Naming the first missing path and the layout.
    """
    for rel in ('', *required):
        path = osp.join(data_root, rel)
        if not osp.exists(path or '.'):
            raise FileNotFoundError(
                f'{dataset}: "{path}" does not exist (data_root='
                f'"{data_root}"). Expected layout:\n{layout}\n'
                'See docs/dataset_prepare.md.')


def list_visible(path: str) -> List[str]:
    """Sorted entries of a folder, without hidden ones (``.*``)."""
    return sorted(n for n in os.listdir(path) if not n.startswith('.'))


def _load_hdf5_array(path: str, key: str) -> np.ndarray:
    """One variable of a MATLAB v7.3 file (HDF5), in MATLAB's orientation."""
    try:
        f = h5py.File(path, 'r')
    except OSError as e:
        raise ValueError(f'{path}: cannot read it as a MATLAB v7.3 (HDF5) '
                         f'file ({e})')
    with f:
        if key not in f:
            raise KeyError(f'{path}: expected the key "{key}", found '
                           f'{sorted(k for k in f if not k.startswith("#"))}')
        if not isinstance(f[key], h5py.Dataset):
            raise ValueError(f'{path}: "{key}" must be a numeric array, got '
                             'a MATLAB struct')
        # HDF5 sees MATLAB's column-major arrays transposed.
        return np.asarray(f[key][()]).T


def load_mat_array(path: str, key: str) -> np.ndarray:
    """Read one array of a MATLAB file, naming file and key on failure.

    Files saved with ``-v7.3`` (HDF5) are read with h5py, older ones with
    scipy; both give the array in MATLAB's orientation.

    Args:
        path (str): The ``.mat`` file.
        key (str): The variable to read.

    Returns:
        np.ndarray: The array, as int64 (integral floats are accepted, as
        MATLAB stores doubles by default).
    """
    if h5py.is_hdf5(path):
        arr = _load_hdf5_array(path, key)
    else:
        try:
            mat = loadmat(path, variable_names=[key])
        except (MatReadError, ValueError, TypeError, OSError) as e:
            raise ValueError(
                f'{path}: cannot read it as a MATLAB file ({e})')
        if key not in mat:
            keys = sorted(k for k in loadmat(path) if not k.startswith('__'))
            raise KeyError(f'{path}: expected the key "{key}", found {keys}')
        arr = np.asarray(mat[key])
    if arr.dtype.kind not in 'iuf' or (arr.dtype.kind == 'f'
                                       and not np.all(arr == np.round(arr))):
        raise ValueError(f'{path}: "{key}" must hold integers, got dtype '
                         f'{arr.dtype}')
    return arr.astype(np.int64)


def read_names(path: str) -> List[str]:
    """Read a frame-name list (one name per line, MARS ``*_name.txt``)."""
    with open(path) as f:
        return f.read().split()


def pid_folder(pid: int) -> str:
    """MARS folder / name prefix of a pid: ``0001``, ``0000``, ``00-1``."""
    return f'{pid:04d}' if pid >= 0 else str(pid).rjust(4, '0')

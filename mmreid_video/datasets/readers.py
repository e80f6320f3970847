# Copyright (c) mmreid_video contributors. All rights reserved.
"""Readers shared by the dataset classes: ``.mat`` arrays, name lists,
MARS-style names and the error raised for a bad row."""
import os.path as osp
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
from scipy.io import loadmat, whosmat

# A MARS frame name: <pid4>C<camera>T<tracklet4>F<frame3>.jpg, where pid -1
# (junk) is written 00-1.
MARS_NAME = '<pid4>C<camera>T<tracklet4>F<frame3>.jpg'
_MARS_LITERALS = {4: 'C', 6: 'T', 11: 'F', 15: '.', 16: 'j', 17: 'p', 18: 'g'}
_MARS_DIGITS = [5, 7, 8, 9, 10, 12, 13, 14]


def format_error(file: str,
                 row: Union[int, str],
                 msg: str,
                 unit: str = 'row') -> ValueError:
    """Build the error raised for malformed metadata.

    Args:
        file (str): The metadata file that is malformed.
        row (int | str): The row (1-based for tables) or key path at fault.
        msg (str): What is wrong and what was expected.
        unit (str): What ``row`` counts, e.g. ``'line'`` for text files.
            Defaults to ``'row'``.

    Returns:
        ValueError: The error to raise.
    """
    return ValueError(f'{file}, {unit} {row}: {msg}')


def load_mat_array(path: str, key: str) -> np.ndarray:
    """Read one numeric array of a MATLAB file, naming file and key on
    failure.

    MAT-files v4 to v7 are read with scipy, v7.3 (HDF5) with h5py.

    Args:
        path (str): The ``.mat`` file.
        key (str): The variable to read.

    Returns:
        np.ndarray: The array, as int64 (integral floats are accepted, as
        MATLAB stores doubles by default).

    Raises:
        KeyError: The file has no variable ``key``.
        ValueError: The file is empty, truncated or not a MAT-file, or the
            variable is not an array of finite integers.
    """
    if osp.getsize(path) == 0:
        raise ValueError(f'{path}: the file is empty (0 bytes); expected a '
                         f'MATLAB file holding "{key}"')
    try:
        mat = loadmat(path, variable_names=[key])
    except NotImplementedError:  # scipy's answer to v7.3 (HDF5) files
        arr = _load_hdf5_array(path, key)
    except Exception as e:  # scipy raises many types for corrupt files
        if not _is_hdf5(path):
            raise ValueError(
                f'{path}: cannot read it as a MATLAB file, it is truncated or '
                f'corrupt ({type(e).__name__}: {e}); expected a MAT-file '
                f'holding "{key}"') from e
        # HDF5 saved without the MAT header MATLAB's -v7.3 writes.
        arr = _load_hdf5_array(path, key)
    else:
        if key not in mat:
            keys = sorted(name for name, _, _ in whosmat(path))
            raise KeyError(f'{path}: expected the key "{key}", found {keys}')
        arr = np.asarray(mat[key])
    if arr.dtype.kind not in 'iuf' or (
            arr.dtype.kind == 'f'
            and not np.all(np.isfinite(arr) & (arr == np.round(arr)))):
        raise ValueError(f'{path}: "{key}" must hold integers, got dtype '
                         f'{arr.dtype}' +
                         (' with non-integral or non-finite '
                          'values' if arr.dtype.kind == 'f' else ''))
    return arr.astype(np.int64)


def _is_hdf5(path: str) -> bool:
    """Whether ``path`` is an HDF5 file (False when h5py is missing)."""
    try:
        import h5py
    except ImportError:
        return False
    return bool(h5py.is_hdf5(path))


def _load_hdf5_array(path: str, key: str) -> np.ndarray:
    """Read a numeric variable of a MATLAB v7.3 (HDF5) file."""
    try:
        import h5py
    except ImportError as e:
        raise ValueError(f'{path}: a MATLAB v7.3 (HDF5) file; reading it '
                         'needs h5py (pip install h5py)') from e
    try:
        with h5py.File(path, 'r') as f:
            if key not in f:
                keys = sorted(k for k in f.keys() if not k.startswith('#'))
                raise KeyError(
                    f'{path}: expected the key "{key}", found {keys}')
            node = f[key]
            if not isinstance(node, h5py.Dataset) or \
                    node.dtype.kind not in 'iuf':
                raise ValueError(f'{path}: "{key}" must be a numeric array '
                                 '(not a cell, struct or string)')
            if node.attrs.get('MATLAB_empty', 0):
                return np.zeros((0, 0), np.int64)
            # MATLAB writes column-major: h5py sees the transpose.
            return np.asarray(node[()]).T
    except OSError as e:
        raise ValueError(f'{path}: cannot read it as a MATLAB v7.3 (HDF5) '
                         f'file, it is truncated or corrupt ({e})') from e


def _decode(data: bytes, path: str) -> str:
    """UTF-8 text of a file's bytes, naming file and line of a bad byte."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        line = data.count(b'\n', 0, e.start) + 1
        raise format_error(
            path, line, f'not UTF-8 text ({e.reason} at byte {e.start}: '
            f'{data[e.start:e.start + 1]!r})', 'line') from None


def read_text(path: str) -> str:
    """Read a UTF-8 text file, naming file and line of a decoding error.

    Args:
        path (str): The file.

    Returns:
        str: Its text.
    """
    with open(path, 'rb') as f:
        return _decode(f.read(), path)


def _split_names(text: str, path: str) -> List[str]:
    """One name per line; trailing blank lines ignored, others an error."""
    names = text.split()
    # Fast path: plain "name\n" lines, so name i is line i + 1.
    if text.count('\n') in (len(names), len(names) - 1) and not any(
            c in text for c in ' \t\r\v\f\x1c\x1d\x1e\x85\u2028\u2029'):
        return names
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    if '' in names:
        raise format_error(path,
                           names.index('') + 1,
                           'empty line; expected one frame name per line',
                           'line')
    return names


def read_names(path: str) -> List[str]:
    """Read a frame-name list (one name per line).

    Trailing blank lines are ignored; any other blank line is an error, so
    that name ``i`` is line ``i + 1``.

    Args:
        path (str): The list.

    Returns:
        list[str]: The names, stripped.
    """
    return _split_names(read_text(path), path)


def read_mars_names(path: str) -> Tuple[List[str], Dict[str, np.ndarray]]:
    """Read and parse a MARS frame-name list (``info/*_name.txt``).

    Args:
        path (str): The list.

    Returns:
        tuple[list[str], dict[str, np.ndarray]]: The names (see
        :func:`read_names`) and their fields (see
        :func:`parse_mars_names`).
    """
    with open(path, 'rb') as f:
        data = f.read()
    names = _split_names(_decode(data, path), path)
    # The published lists are fixed-width lines ("<19 chars>\n"): view the
    # bytes as a matrix instead of converting 0.7 M Python strings.
    lf = data if data.endswith(b'\n') else data + b'\n'
    if len(lf) == 20 * len(names) and names:
        chars = np.frombuffer(lf, np.uint8).reshape(len(names), 20)
        if (chars[:, 19] == ord('\n')).all():
            return names, _parse_mars_chars(chars[:, :19])
    return names, parse_mars_names(names)


def parse_mars_names(names: Sequence[str]) -> Dict[str, np.ndarray]:
    """Parse MARS frame names, vectorised.

    Args:
        names (Sequence[str]): Names like ``0001C1T0001F001.jpg``.

    Returns:
        dict[str, np.ndarray]: ``valid`` (bool: the name has the MARS form),
        and per name ``pid`` (-1 for ``00-1``), ``camera`` and ``tracklet``
        (meaningful where ``valid``).
    """
    arr = np.asarray(names, dtype=str).reshape(-1)
    width = arr.dtype.itemsize // 4
    # Characters as code points, one row per name (zero-padded).
    chars = arr.view(np.uint32).reshape(len(arr), width)
    if width < 19:
        chars = np.pad(chars, ((0, 0), (0, 19 - width)))
    parsed = _parse_mars_chars(chars[:, :19])
    if width > 19:
        parsed['valid'] &= chars[:, 19] == 0  # exactly 19 characters
    return parsed


def _parse_mars_chars(chars: np.ndarray) -> Dict[str, np.ndarray]:
    """Fields of names given as an (N, 19) matrix of character codes."""

    def digit(col: int) -> np.ndarray:
        # Codes below '0' wrap around to large unsigned values.
        return np.subtract(chars[:, col], ord('0'), dtype=chars.dtype)

    def number(cols: range) -> np.ndarray:
        value = np.zeros(len(chars), np.int64)
        for col in cols:
            value = value * 10 + digit(col)
        return value

    valid = np.ones(len(chars), bool)
    for col, char in _MARS_LITERALS.items():
        valid &= chars[:, col] == ord(char)
    for col in _MARS_DIGITS:
        valid &= digit(col) <= 9
    junk = np.ones(len(chars), bool)
    pid_digits = np.ones(len(chars), bool)
    for col, char in enumerate('00-1'):
        junk &= chars[:, col] == ord(char)
        pid_digits &= digit(col) <= 9
    valid &= pid_digits | junk
    return dict(
        valid=valid,
        pid=np.where(junk, -1, number(range(4))),
        camera=digit(5).astype(np.int64),
        tracklet=number(range(7, 11)))


def pid_folder(pid: int) -> str:
    """MARS folder / name prefix of a pid: ``0001``, ``0000``, ``00-1``."""
    return f'{pid:04d}' if pid >= 0 else str(pid).rjust(4, '0')

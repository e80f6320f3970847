# Copyright (c) mmreid_video contributors. All rights reserved.
"""The shared readers: every unreadable file is named with what is wrong."""
import numpy as np
import pytest
from scipy.io import savemat

from mmreid_video.datasets.readers import (load_mat_array, parse_mars_names,
                                           read_mars_names, read_names)


def test_v73_is_read_with_h5py(tmp_path, write_v73):
    table = np.array([[1, 16, 1, 1], [17, 20, 1, 2], [21, 30, 3, 6]])
    write_v73(tmp_path / 'v73.mat', track_train_info=table.astype(float))
    got = load_mat_array(str(tmp_path / 'v73.mat'), 'track_train_info')
    np.testing.assert_array_equal(got, table)
    assert got.dtype == np.int64
    with pytest.raises(
            KeyError,
            match=r'v73\.mat: expected the key "ls_set", found '
            r'.*track_train_info'):
        load_mat_array(str(tmp_path / 'v73.mat'), 'ls_set')
    write_v73(tmp_path / 'cell.mat', ls_set=None)
    with pytest.raises(
            ValueError, match=r'cell\.mat: "ls_set" must be a '
            'numeric array'):
        load_mat_array(str(tmp_path / 'cell.mat'), 'ls_set')


def test_hdf5_without_mat_header_is_read(tmp_path):
    """An HDF5 file saved without MATLAB's v7.3 header (e.g. by h5py) is
    still read, in MATLAB's orientation."""
    import h5py
    path = tmp_path / 'plain.mat'
    with h5py.File(path, 'w') as f:
        f['query'] = np.array([[1, 2, 3], [4, 5, 6]]).T
    assert load_mat_array(str(path), 'query').tolist() == [[1, 2, 3],
                                                           [4, 5, 6]]


def test_v5_with_other_keys(tmp_path):
    savemat(tmp_path / 'a.mat', {'b': np.eye(2), 'c': np.ones(1)})
    with pytest.raises(
            KeyError, match=r'a\.mat: expected the key "x", found .*b.*c'):
        load_mat_array(str(tmp_path / 'a.mat'), 'x')


def unreadable_files(tmp_path, write_v73):
    savemat(tmp_path / 'good.mat', {'x': np.arange(40)})
    good = (tmp_path / 'good.mat').read_bytes()
    write_v73(tmp_path / 'good73.mat', x=np.arange(40.))
    good73 = (tmp_path / 'good73.mat').read_bytes()
    rng = np.random.default_rng(0)
    return {
        'empty': b'',
        'header_only': good[:100],
        'truncated': good[:len(good) - 20],
        'short_header': good[:140],
        'garbage': rng.integers(0, 256, 300, np.uint8).tobytes(),
        'text': b'track_train_info = [1 2 3 4]\n' * 10,
        'v73_truncated': good73[:700],
        'v73_garbage': good73[:512] + bytes(300),
    }


@pytest.mark.parametrize('kind', [
    'empty', 'header_only', 'truncated', 'short_header', 'garbage', 'text',
    'v73_truncated', 'v73_garbage'
])
def test_unreadable_mat_names_the_file(tmp_path, write_v73, kind):
    path = tmp_path / f'{kind}.mat'
    path.write_bytes(unreadable_files(tmp_path, write_v73)[kind])
    msg = 'the file is empty' if kind == 'empty' else 'truncated or corrupt'
    with pytest.raises(ValueError, match=rf'^{path}: .*{msg}') as e:
        load_mat_array(str(path), 'x')
    assert '"x"' in str(e.value) or 'v7.3' in str(e.value)


@pytest.mark.parametrize('value, msg', [
    (np.array([1.5, 2]), 'must hold integers'),
    (np.array([np.inf, 2]), 'non-finite'),
    (np.array([np.nan, 2]), 'non-finite'),
    (np.array(['a']), 'must hold integers'),
])
def test_mat_values_must_be_integers(tmp_path, value, msg):
    savemat(tmp_path / 'v.mat', {'x': value})
    with pytest.raises(ValueError, match=rf'v\.mat: "x" {msg}|{msg}'):
        load_mat_array(str(tmp_path / 'v.mat'), 'x')


def test_read_names_lines(tmp_path):
    path = tmp_path / 'names.txt'
    path.write_bytes(b'a\r\nb\r\n\r\n')
    assert read_names(str(path)) == ['a', 'b']
    path.write_bytes(b'a\nb\n\nc\n')
    with pytest.raises(ValueError, match=r'names\.txt, line 3: empty line'):
        read_names(str(path))
    path.write_bytes(b'a\nb\nc\xff\n')
    with pytest.raises(
            ValueError,
            match=r'names\.txt, line 3: not UTF-8 text '
            r"\(invalid start byte at byte 5: b'\\xff'\)"):
        read_names(str(path))


def test_parse_mars_names():
    names = [
        '0001C1T0001F001.jpg', '00-1C6T0012F100.jpg', '0000C2T0003F010.jpg',
        '0001C1T0001F001.png', '0001C1T001F001.jpg', '0001C1T0001F001.jpgx',
        'x', '0a01C1T0001F001.jpg', '0001C1T0001F001.jp\u00e9',
        '0001CxT0001F001.jpg', '-001C1T0001F001.jpg',
        '\u0661001C1T0001F001.jpg'
    ]
    parsed = parse_mars_names(names)
    assert parsed['valid'].tolist() == [True] * 3 + [False] * 9
    assert parsed['pid'][:3].tolist() == [1, -1, 0]
    assert parsed['camera'][:3].tolist() == [1, 6, 2]
    assert parsed['tracklet'][:3].tolist() == [1, 12, 3]


def test_read_mars_names_fixed_width_and_other_lists(tmp_path):
    names = ['0001C1T0001F001.jpg', '00-1C6T0012F100.jpg', 'bad']
    for text in ('\n'.join(names[:2]) + '\n', '\r\n'.join(names)):
        (tmp_path / 'n.txt').write_text(text)
        got, parsed = read_mars_names(str(tmp_path / 'n.txt'))
        assert got == names[:len(got)]
        assert parsed['valid'].tolist() == [True, True, False][:len(got)]
        assert parsed['pid'][:2].tolist() == [1, -1]

# Copyright (c) mmreid_video contributors. All rights reserved.
import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmreid_video.datasets.transforms import loading
from mmreid_video.registry import TRANSFORMS

# RGB colours of the synthetic frames; solid colours survive JPEG almost
# exactly.
COLORS = [(250, 10, 10), (10, 250, 10), (10, 10, 250), (200, 200, 20),
          (20, 200, 200)]


def write_frames(root, colors=COLORS, size=(64, 32)):
    paths = []
    for i, rgb in enumerate(colors):
        img = np.empty((*size, 3), np.uint8)
        img[:] = rgb[::-1]  # OpenCV writes BGR
        path = str(root / f'{i:04d}.jpg')
        assert cv2.imwrite(path, img)
        paths.append(path)
    return paths


def build(**kwargs):
    init_default_scope('mmreid_video')
    return TRANSFORMS.build(dict(type='LoadFrames', **kwargs))


def test_rgb_shapes_and_order(tmp_path):
    paths = write_frames(tmp_path)
    out = build()(dict(frame_paths=paths, frame_inds=np.array([4, 0, 2])))
    imgs = out['imgs']
    assert imgs.dtype == np.uint8 and imgs.shape == (3, 64, 32, 3)
    assert out['img_shape'] == (64, 32) and out['ori_shape'] == (64, 32)
    expected = np.array([COLORS[4], COLORS[0], COLORS[2]], np.float64)
    np.testing.assert_allclose(imgs.mean(axis=(1, 2)), expected, atol=4)


def test_unique_frames_decoded_once(tmp_path, monkeypatch):
    paths = write_frames(tmp_path)
    calls = []

    decode = loading.decode_frame

    def counting_decode(buffer, path, flag=cv2.IMREAD_COLOR):
        calls.append(path)
        return decode(buffer, path, flag)

    monkeypatch.setattr(loading, 'decode_frame', counting_decode)
    inds = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    imgs = build()(dict(frame_paths=paths, frame_inds=inds))['imgs']
    assert sorted(calls) == paths[:3]
    assert imgs.shape[0] == 8
    np.testing.assert_array_equal(imgs[0], imgs[2])
    np.testing.assert_array_equal(imgs[6], imgs[7])
    assert not np.array_equal(imgs[2], imgs[3])
    # Repeated frames are separate copies: editing one leaves the others.
    imgs[0] = 0
    assert imgs[1].any()


def test_scale_and_reduced_decode(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        # Smooth image so that decoding at 1/4 matches a full-size resize.
        small = rng.integers(0, 256, (8, 4, 3), dtype=np.uint8)
        img = cv2.resize(small, (128, 256), interpolation=cv2.INTER_LINEAR)
        paths.append(str(tmp_path / f'{i}.jpg'))
        cv2.imwrite(paths[-1], img)
    flags = []
    decode = loading.decode_frame

    def recording_decode(buffer, path, flag=cv2.IMREAD_COLOR):
        flags.append(flag)
        return decode(buffer, path, flag)

    monkeypatch.setattr(loading, 'decode_frame', recording_decode)
    results = dict(frame_paths=paths, frame_inds=np.arange(3))
    out = build(scale=(32, 64))(dict(results))
    assert out['imgs'].shape == (3, 64, 32, 3)
    assert out['img_shape'] == (64, 32) and out['ori_shape'] == (256, 128)
    # Each frame's JPEG header gives its size: all decode at 1/4.
    assert flags == [cv2.IMREAD_REDUCED_COLOR_4] * 3
    flags.clear()
    full = build(scale=(32, 64), reduced_decode=False)(dict(results))
    assert flags == [cv2.IMREAD_COLOR] * 3
    diff = np.abs(out['imgs'].astype(int) - full['imgs'].astype(int))
    assert diff.mean() < 6
    # A target larger than half the source decodes at full size.
    flags.clear()
    out = build(scale=(100, 200))(dict(results))
    assert out['imgs'].shape == (3, 200, 100, 3)
    assert flags == [cv2.IMREAD_COLOR] * 3


def recording_decoder(monkeypatch):
    """Patch the decoder; return the list of (flag, decoded (H, W))."""
    decoded = []
    decode = loading.decode_frame

    def recording_decode(buffer, path, flag=cv2.IMREAD_COLOR):
        img = decode(buffer, path, flag)
        decoded.append((flag, img.shape[:2]))
        return img

    monkeypatch.setattr(loading, 'decode_frame', recording_decode)
    return decoded


@pytest.mark.parametrize(
    'sizes, expected',
    [
        # Crops that shrink (DukeMTMC-VideoReID): no frame below 64x32.
        ([(256, 128), (160, 80), (100, 50),
          (64, 32)], [(cv2.IMREAD_REDUCED_COLOR_4, (64, 32)),
                      (cv2.IMREAD_REDUCED_COLOR_2, (80, 40)),
                      (cv2.IMREAD_COLOR, (100, 50)),
                      (cv2.IMREAD_COLOR, (64, 32))]),
        # Crops that grow: later frames still decode reduced.
        ([(70, 40), (130, 66),
          (520, 260)], [(cv2.IMREAD_COLOR, (70, 40)),
                        (cv2.IMREAD_REDUCED_COLOR_2, (65, 33)),
                        (cv2.IMREAD_REDUCED_COLOR_8, (65, 33))]),
    ])
def test_reduced_decode_per_frame(tmp_path, monkeypatch, sizes, expected):
    paths = []
    for i, (h, w) in enumerate(sizes):
        img = np.full((h, w, 3), 40 * i, np.uint8)
        paths.append(str(tmp_path / f'{i}.jpg'))
        cv2.imwrite(paths[-1], img)
    decoded = recording_decoder(monkeypatch)
    out = build(scale=(32, 64))(
        dict(frame_paths=paths, frame_inds=np.arange(len(paths))))
    assert decoded == expected
    assert all(h >= 64 and w >= 32 for _, (h, w) in decoded)
    assert out['imgs'].shape == (len(sizes), 64, 32, 3)
    assert out['ori_shape'] == sizes[0]
    np.testing.assert_allclose(
        out['imgs'].mean(axis=(1, 2, 3)), 40 * np.arange(len(sizes)), atol=3)


def test_jpeg_size(tmp_path):
    img = np.zeros((37, 21, 3), np.uint8)
    jpeg = cv2.imencode('.jpg', img)[1].tobytes()
    progressive = cv2.imencode('.jpg', img,
                               [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    assert loading.jpeg_size(jpeg) == (37, 21)
    assert loading.jpeg_size(progressive) == (37, 21)
    # Not a JPEG, truncated before the size, or EXIF (may rotate): unknown.
    assert loading.jpeg_size(cv2.imencode('.png', img)[1].tobytes()) is None
    assert loading.jpeg_size(jpeg[:40]) is None
    assert loading.jpeg_size(b'\xff\xd8\xff') is None
    exif = b'\xff\xd8\xff\xe1\x00\x08Exif\x00\x00' + jpeg[2:]
    assert loading.jpeg_size(exif) is None


def test_png_and_exif_frames_decode_at_full_size(tmp_path, monkeypatch):
    img = np.full((256, 128, 3), 90, np.uint8)
    png = tmp_path / 'a.png'
    cv2.imwrite(str(png), img)
    jpeg = cv2.imencode('.jpg', img)[1].tobytes()
    exif = tmp_path / 'b.jpg'
    exif.write_bytes(b'\xff\xd8\xff\xe1\x00\x08Exif\x00\x00' + jpeg[2:])
    decoded = recording_decoder(monkeypatch)
    out = build(scale=(32, 64))(
        dict(frame_paths=[str(png), str(exif)], frame_inds=[0, 1]))
    assert decoded == [(cv2.IMREAD_COLOR, (256, 128))] * 2
    assert out['imgs'].shape == (2, 64, 32, 3)
    assert out['ori_shape'] == (256, 128)


def test_mixed_sizes(tmp_path):
    paths = write_frames(tmp_path, COLORS[:1], size=(64, 32))
    paths += [str(tmp_path / 'big.jpg')]
    cv2.imwrite(paths[-1], np.zeros((40, 20, 3), np.uint8))
    results = dict(frame_paths=paths, frame_inds=np.array([0, 1]))
    with pytest.raises(ValueError, match='big.jpg has size'):
        build()(dict(results))
    out = build(scale=(16, 32))(dict(results))
    assert out['imgs'].shape == (2, 32, 16, 3)


def test_errors_name_the_file(tmp_path):
    paths = write_frames(tmp_path, COLORS[:2])
    missing = str(tmp_path / 'missing.jpg')
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    text = tmp_path / 'text.jpg'
    text.write_text('not an image')
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(b'\xff\xd8\xff' + bytes(50))
    cases = [(missing, FileNotFoundError, 'not found: .*missing.jpg'),
             (str(empty), OSError, r'empty \(0 bytes\): .*empty.jpg'),
             (str(text), OSError, 'cannot be decoded.*text.jpg'),
             (str(corrupt), OSError, 'cannot be decoded.*corrupt.jpg')]
    for bad, error, pattern in cases:
        for inds in ([0, 1], [1, 0]):  # bad frame first or later
            with pytest.raises(error, match=pattern):
                build()(dict(frame_paths=[paths[0], bad], frame_inds=inds))
    with pytest.raises(IndexError, match=r"'t1'.*\[0, 2\)"):
        build()(dict(frame_paths=paths, frame_inds=[0, 2], tracklet_id='t1'))


def test_args_and_repr():
    assert repr(build(
        scale=(128,
               256))) == ('LoadFrames(scale=(128, 256), reduced_decode=True, '
                          "interpolation='bilinear')")
    assert repr(build()) == ('LoadFrames(scale=None, reduced_decode=True, '
                             "interpolation='bilinear')")
    with pytest.raises(ValueError, match='scale must be'):
        build(scale=(128, ))
    with pytest.raises(ValueError, match='scale must be'):
        build(scale=(128.0, 256))
    with pytest.raises(ValueError, match='interpolation must be'):
        build(interpolation='linear')

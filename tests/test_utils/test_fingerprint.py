# Copyright (c) mmreid_video contributors. All rights reserved.
import numpy as np
from mmengine.config import ConfigDict

from mmreid_video.utils.fingerprint import (FINGERPRINT_HEX, file_fingerprint,
                                            fingerprint)


def test_fingerprint_ignores_key_order_and_sees_values():
    a = fingerprint(dict(k1=20, lam=0.3, nested=dict(x=[1, 2], y='s')))
    b = fingerprint(dict(nested=dict(y='s', x=[1, 2]), lam=0.3, k1=20))
    assert a == b and len(a) == FINGERPRINT_HEX
    assert fingerprint(dict(k1=20, lam=0.31)) != fingerprint(
        dict(k1=20, lam=0.3))
    # A config and the same plain dict agree; numpy values are plain data.
    assert fingerprint(ConfigDict(a=1, b=dict(c=2))) == fingerprint(
        dict(b=dict(c=2), a=1))
    assert fingerprint(np.arange(3)) == fingerprint([0, 1, 2])
    assert fingerprint(float('nan')) == fingerprint(float('nan'))
    assert fingerprint(1) != fingerprint('1')


def test_file_fingerprint(tmp_path):
    (tmp_path / 'a').write_bytes(b'x' * 3_000_000)
    (tmp_path / 'b').write_bytes(b'x' * 3_000_000)
    (tmp_path / 'c').write_bytes(b'x' * 2_999_999 + b'y')
    assert file_fingerprint(tmp_path / 'a') == file_fingerprint(tmp_path / 'b')
    assert file_fingerprint(tmp_path / 'a') != file_fingerprint(tmp_path / 'c')

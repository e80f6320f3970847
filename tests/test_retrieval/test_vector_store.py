# Copyright (c) mmreid_video contributors. All rights reserved.
"""VectorStore: rows as parts (memory, memory maps, a temporary file), read
by row number or block, never copied into one another."""
import os

import numpy as np

from mmreid_video.retrieval._vector_store import VectorStore


def _rows(start, num, dim=3):
    return np.arange(
        start * dim, (start + num) * dim, dtype=np.float32).reshape(num, dim)


def test_parts_take_and_blocks(tmp_path):
    path = tmp_path / 'base.f32'
    _rows(0, 4).tofile(path)
    base = np.memmap(path, np.float32, 'r', shape=(4, 3))
    for on_disk in (False, True):
        store = VectorStore(3, on_disk, str(tmp_path), parts=[base])
        store.append(_rows(4, 2))
        store.append(_rows(6, 3))
        assert len(store) == 9 and store.nbytes == 9 * 3 * 4
        parts = store.parts
        # The loaded map stays a part; appended rows are one more part.
        assert parts[0] is base and len(parts) == 2
        assert isinstance(parts[1], np.memmap) == on_disk
        np.testing.assert_array_equal(np.concatenate(parts), _rows(0, 9))
        rows = np.array([8, 0, 5, 3, 3])
        np.testing.assert_array_equal(store.take(rows), _rows(0, 9)[rows])
        blocks = list(store.blocks(3))
        assert [start for start, _ in blocks] == [0, 3, 4, 7]
        np.testing.assert_array_equal(
            np.concatenate([b for _, b in blocks]), _rows(0, 9))
    # The temporary file is unlinked at once: nothing is left behind.
    assert sorted(os.listdir(tmp_path)) == ['base.f32']


def test_in_memory_store_joins_small_additions():
    store = VectorStore(3, False)
    for i in range(5):
        store.append(_rows(i, 1))
    assert len(store.parts) == 1
    np.testing.assert_array_equal(store.joined(), _rows(0, 5))

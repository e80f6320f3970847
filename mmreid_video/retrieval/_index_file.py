# Copyright (c) mmreid_video contributors. All rights reserved.
"""The single-file format of a saved :class:`GalleryIndex`.

Layout: a 32-byte header (magic, format version, offset, length and CRC-32
of a JSON table), then page-aligned sections (raw arrays or bytes, each with
its CRC-32), then the JSON table, which names every section with its
offset, size, dtype and shape. Descriptors are a raw float32 section, so a
loaded index can memory-map them in place. The file is written next to its
destination and renamed over it only when complete.

A memory-mapped file that another process rewrites in place (``cp`` over
it) would hand the loaded index the new bytes as its descriptors, or kill
the process (SIGBUS) where it became shorter: :meth:`IndexFile.check_unchanged`
(called before every read of the mapped descriptors) refuses, naming the
file. A file replaced by a rename (as :func:`write_index_file` does) is
harmless: the mapping keeps the old, complete file.
"""
import json
import mmap
import os
import struct
import time
import zlib
from typing import BinaryIO, Dict, Iterable, Iterator, List, Tuple, Union

import numpy as np

from mmreid_video.fileio import atomic_write, check_regular_file

MAGIC = b'MMRVGIDX'
VERSION = 1
_HEADER = struct.Struct('<8sIQQI')  # magic, version, table offset/len/crc
_ALIGN = 4096
_IO_BLOCK = 1 << 24
# bytes, an array, or arrays of one dtype and row shape written as one
# array (their rows concatenated, e.g. the parts of a merged index).
Section = Union[bytes, np.ndarray, List[np.ndarray]]


class IndexFileError(ValueError):
    """A gallery index file is truncated, corrupt or of another kind."""


def _blocks(data: np.ndarray) -> Iterator[bytes]:
    """The bytes of an array, a block at a time.

    Pages of a memory-mapped file that were read are released after each
    block: they would otherwise stay in this process's resident memory
    (copying a merged gallery's shards would hold them all).
    """
    mapped = data.base if isinstance(data, np.memmap) and isinstance(
        data.base, mmap.mmap) and hasattr(mmap, 'MADV_DONTNEED') else None
    rows = max(1, _IO_BLOCK // max(data[:1].nbytes, 1))
    for start in range(0, len(data), rows):
        yield np.ascontiguousarray(data[start:start + rows]).tobytes()
        if mapped is not None:
            mapped.madvise(mmap.MADV_DONTNEED)


def _write_section(f: BinaryIO, data: Section) -> dict:
    """Write bytes or arrays; return the section's table entry (without
    its offset)."""
    if isinstance(data, bytes):
        f.write(data)
        return dict(nbytes=len(data), crc32=zlib.crc32(data))
    parts = [data] if isinstance(data, np.ndarray) else list(data)
    crc = nbytes = 0
    for part in parts:
        for block in _blocks(part):
            f.write(block)
            crc = zlib.crc32(block, crc)
            nbytes += len(block)
    shape = (sum(len(p) for p in parts), *parts[0].shape[1:])
    return dict(
        nbytes=nbytes, crc32=crc, dtype=parts[0].dtype.str, shape=shape)


def write_index_file(path: str, meta: dict,
                     sections: Iterable[Tuple[str, Section]]) -> None:
    """Write meta data and sections to ``path`` atomically.

    Args:
        path (str): Destination; missing folders are created.
        meta (dict): JSON-serialisable description of the index.
        sections (Iterable[tuple[str, Section]]): Named payloads: bytes, an
            array, or a list of arrays (one dtype) stored as one array.
    """
    table = dict(meta=meta, sections={})

    def write(f: BinaryIO) -> None:
        f.write(b'\0' * _HEADER.size)
        for name, data in sections:
            f.write(b'\0' * (-f.tell() % _ALIGN))
            offset = f.tell()
            table['sections'][name] = dict(
                offset=offset, **_write_section(f, data))
        blob = json.dumps(table).encode()
        table_offset = f.tell()
        f.write(blob)
        f.seek(0)
        f.write(
            _HEADER.pack(MAGIC, VERSION, table_offset, len(blob),
                         zlib.crc32(blob)))

    atomic_write(write, path)


class IndexFile:
    """A checked, read-only view of a saved index file.

    The file is opened once: every section is read from that one file (a
    rename over the path meanwhile does not mix two files), and memory maps
    stay valid after :meth:`close`.

    Args:
        path (str): The file.
        verify (bool): Check the CRC-32 of every section (reads the whole
            file once). Defaults to True.
    """

    def __init__(self, path: str, verify: bool = True) -> None:
        self.path = str(path)
        check_regular_file(self.path)
        self._f = open(self.path, 'rb')
        try:
            self._stat = os.fstat(self._f.fileno())
            self._read_table(verify)
        except BaseException:
            self.close()
            raise

    def _read_table(self, verify: bool) -> None:
        f, size = self._f, self._stat.st_size
        head = f.read(_HEADER.size)
        if len(head) < _HEADER.size:
            self._fail(f'truncated: {size} bytes, shorter than the '
                       f'{_HEADER.size}-byte header')
        magic, version, offset, length, crc = _HEADER.unpack(head)
        if magic != MAGIC:
            self._fail(f'not a GalleryIndex file (magic {magic!r}, '
                       f'expected {MAGIC!r})')
        if version != VERSION:
            self._fail(f'format version {version}, this code reads '
                       f'{VERSION}')
        if offset + length > size:
            self._fail(f'truncated: {size} bytes, the section table '
                       f'ends at byte {offset + length}')
        f.seek(offset)
        blob = f.read(length)
        if zlib.crc32(blob) != crc:
            self._fail('corrupt: the section table fails its CRC-32')
        table = json.loads(blob)
        self.meta: dict = table['meta']
        self.sections: Dict[str, dict] = table['sections']
        for name, sec in self.sections.items():
            if sec['offset'] + sec['nbytes'] > offset:
                self._fail(f'section {name!r} overlaps the table')
            if verify and self._crc(f, sec) != sec['crc32']:
                self._fail(f'corrupt: section {name!r} fails its CRC-32')

    def close(self) -> None:
        """Close the file (memory maps made from it stay valid)."""
        self._f.close()

    def _fail(self, msg: str) -> None:
        raise IndexFileError(f'{self.path}: {msg}')

    def check_unchanged(self) -> None:
        """Raise if the file was changed in place since it was opened.

        A path that now names another file (replaced by a rename) or none
        passes: what was opened, and is mapped, is intact. One ``stat``.

        Raises:
            IndexFileError: The opened file has another size, modification
                or change time; the message names it.
        """
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return
        was = self._stat
        if (now.st_ino, now.st_dev) != (was.st_ino, was.st_dev):
            return
        if (now.st_size, now.st_mtime_ns, now.st_ctime_ns) != (
                was.st_size, was.st_mtime_ns, was.st_ctime_ns):
            changed = time.strftime('%Y-%m-%d %H:%M:%S',
                                    time.localtime(now.st_mtime))
            self._fail(
                f'changed on disk since it was loaded ({was.st_size} -> '
                f'{now.st_size} bytes, modified {changed}): the loaded '
                'index reads its descriptors from the file and would read '
                'the new bytes. Load it again; replace index files by '
                'writing a new file and renaming it over the old one (as '
                'GalleryIndex.save does), not by copying over it in place')

    @staticmethod
    def _crc(f: BinaryIO, sec: dict) -> int:
        f.seek(sec['offset'])
        crc, left = 0, sec['nbytes']
        while left:
            block = f.read(min(left, _IO_BLOCK))
            if not block:
                break
            crc, left = zlib.crc32(block, crc), left - len(block)
        return crc

    def _section(self, name: str) -> dict:
        if name not in self.sections:
            self._fail(f'has no section {name!r} (has '
                       f'{sorted(self.sections)})')
        return self.sections[name]

    def read_bytes(self, name: str) -> bytes:
        """The payload of a bytes section."""
        sec = self._section(name)
        self._f.seek(sec['offset'])
        return self._f.read(sec['nbytes'])

    def array(self,
              name: str,
              shape: Tuple[int, ...],
              dtype: str,
              mmap: bool = False) -> np.ndarray:
        """An array section, checked against the expected shape and dtype.

        Args:
            name (str): Section name.
            shape (tuple[int]): Expected shape.
            dtype (str): Expected numpy dtype string, e.g. ``'<f4'``.
            mmap (bool): Memory-map instead of reading (guard reads with
                :meth:`check_unchanged`). Defaults to False.

        Returns:
            np.ndarray: The array (read-only when memory-mapped).
        """
        sec = self._section(name)
        if tuple(sec.get('shape', ())) != tuple(shape) or \
                sec.get('dtype') != np.dtype(dtype).str:
            self._fail(f'section {name!r} is {sec.get("dtype")} '
                       f'{sec.get("shape")}, expected '
                       f'{np.dtype(dtype).str} {list(shape)}')
        if mmap and sec['nbytes']:
            return np.memmap(
                self._f, dtype, 'r', offset=sec['offset'], shape=shape)
        self._f.seek(sec['offset'])
        return np.fromfile(
            self._f, dtype, count=int(np.prod(shape))).reshape(shape)

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Read the fenced code blocks of the documentation pages.

A page's ``bash``/``shell``/``python`` blocks are commands and snippets a
reader copies. Each one either runs in :mod:`test_doc_blocks` or says on its
first line what it needs that a test machine does not have, as a comment
``# needs: <what>`` (e.g. ``# needs: the MARS data``), which the reader
sees too.
"""
import glob
import os.path as osp
import re
from typing import List, NamedTuple, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RUNNABLE_LANGS = ('bash', 'shell', 'sh', 'python')
# Blocks that are not run: outputs and trees (none or text), data formats.
TEXT_LANGS = ('', 'text', 'json', 'bibtex')
NEEDS = re.compile(r'^#\s*needs:\s*(.+)$')
FENCE = re.compile(r'^(\s*)```(\S*)\s*$')


class DocBlock(NamedTuple):
    """One fenced block of a markdown page."""
    page: str  # path relative to the repository root
    line: int  # 1-based line of the opening fence
    lang: str
    code: str

    @property
    def needs(self) -> Optional[str]:
        """What the block declares it needs, or None if it must run."""
        first = self.code.lstrip().splitlines()[0] if self.code.strip() \
            else ''
        match = NEEDS.match(first.strip())
        return match.group(1) if match else None

    @property
    def name(self) -> str:
        return f'{self.page}:{self.line}'


def doc_pages() -> List[str]:
    """Every markdown page a user reads, relative to the repository."""
    patterns = ('README.md', 'docs/*.md', 'configs/*/README.md',
                'projects/*/README.md')
    pages = []
    for pattern in patterns:
        pages += sorted(glob.glob(osp.join(REPO, pattern)))
    return [osp.relpath(p, REPO) for p in pages]


def read_blocks(page: str) -> List[DocBlock]:
    """The fenced blocks of one page, in order.

    Args:
        page (str): Path relative to the repository root.

    Returns:
        list[DocBlock]: Every block; unterminated fences raise.
    """
    with open(osp.join(REPO, page), encoding='utf-8') as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, lang, start = match.group(1), match.group(2), i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != '```':
            line = lines[i]
            body.append(
                line[len(indent):] if line.startswith(indent) else line)
            i += 1
        if i == len(lines):
            raise ValueError(f'{page}:{start + 1}: unterminated code fence')
        blocks.append(DocBlock(page, start + 1, lang, '\n'.join(body) + '\n'))
        i += 1
    return blocks


def runnable_blocks() -> List[DocBlock]:
    """Blocks in a runnable language without a ``# needs:`` line."""
    return [
        b for page in doc_pages() for b in read_blocks(page)
        if b.lang in RUNNABLE_LANGS and b.needs is None
    ]

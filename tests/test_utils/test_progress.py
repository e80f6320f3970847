# Copyright (c) mmreid_video contributors. All rights reserved.
"""utils.Progress: one line rewritten in a terminal, whole lines in a log
file (a log once got one line of 20k characters)."""
import io
from unittest import mock

from mmreid_video.utils import Progress


class Terminal(io.StringIO):

    def isatty(self) -> bool:
        return True


def test_log_file_gets_whole_lines_at_intervals():
    log = io.StringIO()
    clock = iter([0.0, 1.0, 40.0, 42.0])
    with mock.patch('time.perf_counter', lambda: next(clock)):
        progress = Progress(30, 'tracklets', stream=log, interval_s=30)
        for _ in range(3):
            progress(10)  # at 1 s (not due), 40 s (due), 42 s (the end)
        progress.close()
    lines = log.getvalue().split('\n')
    assert '\r' not in log.getvalue()
    assert lines == [
        '[20/30] 0.5 tracklets/s, elapsed 40s, ETA 20s',
        '[30/30] 0.7 tracklets/s, elapsed 42s, ETA 0s', ''
    ]


def test_terminal_line_is_rewritten_then_ended():
    tty = Terminal()
    progress = Progress(4, stream=tty)
    progress(2)
    progress(2)
    progress.close()
    out = tty.getvalue()
    assert out.count('\r') == 2 and out.endswith('\n')
    assert out.split('\r')[2].startswith('[4/4] ')
    hidden = Terminal()
    Progress(4, show=False, stream=hidden)(4)
    assert hidden.getvalue() == ''

# Copyright (c) mmreid_video contributors. All rights reserved.
"""One training per work_dir: a second one is refused with the holder's
name; a killed holder leaves no stale lock."""
import os
import signal
import socket
import time

import pytest
from tool_runner import start_lock_holder

from mmreid_video.utils import lock_work_dir


# A holder process, as a running training.
@pytest.mark.slow
def test_second_training_is_refused_then_lock_is_freed_by_kill(
        tmp_path, capsys):
    work_dir = tmp_path / 'run'
    proc = start_lock_holder(work_dir)
    # A save of the holder in progress, and files that are no temp files.
    partial = work_dir / '.epoch_3.pth.0123456789ab.tmp'
    others = ['epoch_2.pth', '.notes.tmp', 'last_checkpoint']
    for name in [partial.name] + others:
        (work_dir / name).write_bytes(b'x')
    try:
        with pytest.raises(RuntimeError) as info:
            lock_work_dir(str(work_dir))
        msg = str(info.value)
        assert f'work_dir {work_dir} is in use by another training' in msg
        assert f'pid: {proc.pid}' in msg
        assert f'host: {socket.gethostname()}' in msg
        assert 'command: -c' in msg and str(work_dir) in msg
        assert partial.exists()  # refused: the holder's files untouched
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    start = time.monotonic()
    assert lock_work_dir(str(work_dir)) == str(work_dir / '.train.lock')
    assert time.monotonic() - start < 5  # dead holder: free at once
    # The killed run's partial save is removed (and said), nothing else.
    assert sorted(os.listdir(work_dir)) == sorted(others + ['.train.lock'])
    assert f'Removed {partial}: a partial file' in capsys.readouterr().err
    with open(work_dir / '.train.lock') as f:
        assert f'pid: {os.getpid()}' in f.read()
    # The same process may ask again.
    assert lock_work_dir(str(work_dir)) == str(work_dir / '.train.lock')

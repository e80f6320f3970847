"""setup_checkpoint_io installs the process-wide settings, idempotently."""
from mmengine.fileio import get_file_backend
from mmengine.runner import CheckpointLoader

from mmreid_video.checkpoint import (AtomicLocalBackend, load_from_local,
                                     setup_checkpoint_io)


def test_import_installs_and_repeating_changes_nothing(tmp_path):
    # Done by `import mmreid_video`; calling again is harmless.
    for _ in range(2):
        setup_checkpoint_io()
        assert CheckpointLoader._get_checkpoint_loader(
            str(tmp_path / 'x.pth')) is load_from_local
        assert isinstance(
            get_file_backend(
                str(tmp_path), backend_args=dict(backend='atomic_local')),
            AtomicLocalBackend)
    assert list(CheckpointLoader._schemes).count('') == 1

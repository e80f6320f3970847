from mmreid_video.checkpoint import find_resume_checkpoint


def _touch(path):
    path.write_bytes(b'x')
    return str(path)


def test_last_checkpoint_is_followed(tmp_path):
    _touch(tmp_path / 'epoch_3.pth')
    named = _touch(tmp_path / 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(named)
    assert find_resume_checkpoint(str(tmp_path)) == named


def test_unusable_pointer_falls_back_to_newest_epoch(tmp_path):
    _touch(tmp_path / 'epoch_2.pth')
    newest = _touch(tmp_path / 'epoch_10.pth')
    _touch(tmp_path / 'best_reid_mAP_epoch_11.pth')
    # An interrupted pointer write leaves an empty file.
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(str(tmp_path)) == newest
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == newest


def test_nothing_to_resume(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) is None

# Copyright (c) mmreid_video contributors. All rights reserved.
"""A training writes only into a work_dir without another run's
checkpoints (issue 23)."""
import pytest

from mmreid_video.checkpoint import claim_work_dir, run_files


def _old_run(work_dir):
    work_dir.mkdir()
    for name in ('epoch_2.pth', 'best_reid_mAP_epoch_2.pth'):
        (work_dir / name).write_bytes(b'weights')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))
    (work_dir / 'baseline.py').write_text('config copy')  # not a checkpoint
    return work_dir


def test_run_files_lists_only_checkpoints(tmp_path):
    assert run_files(str(tmp_path / 'missing')) == []
    assert run_files(str(_old_run(tmp_path / '[1]'))) == [
        'best_reid_mAP_epoch_2.pth', 'epoch_2.pth', 'last_checkpoint'
    ]


def test_new_run_refuses_another_runs_checkpoints(tmp_path):
    work = _old_run(tmp_path / 'w')
    with pytest.raises(FileExistsError) as info:
        claim_work_dir(str(work))
    msg = str(info.value)
    assert 'best_reid_mAP_epoch_2.pth, epoch_2.pth, last_checkpoint' in msg
    for way in ('--resume', '--work-dir', '--overwrite'):
        assert way in msg
    assert run_files(str(work))  # nothing removed
    assert claim_work_dir(str(tmp_path / 'fresh')) == []


def test_resume_from_the_work_dir_continues_its_run(tmp_path):
    work = _old_run(tmp_path / 'w')
    assert claim_work_dir(str(work), str(work / 'epoch_2.pth')) == []
    with pytest.raises(ValueError, match='--overwrite deletes .*epoch_2.pth'):
        claim_work_dir(str(work), str(work / 'epoch_2.pth'), overwrite=True)


def test_resume_from_elsewhere_into_another_run_is_refused(tmp_path):
    work, other = _old_run(tmp_path / 'w'), _old_run(tmp_path / 'o')
    with pytest.raises(FileExistsError, match='a checkpoint of another'):
        claim_work_dir(str(work), str(other / 'epoch_2.pth'))


def test_overwrite_removes_only_the_old_checkpoints(tmp_path):
    work = _old_run(tmp_path / 'w')
    removed = claim_work_dir(str(work), overwrite=True)
    assert sorted(removed) == [
        str(work / n) for n in ('best_reid_mAP_epoch_2.pth', 'epoch_2.pth',
                                'last_checkpoint')
    ]
    assert sorted(p.name for p in work.iterdir()) == ['baseline.py']

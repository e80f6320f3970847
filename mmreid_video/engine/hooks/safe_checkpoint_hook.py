# Copyright (c) mmreid_video contributors. All rights reserved.
"""MMEngine's CheckpointHook without its ways to lose or mix up weights.

- MMEngine removes the previous ``best_*.pth`` *before* writing the new one,
  so a kill in between leaves no best checkpoint. Here the new one is written
  first and the old one removed after.
- A resumed run whose recorded best checkpoint is gone (or lies in another
  work_dir) would never write one again until the old best score is beaten;
  here the next validation writes one.
- Loading (``load_from``, ``tools/test.py``, ``--resume``) refuses weights of
  another model (also of another architecture with the same weight names and
  shapes: every checkpoint carries its model's architecture and fingerprint
  in ``meta``), resuming from a file without a training state, and resuming
  with a config that alters the run (see :mod:`mmreid_video.checkpoint`).
- An epoch's checkpoint is written before the validation that follows the
  epoch, so a run killed in between and resumed from it would skip that
  validation (and its best checkpoint) for good: when the resumed epoch is
  one that validation follows, that validation runs before training goes
  on.
- Unknown arguments fail when the hook is built: MMEngine passes them to
  ``Runner.save_checkpoint`` at the first save, after a whole epoch.
- MMEngine 0.10 builds its deprecated ``FileClient`` on every save (even with
  ``backend_args``), which logs a deprecation notice each time; the notice
  is dropped while this hook saves, and nowhere else.
"""
import logging
import os.path as osp
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Set

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from mmreid_video.checkpoint import (PARTIAL_LOAD_KEY, architecture_meta,
                                     check_resumable, check_same_run,
                                     check_weights_match, saved_config)
from mmreid_video.checkpoint.saved_config import describe_changes
from mmreid_video.registry import HOOKS
from mmreid_video.utils.config_check import (accepted_arguments,
                                             unknown_argument)

# Notices MMEngine logs when its own code builds a FileClient.
_FILE_CLIENT_NOTICES = ('"FileClient" will be deprecated',
                        '"HardDiskBackend" is the alias of "LocalBackend"')


class _DropFileClientNotices(logging.Filter):
    """Drop MMEngine's FileClient deprecation notices."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_FILE_CLIENT_NOTICES)


@contextmanager
def _no_file_client_notices() -> Iterator[None]:
    """Within the block, the current MMLogger drops those notices."""
    logger = MMLogger.get_current_instance()
    notice_filter = _DropFileClientNotices()
    logger.addFilter(notice_filter)
    try:
        yield
    finally:
        logger.removeFilter(notice_filter)


class _KeepPaths:
    """A file backend proxy whose ``remove``/``rmtree`` of given paths are
    recorded instead of done."""

    def __init__(self, backend, keep: Set[str]) -> None:
        self._backend = backend
        self._keep = keep
        self.deferred = []

    def remove(self, path: str) -> None:
        self._defer_or_do(self._backend.remove, path)

    def rmtree(self, path: str) -> None:
        self._defer_or_do(self._backend.rmtree, path)

    def _defer_or_do(self, action, path: str) -> None:
        if path in self._keep:
            self.deferred.append((action, path))
        else:
            action(path)

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` that never loses a checkpoint
    and never loads a mismatching one.

    Takes exactly the arguments of ``CheckpointHook``. Loading checks read
    the config key ``allow_partial_load`` (default False): when True, a
    checkpoint whose weights do not fit the model is loaded where it fits,
    with a warning, instead of being refused.
    """

    def __init__(self, *args, **kwargs) -> None:
        known = accepted_arguments(CheckpointHook)
        unknown = [
            unknown_argument(key, known) for key in kwargs if key not in known
        ]
        if unknown:
            raise TypeError(
                f'{type(self).__name__} (default_hooks.checkpoint) got '
                f'unknown arguments {", ".join(unknown)}; it takes '
                f'{", ".join(known)}.')
        super().__init__(*args, **kwargs)
        self._resumed_epoch = None

    def _best_paths(self) -> Dict[str, Optional[str]]:
        """Key indicator -> recorded best checkpoint path."""
        if len(self.key_indicators) == 1:
            return {self.key_indicators[0]: self.best_ckpt_path}
        return dict(self.best_ckpt_path_dict)

    def _set_best_path(self, key: str, path: Optional[str]) -> None:
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = path
        else:
            self.best_ckpt_path_dict[key] = path

    def before_train(self, runner) -> None:
        """Set up as MMEngine does, forget recorded best checkpoints that are
        missing or belong to another work_dir (so that the next validation
        writes one here), then run the validation a resume would skip."""
        with _no_file_client_notices():
            super().before_train(runner)
        if self.save_best is not None:
            self._forget_lost_best(runner)
        self._validate_resumed_epoch(runner)

    def _forget_lost_best(self, runner) -> None:
        """Forget best checkpoints that are missing or of another folder."""
        single = len(self.key_indicators) == 1
        for key, path in self._best_paths().items():
            if path is None or (self.file_backend.exists(path)
                                and osp.realpath(osp.dirname(path))
                                == osp.realpath(self.out_dir)):
                continue
            suffix = '' if single else f'_{key}'
            hub = runner.message_hub
            hub.runtime_info.pop(f'best_score{suffix}', None)
            hub.runtime_info.pop(f'best_ckpt{suffix}', None)
            self._set_best_path(key, None)
            runner.logger.warning(
                f'The best checkpoint recorded for {key}, {path}, is missing '
                f'or outside {self.out_dir}; its score is forgotten and the '
                'next validation writes a new best checkpoint.')

    def _validate_resumed_epoch(self, runner) -> None:
        """Run the validation that follows the resumed epoch.

        The checkpoint of epoch N is written before the validation after
        epoch N, so whether that validation ran is unknown; running it again
        on the same weights gives the same metrics and best checkpoint.
        """
        epoch, self._resumed_epoch = self._resumed_epoch, None
        if epoch is None or runner.val_loop is None:
            return
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            return
        # The interval the loop applies after epoch N (dynamic intervals).
        loop._decide_current_val_interval()
        if epoch < loop.val_begin or (epoch % loop.val_interval
                                      and epoch != loop.max_epochs):
            return
        runner.logger.info(
            f'Resumed at the end of epoch {epoch}, whose checkpoint is '
            'written before the validation that follows it: running that '
            'validation now.')
        runner.val_loop.run()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the model's architecture and its fingerprint in ``meta``,
        for the checks of later loads."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        checkpoint.setdefault('meta', {}).update(
            architecture_meta(getattr(model, 'build_cfg', None)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """Write a new best checkpoint, then remove the one it replaces."""
        previous = {p for p in self._best_paths().values() if p}
        backend = self.file_backend
        proxy = _KeepPaths(backend, previous)
        self.file_backend = proxy
        try:
            with _no_file_client_notices():
                super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        current = set(self._best_paths().values())
        for action, path in proxy.deferred:
            if path not in current and is_main_process():
                action(path)
                runner.logger.info(
                    f'Removed {path} after its successor was written.')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save as MMEngine does, without its FileClient notice, and name
        ``last_checkpoint`` when writing it fails (e.g. a full disk)."""
        try:
            with _no_file_client_notices():
                super()._save_checkpoint_with_step(runner, step, meta)
        except OSError as err:
            # The checkpoint itself is named by the atomic backend; an
            # error without a file name comes from MMEngine's plain write
            # of the pointer file.
            if err.filename is not None or 'while writing' in str(err):
                raise
            pointer = osp.join(runner.work_dir, 'last_checkpoint')
            raise OSError(
                err.errno, f'{err.strerror} while writing {pointer} after '
                f'saving {self.last_ckpt}; --resume falls back to the newest '
                'epoch_N.pth') from err

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse another model's weights, resuming without a training state
        and resuming with a config that alters the run; log what a resume
        restores and the harmless config changes.

        Called by the Runner after reading a checkpoint and before putting it
        into the model.
        """
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        # The Runner loads ``load_from`` (tools/train.py puts the --resume
        # checkpoint there too) and does not pass the name to hooks.
        filename = str(runner.cfg.get('load_from'))
        resuming = runner.cfg.get('resume', False)
        if resuming:
            saved = saved_config(checkpoint)
            if saved is None:
                runner.logger.warning(
                    f'--resume: {filename} records no config (meta.cfg), so '
                    'whether this config alters its run is not checked.')
            harmless = check_same_run(saved, runner.cfg, filename)
            if harmless:
                runner.logger.info(
                    '--resume: config changes that do not alter the run: ' +
                    describe_changes(harmless, len(harmless)) + '.')
        check_weights_match(
            model,
            checkpoint,
            filename,
            allow_partial=runner.cfg.get(PARTIAL_LOAD_KEY, False),
            logger=runner.logger)
        if resuming:
            restored = check_resumable(
                checkpoint,
                filename,
                needs_schedulers=bool(runner.param_schedulers))
            runner.logger.info(f'Resuming from {filename}: restoring ' +
                               ', '.join(restored) + '.')
            self._resumed_epoch = checkpoint['meta']['epoch']

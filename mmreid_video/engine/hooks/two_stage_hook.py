# Copyright (c) mmreid_video contributors. All rights reserved.
"""Switch DenseIL from encoder (stage 1) to decoder (stage 2) training."""
import inspect
import warnings
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from mmreid_video.engine.schedulers import StagedMultiStepLR
from mmreid_video.registry import HOOKS, MODELS


@HOOKS.register_module()
class TwoStageTrainingHook(Hook):
    """Run DenseIL's two training stages in one epoch-based schedule.

    Epochs ``[0, stage1_epochs)`` train the encoder branch (stage 1), later
    epochs the DI decoder on the frozen encoder (stage 2). The stage is
    derived from ``runner.epoch`` in ``before_train_epoch``, so ``--resume``
    from any checkpoint, also across the switch, continues exactly.

    Learning rate: at the end of the last stage-1 iteration, before the
    schedulers step, every param group's lr is reset to its ``initial_lr``,
    so the schedulers with ``begin=stage1_epochs`` (e.g. a warm-up) shape
    stage 2 from the base lr instead of from stage 1's decayed lr. The reset
    is part of the optimizer state saved afterwards, hence resumable.

    Optimizer: all parameters stay in the one optimizer (its param groups
    and state dict therefore match at every resume); frozen parameters get
    no gradient (``requires_grad=False``), and Adam/SGD skip parameters
    whose ``grad`` is None, so they are neither updated nor decayed.

    With ``model.encoder_checkpoint`` set, a fresh run skips stage 1: the
    loop's epoch/iteration counters and every param scheduler are advanced
    by ``stage1_epochs`` epochs as if stage 1 had run (lr reset included).

    Stage length: given as ``stage1_epochs``, or (None) read in
    ``before_train`` from the first of the two stages of the run's
    :class:`StagedMultiStepLR` (``param_scheduler.stages``), so the stage
    switch and the lr schedule take the length from one config entry.

    Args:
        stage1_epochs (int, optional): Number of stage-1 epochs. Defaults to
            None (from ``param_scheduler.stages``).
        reset_lr (bool): Reset the lr to ``initial_lr`` at the switch.
            Defaults to True.
    """

    # Before IterTimerHook ('NORMAL') records the start iteration (for the
    # ETA after skipping stage 1) and before ParamSchedulerHook ('LOW')
    # steps the lr after the reset.
    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 stage1_epochs: Optional[int] = None,
                 reset_lr: bool = True) -> None:
        if stage1_epochs is not None and stage1_epochs < 0:
            raise ValueError('TwoStageTrainingHook: stage1_epochs must be '
                             f'>= 0, got {stage1_epochs}.')
        self.stage1_epochs = stage1_epochs
        self.reset_lr = reset_lr

    @staticmethod
    def _model(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'set_train_stage'):
            raise TypeError('TwoStageTrainingHook needs a two-stage model '
                            f'(e.g. DenseIL), got {type(model).__name__}.')
        return model

    def _active(self, runner) -> bool:
        return self._model(runner).two_stage

    def before_train(self, runner) -> None:
        """Check the loop and skip stage 1 given an encoder checkpoint."""
        model = self._model(runner)
        if not model.two_stage:
            runner.logger.info('TwoStageTrainingHook: two_stage=False, '
                               'training end to end; the hook is idle.')
            return
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            raise TypeError('TwoStageTrainingHook needs an epoch-based '
                            'train loop (train_cfg.by_epoch=True).')
        if self.stage1_epochs is None:
            self.stage1_epochs = self._staged_stage1_epochs(runner)
        if not 0 < self.stage1_epochs < loop.max_epochs or (
                model.encoder_checkpoint is not None
                and self.stage1_epochs == 0):
            raise ValueError(
                f'TwoStageTrainingHook: stage1_epochs={self.stage1_epochs} '
                f'must lie in (0, max_epochs={loop.max_epochs}).')
        if model.encoder_checkpoint is None:
            return
        if runner.epoch == 0 and runner.iter == 0:
            self._skip_stage1(runner)
        elif runner.epoch < self.stage1_epochs:
            raise RuntimeError(
                'TwoStageTrainingHook: resumed at epoch '
                f'{runner.epoch} < stage1_epochs={self.stage1_epochs} while '
                f'model.encoder_checkpoint={model.encoder_checkpoint!r} '
                'skips stage 1.')

    def before_train_epoch(self, runner) -> None:
        """Activate the stage that ``runner.epoch`` belongs to."""
        if not self._active(runner):
            return
        stage = 1 if runner.epoch < self.stage1_epochs else 2
        model = self._model(runner)
        if model.train_stage != stage:
            model.set_train_stage(stage)
            runner.logger.info(
                f'TwoStageTrainingHook: epoch {runner.epoch}: stage {stage} '
                '(' + ('encoder' if stage == 1 else 'DI decoder, encoder '
                       'frozen') + ').')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Reset the lr after the last stage-1 iteration."""
        if (self.reset_lr and self._active(runner)
                and runner.epoch + 1 == self.stage1_epochs
                and batch_idx + 1 == len(runner.train_dataloader)):
            self._reset_lr(runner)

    @staticmethod
    def _schedulers(runner) -> List:
        schedulers = runner.param_schedulers or []
        if isinstance(schedulers, dict):
            return [s for group in schedulers.values() for s in group]
        return list(schedulers)

    def _staged_stage1_epochs(self, runner) -> int:
        """First stage's length in the run's two-stage StagedMultiStepLR."""
        return self._stage1_of([
            s.stages for s in self._schedulers(runner)
            if isinstance(s, StagedMultiStepLR)
        ])

    @staticmethod
    def _stage1_of(staged: List[list]) -> int:
        """Stage 1's epochs, given the parsed stages of each
        StagedMultiStepLR of a run (exactly one, with two stages)."""
        if len(staged) != 1 or len(staged[0]) != 2:
            raise ValueError(
                'TwoStageTrainingHook: stage1_epochs is not set, so it is '
                "read from param_scheduler=dict(type='StagedMultiStepLR', "
                'stages=dict(stage1=..., stage2=...)), which needs exactly '
                f'one such scheduler with two stages; found {len(staged)} ' +
                (f'with stages {[st[0] for st in staged[0]]}' if staged else ''
                 ) + '.')
        return staged[0][0][1]

    @classmethod
    def stage_epochs_of(cls, cfg) -> List[int]:
        """Epochs of each training stage of a config, without building it.

        Stage 1's length is read as the hook reads it in a run: its
        ``stage1_epochs``, else the run's :class:`StagedMultiStepLR`.

        Args:
            cfg (Config): A training config.

        Returns:
            list[int]: ``[stage1, stage2]`` for a config with this hook and
            a two-stage model (``two_stage`` True), else ``[max_epochs]``.
        """
        max_epochs = cfg.train_cfg.get('max_epochs', 0)
        hooks = [
            h for h in cfg.get('custom_hooks', None) or []
            if h['type'] in (cls.__name__, cls)
        ]
        model_cls = MODELS.get(cfg.model.type)
        two_stage = cfg.model.get(
            'two_stage',
            inspect.signature(model_cls).parameters['two_stage'].default
            if hasattr(model_cls, 'set_train_stage') else False)
        if not hooks or not two_stage:
            return [max_epochs]
        stage1 = hooks[0].get('stage1_epochs')
        if stage1 is None:
            schedulers = cfg.get('param_scheduler') or []
            if isinstance(schedulers, dict):
                schedulers = [schedulers]
            stage1 = cls._stage1_of([
                StagedMultiStepLR.parse_stages(s['stages']) for s in schedulers
                if s['type'] in ('StagedMultiStepLR', StagedMultiStepLR)
            ])
        return [stage1, max_epochs - stage1]

    def _reset_lr(self, runner) -> None:
        for scheduler in self._schedulers(runner):
            for group in scheduler.optimizer.param_groups:
                name = scheduler.param_name
                group[name] = group[f'initial_{name}']
        runner.logger.info('TwoStageTrainingHook: lr reset to initial_lr '
                           'for stage 2.')

    def _skip_stage1(self, runner) -> None:
        """Advance loop counters and schedulers by the stage-1 epochs."""
        iters = len(runner.train_dataloader)
        schedulers = self._schedulers(runner)
        with warnings.catch_warnings():
            # Schedulers warn when stepped before any optimizer.step().
            warnings.simplefilter('ignore', UserWarning)
            for epoch in range(self.stage1_epochs):
                for it in range(iters):
                    if (self.reset_lr and epoch + 1 == self.stage1_epochs
                            and it + 1 == iters):
                        self._reset_lr(runner)
                    for scheduler in schedulers:
                        if not scheduler.by_epoch:
                            scheduler.step()
                for scheduler in schedulers:
                    if scheduler.by_epoch:
                        scheduler.step()
        runner.train_loop._epoch = self.stage1_epochs
        runner.train_loop._iter = self.stage1_epochs * iters
        runner.logger.info(
            'TwoStageTrainingHook: encoder loaded from '
            f'{self._model(runner).encoder_checkpoint!r}; skipped '
            f'{self.stage1_epochs} stage-1 epochs.')


@HOOKS.register_module()
class IterStageSwitchHook(Hook):
    """Run both stages of a two-stage model in an iteration-based loop.

    Iterations ``[0, stage1_iters)`` train stage 1, later ones stage 2, and
    the test loop runs the final (stage-2) model. For rehearsals and smoke
    tests that time both stages in a few iterations
    (``tools/analysis_tools/rehearse_scale.py``); the lr is not reset, so
    real schedules use :class:`TwoStageTrainingHook`. One-stage models are
    left alone.

    Args:
        stage1_iters (int): Iterations of stage 1.
    """

    # Before LoopTimelineHook ('VERY_LOW') reads the stage of an iteration.
    priority = 'ABOVE_NORMAL'

    def __init__(self, stage1_iters: int) -> None:
        if not isinstance(stage1_iters, int) or stage1_iters < 0:
            raise ValueError('IterStageSwitchHook: stage1_iters must be an '
                             f'int >= 0, got {stage1_iters!r}.')
        self.stage1_iters = stage1_iters

    @staticmethod
    def _set_stage(runner, stage: int) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if getattr(model, 'two_stage', False) and model.train_stage != stage:
            model.set_train_stage(stage)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Activate the stage of ``runner.iter``."""
        self._set_stage(runner, 1 if runner.iter < self.stage1_iters else 2)

    def before_test_epoch(self, runner) -> None:
        """Test the final model."""
        self._set_stage(runner, 2)

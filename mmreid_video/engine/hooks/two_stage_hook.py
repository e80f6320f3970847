"""Switch DenseIL from encoder (stage 1) to decoder (stage 2) training."""
import warnings
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from mmreid_video.engine.schedulers import StagedMultiStepLR
from mmreid_video.registry import HOOKS


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
        staged = [
            s for s in self._schedulers(runner)
            if isinstance(s, StagedMultiStepLR)
        ]
        if len(staged) != 1 or len(staged[0].stages) != 2:
            raise ValueError(
                'TwoStageTrainingHook: stage1_epochs is not set, so it is '
                "read from param_scheduler=dict(type='StagedMultiStepLR', "
                'stages=dict(stage1=..., stage2=...)), which needs exactly '
                f'one such scheduler with two stages; found {len(staged)} '
                + (f'with stages {[st[0] for st in staged[0].stages]}'
                   if staged else '') + '.')
        return staged[0].stages[0][1]

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

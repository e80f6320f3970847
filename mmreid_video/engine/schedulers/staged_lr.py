# Copyright (c) mmreid_video contributors. All rights reserved.
"""One lr schedule for a run of consecutive stages, each a warm-up and steps.

The numbers of each stage live in one config dict, so a child config changes
a stage's length or decay epochs by stating just those numbers (a list of
MMEngine schedulers would have to be restated whole), and
``TwoStageTrainingHook`` reads the stage switch from the same place.
"""
from typing import Dict, List, Optional, Tuple

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import _ParamScheduler

from mmreid_video.registry import PARAM_SCHEDULERS


def _check_stage(name: str, stage: dict) -> Tuple[int, int, List[int]]:
    """Return ``(epochs, warmup_epochs, milestones)`` of a stage dict."""
    where = f'StagedMultiStepLR: param_scheduler.stages.{name}'
    if not isinstance(stage, dict):
        raise TypeError(f'{where} must be a dict, got {stage!r}.')
    unknown = set(stage) - {'epochs', 'warmup_epochs', 'milestones'}
    if unknown:
        raise KeyError(f'{where} has unknown keys {sorted(unknown)}; '
                       "expected 'epochs', 'warmup_epochs', 'milestones'.")
    epochs = stage.get('epochs')
    warmup = stage.get('warmup_epochs', 0)
    milestones = list(stage.get('milestones', []))
    for key, value in (('epochs', epochs), ('warmup_epochs', warmup)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f'{where}.{key} must be an int, got {value!r}.')
    if epochs < 1 or warmup < 0:
        raise ValueError(f'{where}: need epochs >= 1 and warmup_epochs >= 0, '
                         f'got epochs={epochs}, warmup_epochs={warmup}.')
    # A warm-up or milestone beyond the stage's end is cut off with it, so a
    # shortened stage (a smoke test) needs no other change.
    if milestones != sorted(set(milestones)) or not all(
            isinstance(m, int) and not isinstance(m, bool) and m > 0
            for m in milestones):
        raise ValueError(f'{where}.milestones must be increasing positive '
                         'ints (epochs from the stage start), got '
                         f'{milestones!r}.')
    return epochs, warmup, milestones


@PARAM_SCHEDULERS.register_module()
class StagedMultiStepLR(LRSchedulerMixin, _ParamScheduler):
    """Consecutive stages, each a linear warm-up then step decay of the lr.

    In a stage of ``epochs`` epochs, at iteration ``t`` of the stage (epoch
    ``e`` of the stage, both from 0) the lr is ``initial_lr * w * gamma**k``:
    ``w`` rises linearly (per iteration) from ``warmup_factor`` at the
    stage's first iteration to 1 at its last warm-up iteration, then stays
    1; ``k`` counts the stage's milestones ``<= e`` (epochs from the
    stage start, as MMEngine's ``MultiStepLR`` with ``begin`` at the stage
    start); a warm-up or milestone past the stage's end is cut off with
    it. Each stage starts again from the base lr. The values equal
    MMEngine's ``LinearLR`` (``convert_to_iter_based=True``) and
    ``MultiStepLR`` with ``begin``/``end`` at each stage's bounds, with the
    lr reset of ``TwoStageTrainingHook`` in between. The stages are named
    ``stage1``, ``stage2``, ... and run in that order (MMEngine sorts dict
    keys when it prints or dumps a config, so the order cannot come from the
    dict).

    Config (``convert_to_iter_based=True`` makes the runner pass the epoch
    length; ``end`` defaults to ``train_cfg.max_epochs``, which must be the
    sum of the stages' epochs)::

        param_scheduler = dict(
            type='StagedMultiStepLR',
            convert_to_iter_based=True,
            warmup_factor=0.01,
            gamma=0.1,
            stages=dict(
                stage1=dict(epochs=150, warmup_epochs=10,
                            milestones=[40, 80, 120]),
                stage2=dict(epochs=60, warmup_epochs=5, milestones=[30, 50])))

    Args:
        optimizer (Optimizer | OptimWrapper): The wrapped optimizer.
        stages (dict[str, dict]): ``'stage1'``, ``'stage2'``, ... ->
            ``dict(epochs, warmup_epochs=0, milestones=[])``.
        epoch_length (int, optional): Iterations per epoch, passed by the
            runner with ``convert_to_iter_based=True``. Required.
        warmup_factor (float): Lr factor at a stage's first iteration.
            Defaults to 0.01.
        gamma (float): Factor per milestone. Defaults to 0.1.
        begin (int): Must be 0: the stages cover the whole run. Defaults
            to 0.
        end (int, optional): ``train_cfg.max_epochs``, checked against the
            stages. Defaults to None (not checked).
        last_step (int): Last step when resuming without a state dict.
            Defaults to -1.
        by_epoch (bool): Must be True (the stages count epochs; the lr
            changes per iteration). Defaults to True.
        verbose (bool): Print the lr at each update. Defaults to False.
    """

    def __init__(self,
                 optimizer,
                 stages: Dict[str, dict],
                 epoch_length: Optional[int] = None,
                 warmup_factor: float = 0.01,
                 gamma: float = 0.1,
                 begin: int = 0,
                 end: Optional[int] = None,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False) -> None:
        parsed = self.parse_stages(stages)
        if not isinstance(epoch_length, int) or epoch_length < 1:
            # The runner drops epoch_length without convert_to_iter_based.
            raise ValueError('StagedMultiStepLR: epoch_length must be a '
                             f'positive int, got {epoch_length!r}; set '
                             'convert_to_iter_based=True in its config.')
        if begin != 0 or not by_epoch:
            raise ValueError('StagedMultiStepLR: the stages count epochs from '
                             f'0; got begin={begin}, by_epoch={by_epoch}.')
        if not 0 < warmup_factor <= 1 or not 0 < gamma <= 1:
            raise ValueError('StagedMultiStepLR: warmup_factor and gamma '
                             f'must lie in (0, 1], got {warmup_factor}, '
                             f'{gamma}.')
        self.stages = parsed
        total = sum(epochs for _, epochs, _, _ in self.stages)
        if end is not None and end != total:
            lengths = ' + '.join(f'{name}={epochs}'
                                 for name, epochs, _, _ in self.stages)
            raise ValueError(
                f'StagedMultiStepLR: train_cfg.max_epochs={end} but the '
                f'param_scheduler.stages last {lengths} = {total} epochs; '
                'set train_cfg.max_epochs to their sum, or the stages\' '
                'epochs to add up to it.')
        self.epoch_length = epoch_length
        self.warmup_factor = warmup_factor
        self.gamma = gamma
        super().__init__(
            optimizer,
            begin=0,
            end=total * epoch_length,
            last_step=last_step,
            by_epoch=False,
            verbose=verbose)

    @staticmethod
    def parse_stages(
            stages: Dict[str, dict]) -> List[Tuple[str, int, int, List[int]]]:
        """Check the ``stages`` of a config and put them in run order.

        Also what reads a config's stage lengths without building the
        scheduler (:meth:`TwoStageTrainingHook.stage_epochs_of`).

        Args:
            stages (dict[str, dict]): ``param_scheduler.stages``.

        Returns:
            list[tuple]: ``(name, epochs, warmup_epochs, milestones)`` per
            stage, ``stage1`` first.
        """
        if not isinstance(stages, dict) or not stages:
            raise TypeError('StagedMultiStepLR: param_scheduler.stages must '
                            f'be a non-empty dict of stages, got {stages!r}.')
        names = [f'stage{i}' for i in range(1, len(stages) + 1)]
        if sorted(stages) != sorted(names):
            raise KeyError('StagedMultiStepLR: param_scheduler.stages must be '
                           f'named {names} (the run order), got '
                           f'{sorted(stages)}.')
        return [(name, *_check_stage(name, stages[name])) for name in names]

    @classmethod
    def build_iter_from_epoch(cls, *args, **kwargs) -> 'StagedMultiStepLR':
        """Build from the config (``convert_to_iter_based=True``): the
        constructor already works in iterations."""
        return cls(*args, **kwargs)

    def stage_starts(self) -> Dict[str, int]:
        """First epoch of each stage.

        Returns:
            dict[str, int]: Stage name -> first epoch.
        """
        starts, start = {}, 0
        for name, epochs, _, _ in self.stages:
            starts[name] = start
            start += epochs
        return starts

    def factor(self, step: int) -> float:
        """The lr factor at a global iteration.

        Args:
            step (int): Iteration from the start of training.

        Returns:
            float: ``lr / initial_lr``.
        """
        starts = self.stage_starts()
        # The last stage that has begun (steps past the end stay in it).
        for name, _, warmup, milestones in reversed(self.stages):
            start = starts[name]
            if step >= start * self.epoch_length:
                break
        t = step - start * self.epoch_length
        epoch = t // self.epoch_length
        value = self.gamma**sum(m <= epoch for m in milestones)
        warmup_iters = warmup * self.epoch_length
        if t < warmup_iters:
            # As LinearLR: 1 at the last warm-up iteration.
            value *= self.warmup_factor + (1 - self.warmup_factor) * t / max(
                warmup_iters - 1, 1)
        return value

    def _get_value(self) -> List[float]:
        factor = self.factor(self.last_step)
        return [base * factor for base in self.base_values]

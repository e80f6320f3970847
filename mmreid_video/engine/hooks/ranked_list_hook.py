# Copyright (c) mmreid_video contributors. All rights reserved.
"""Write ranked-list figures at the end of testing."""
import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmreid_video.registry import HOOKS
from mmreid_video.visualization import (ReIDVisualizer, check_dump_matches,
                                        dataset_frames, load_ranking_dump,
                                        select_queries)


@HOOKS.register_module()
class RankedListVisualizationHook(Hook):
    """Draw query tracklets and their top-k gallery tracklets after testing.

    The figures are drawn from the ranked lists that ``VideoReIDMetric``
    dumps (``out_file``); when the metric has no ``out_file``, the hook sets
    one in the run's log dir (``ranked_lists.pkl``). The runner's visualizer
    must be a ``ReIDVisualizer``: its ``draw_ranked_lists`` draws the
    figures and records each in every backend (``LocalVisBackend``:
    ``vis_data/vis_image/{name}_{i}.png``; TensorBoard when its backend is
    enabled) and, with ``out_dir``, also writes ``{out_dir}/{name}_{i}.png``.

    Args:
        num_queries (int): Queries drawn. Defaults to 8.
        select (str): ``'first'``, ``'random'``, ``'best'`` or ``'worst'``
            (by AP). Defaults to 'first'.
        query_index (Sequence[int], optional): Explicit query positions;
            overrides ``select``. Defaults to None.
        topk (int): Gallery tracklets per query (<= the metric max_rank).
            Defaults to 5.
        frames_per_tracklet (int): Frames shown per tracklet. Defaults to 4.
        per_figure (int): Queries per figure. Defaults to 8.
        out_dir (str, optional): Also save PNGs here; relative paths are
            joined to the run's log dir. Defaults to None.
        name (str): Image name. Defaults to 'ranked_list'.
        seed (int): Seed of ``select='random'``. Defaults to 0.

    Examples:
        >>> custom_hooks = [dict(type='RankedListVisualizationHook',
        ...                      num_queries=8, select='worst')]
    """

    priority = 'LOW'

    def __init__(self,
                 num_queries: int = 8,
                 select: str = 'first',
                 query_index: Optional[Sequence[int]] = None,
                 topk: int = 5,
                 frames_per_tracklet: int = 4,
                 per_figure: int = 8,
                 out_dir: Optional[str] = None,
                 name: str = 'ranked_list',
                 seed: int = 0) -> None:
        for key, value in (('num_queries', num_queries), ('topk', topk),
                           ('frames_per_tracklet',
                            frames_per_tracklet), ('per_figure', per_figure)):
            if value < 1:
                raise ValueError(f'RankedListVisualizationHook: {key} must '
                                 f'be >= 1, got {value}')
        self.num_queries = num_queries
        self.select = select
        self.query_index = query_index
        self.topk = topk
        self.frames_per_tracklet = frames_per_tracklet
        self.per_figure = per_figure
        self.out_dir = out_dir
        self.name = name
        self.seed = seed
        self._dump_file: Optional[str] = None

    def before_test(self, runner) -> None:
        """Check the visualizer; find the metric's dump file or set one."""
        if not isinstance(runner.visualizer, ReIDVisualizer):
            raise TypeError('RankedListVisualizationHook draws with the '
                            "runner's visualizer, which must be "
                            "visualizer=dict(type='ReIDVisualizer', ...); got "
                            f'{type(runner.visualizer).__name__}')
        metrics = [
            m for m in runner.test_evaluator.metrics if hasattr(m, 'out_file')
        ]
        if len(metrics) != 1:
            raise ValueError('RankedListVisualizationHook needs exactly one '
                             'test metric with `out_file` (VideoReIDMetric), '
                             f'found {len(metrics)}')
        metric = metrics[0]
        # Fail before the test, not after it: the dump keeps max_rank items.
        if getattr(metric, 'max_rank', self.topk) < self.topk:
            raise ValueError(f'RankedListVisualizationHook: topk={self.topk} '
                             f'exceeds the metric max_rank={metric.max_rank}')
        if metric.out_file is None:
            metric.out_file = osp.join(runner.log_dir, 'ranked_lists.pkl')
        self._dump_file = metric.out_file

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Draw and record the figures (main process only)."""
        if not is_main_process():
            return
        dump = load_ranking_dump(self._dump_file)
        dataset = runner.test_dataloader.dataset
        check_dump_matches(dump, dataset)
        queries = select_queries(
            dump,
            self.select,
            self.num_queries,
            self.query_index,
            seed=self.seed)
        out_dir = None
        if self.out_dir is not None:
            out_dir = osp.join(runner.log_dir, self.out_dir)
        figures = runner.visualizer.draw_ranked_lists(
            dump,
            queries,
            dataset_frames(dataset, self.frames_per_tracklet),
            topk=self.topk,
            per_figure=self.per_figure,
            frames_per_tracklet=self.frames_per_tracklet,
            name=self.name,
            out_dir=out_dir)
        runner.logger.info(f'Ranked lists of {len(queries)} queries drawn in '
                           f'{len(figures)} figure(s)')

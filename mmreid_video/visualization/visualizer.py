# Copyright (c) mmreid_video contributors. All rights reserved.
"""The mmreid_video visualizer: ranked-list figures to every vis backend."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import cv2
import mmengine
import numpy as np
from mmengine.visualization import BaseVisBackend, Visualizer

from mmreid_video.fileio import atomic_write
from mmreid_video.registry import VISUALIZERS
from .ranked_results import draw_ranked_figures
from .ranked_search import draw_search_figures


@VISUALIZERS.register_module()
class ReIDVisualizer(Visualizer):
    """Visualizer that draws and records ranked-list figures.

    :meth:`draw_ranked_lists` (from a metric dump) and
    :meth:`draw_search_results` (from ``tools/search.py`` results) are the
    ways figures are made, used by ``RankedListVisualizationHook`` and
    ``tools/visualizations/vis_ranked_list.py``. Records go to every
    configured backend: ``LocalVisBackend`` writes
    ``vis_data/vis_image/{name}_{step}.png``, ``TensorboardVisBackend`` adds
    an image summary (needs ``pip install tensorboard``).

    Args:
        name (str): Instance name. Defaults to 'visualizer'.
        image (np.ndarray, optional): Initial RGB image. Defaults to None.
        vis_backends (list[dict | BaseVisBackend], optional): Backend configs
            or instances. Defaults to None (draw only).
        save_dir (str, optional): Root folder of the backends' files.
            Defaults to None.

    Examples:
        >>> vis = ReIDVisualizer(
        ...     vis_backends=[dict(type='LocalVisBackend')], save_dir='out')
        >>> figures = vis.draw_ranked_lists(  # doctest: +SKIP
        ...     load_ranking_dump('results.pkl'), [0, 1, 2],
        ...     dataset_frames(dataset, 4))
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[Sequence[Union[
                     dict, BaseVisBackend]]] = None,
                 save_dir: Optional[str] = None) -> None:
        super().__init__(
            name=name,
            image=image,
            vis_backends=None if vis_backends is None else list(vis_backends),
            save_dir=save_dir)

    def draw_ranked_lists(self,
                          dump: dict,
                          queries: Sequence[int],
                          frames_of: Callable[[int], List[np.ndarray]],
                          topk: int = 5,
                          per_figure: int = 8,
                          frames_per_tracklet: int = 4,
                          name: str = 'ranked_list',
                          out_dir: Optional[str] = None) -> List[np.ndarray]:
        """Draw ranked lists from a metric dump and record every figure.

        Figure ``i`` goes to every backend as ``add_image(name, figure,
        step=i)`` and, with ``out_dir``, to ``{out_dir}/{name}_{i}.png``;
        the last one is left as the current image.

        Args:
            dump (dict): From
                :func:`~mmreid_video.visualization.load_ranking_dump`.
            queries (Sequence[int]): Positions in ``dump['query_indices']``.
            frames_of (Callable[[int], list[np.ndarray]]): RGB frames of a
                dataset index, e.g. from
                :func:`~mmreid_video.visualization.dataset_frames`.
            topk (int): Gallery columns. Defaults to 5.
            per_figure (int): Queries per figure. Defaults to 8.
            frames_per_tracklet (int): Frames per cell. Defaults to 4.
            name (str): Image name. Defaults to 'ranked_list'.
            out_dir (str, optional): Also write PNG files here. Defaults to
                None.

        Returns:
            list[np.ndarray]: The RGB uint8 figures.
        """
        figures = draw_ranked_figures(dump, queries, frames_of, topk,
                                      per_figure, frames_per_tracklet)
        self._record(figures, name, out_dir)
        return figures

    def draw_search_results(self,
                            results: dict,
                            queries: Sequence[int],
                            topk: int = 5,
                            per_figure: int = 8,
                            frames_per_tracklet: int = 4,
                            name: str = 'ranked_list',
                            out_dir: Optional[str] = None,
                            path: str = 'the results') -> List[np.ndarray]:
        """Draw ranked lists of ``tools/search.py`` results and record every
        figure, as :meth:`draw_ranked_lists` does.

        Args:
            results (dict): From :func:`~mmreid_video.retrieval.
                search_results.read_search_results`.
            queries (Sequence[int]): Positions in ``results['queries']``.
            topk, per_figure, frames_per_tracklet, name, out_dir: As in
                :meth:`draw_ranked_lists`.
            path (str): The results file, for messages.

        Returns:
            list[np.ndarray]: The RGB uint8 figures.
        """
        figures = draw_search_figures(results, queries, topk, per_figure,
                                      frames_per_tracklet, path)
        self._record(figures, name, out_dir)
        return figures

    def _record(self, figures: List[np.ndarray], name: str,
                out_dir: Optional[str]) -> None:
        """Figure ``i`` to every backend (step ``i``) and, with
        ``out_dir``, to ``{out_dir}/{name}_{i}.png``."""
        if out_dir is not None:
            mmengine.mkdir_or_exist(out_dir)
        for i, image in enumerate(figures):
            self.set_image(image)
            self.add_image(name, image, step=i)
            if out_dir is not None:
                path = osp.join(out_dir, f'{name}_{i}.png')
                done, png = cv2.imencode(
                    '.png', cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
                if not done:
                    raise ValueError(f'Cannot encode the figure {path}')
                # Whole or not at all; a full disk is named.
                atomic_write(png.tobytes(), path)

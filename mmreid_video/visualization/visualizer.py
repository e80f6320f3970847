"""The mmreid_video visualizer: ranked-list figures to every vis backend."""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import BaseVisBackend, Visualizer

from mmreid_video.registry import VISUALIZERS
from .ranked_list import TrackletPanel, draw_ranked_list


@VISUALIZERS.register_module()
class ReIDVisualizer(Visualizer):
    """Visualizer that draws and records ranked-list figures.

    Records go to every configured backend: ``LocalVisBackend`` writes
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
        >>> img = vis.draw_ranked_list(rows)  # doctest: +SKIP
        >>> vis.add_ranked_list('ranked_list', img, step=0)  # doctest: +SKIP
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

    def draw_ranked_list(self,
                         rows: Sequence[Tuple[TrackletPanel,
                                              Sequence[TrackletPanel]]],
                         num_gallery: Optional[int] = None,
                         **layout_args) -> np.ndarray:
        """Draw a ranked-list figure and make it the current image.

        Args:
            rows (Sequence[tuple]): ``(query_panel, gallery_panels)`` pairs,
                see :func:`~mmreid_video.visualization.draw_ranked_list`.
            num_gallery (int, optional): Number of gallery columns.
                Defaults to the longest list.
            **layout_args: Geometry options of
                :class:`~mmreid_video.visualization.RankedListLayout`.

        Returns:
            np.ndarray: The RGB uint8 figure.
        """
        image = draw_ranked_list(rows, num_gallery=num_gallery, **layout_args)
        self.set_image(image)
        return image

    @master_only
    def add_ranked_list(self,
                        name: str,
                        image: np.ndarray,
                        step: int = 0) -> None:
        """Record a ranked-list figure in every backend.

        Args:
            name (str): Image identifier, e.g. 'ranked_list'.
            image (np.ndarray): RGB uint8 figure (H, W, 3).
            step (int): Global step (e.g. the epoch). Defaults to 0.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError('add_ranked_list expects an (H, W, 3) uint8 RGB '
                             f'image, got shape {image.shape} {image.dtype}')
        for backend in self._vis_backends.values():
            backend.add_image(name, image, step)

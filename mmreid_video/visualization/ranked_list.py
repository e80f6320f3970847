# Copyright (c) mmreid_video contributors. All rights reserved.
"""Ranked-list figures: a query tracklet and its top-k gallery tracklets.

Pure drawing with numpy and OpenCV. Each row of the figure is one query: its
sampled frames in the first column, framed in blue, then one column per
retrieved gallery tracklet, framed green when it has the query's identity and
red otherwise, with rank, camera and distance written under it.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmreid_video.datasets.transforms.loading import read_frame

# RGB colours; tests and users compare border pixels against these.
MATCH_COLOR = (0, 170, 0)
MISMATCH_COLOR = (220, 0, 0)
QUERY_COLOR = (30, 90, 220)
UNKNOWN_COLOR = (128, 128, 128)
BACKGROUND_COLOR = (255, 255, 255)
TEXT_COLOR = (0, 0, 0)

_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass
class TrackletPanel:
    """One cell of a ranked-list figure.

    Args:
        frames (Sequence[np.ndarray]): RGB uint8 frames (H, W, 3) to show, in
            temporal order; any size, they are resized to the cell's frames.
        lines (Sequence[str]): Text lines written under the frames.
        match (bool, optional): True for a correct match (green), False for a
            wrong one (red), None for a gallery item of unknown identity
            (grey). Ignored for the query cell, which is always blue.
    """
    frames: Sequence[np.ndarray]
    lines: Sequence[str] = field(default_factory=tuple)
    match: Optional[bool] = None


def sample_indices(length: int, num: int) -> np.ndarray:
    """Evenly spaced frame indices, at most one per frame.

    Args:
        length (int): Number of frames in the tracklet (>= 1).
        num (int): Number of frames wanted (>= 1).

    Returns:
        np.ndarray: ``min(length, num)`` sorted int64 indices that include the
        first and the last frame.
    """
    if length < 1 or num < 1:
        raise ValueError(
            f'length and num must be >= 1, got length={length}, num={num}')
    num = min(length, num)
    return np.linspace(0, length - 1, num).round().astype(np.int64)


def load_frames(paths: Sequence[str]) -> List[np.ndarray]:
    """Read image files as RGB uint8 arrays.

    Args:
        paths (Sequence[str]): Image file paths.

    Returns:
        list[np.ndarray]: One (H, W, 3) RGB array per path.

    Raises:
        FileNotFoundError: A file does not exist.
        OSError: A file is empty, unreadable or not an image.
    """
    return [
        cv2.cvtColor(read_frame(str(path)), cv2.COLOR_BGR2RGB)
        for path in paths
    ]


def camera_label(camid: int, camera_names: Sequence[str] = ()) -> str:
    """Display label of a camera index, in the dataset's own numbering.

    Args:
        camid (int): 0-based camera index (``camid`` of the data infos).
        camera_names (Sequence[str]): The dataset's labels by camid
            (``METAINFO['camera_names']``, e.g. ``'cam 1'`` for MARS
            camid 0). Defaults to () (no labels).

    Returns:
        str: ``camera_names[camid]``, or ``'cam {camid}'`` without labels.
    """
    if len(camera_names) == 0:
        return f'cam {camid}'
    if not 0 <= camid < len(camera_names):
        raise IndexError(f'camid {camid} outside the dataset\'s '
                         f'{len(camera_names)} camera_names')
    return str(camera_names[camid])


def _describe(pid: Optional[int], camid: Optional[int], name: Optional[str],
              camera_names: Optional[Sequence[str]]) -> str:
    parts = [] if name is None else [name]
    if pid is not None:
        parts.append(f'id {pid}')
    if camid is not None:
        parts.append(
            camera_label(camid, () if camera_names is None else camera_names))
    return ' '.join(parts)


def query_panel(frames: Sequence[np.ndarray],
                camid: Optional[int] = None,
                pid: Optional[int] = None,
                name: Optional[str] = None,
                title: str = 'query',
                camera_names: Optional[Sequence[str]] = None) -> TrackletPanel:
    """Build the query cell with the standard labels.

    Args:
        frames (Sequence[np.ndarray]): RGB frames.
        camid (int, optional): Camera index, written when given.
        pid (int, optional): Identity, written when given.
        name (str, optional): Tracklet name, written when given.
        title (str): First label line. Defaults to 'query'.
        camera_names (Sequence[str], optional): Camera labels by camid, see
            :func:`camera_label`. Defaults to None (``cam {camid}``).

    Returns:
        TrackletPanel: The query cell, labelled ``title`` and
        ``[name] [id P] [cam C]``.
    """
    return TrackletPanel(
        frames=frames,
        lines=(title, _describe(pid, camid, name, camera_names)))


def gallery_panel(
        frames: Sequence[np.ndarray],
        rank: int,
        distance: float,
        camid: Optional[int] = None,
        pid: Optional[int] = None,
        match: Optional[bool] = None,
        name: Optional[str] = None,
        camera_names: Optional[Sequence[str]] = None) -> TrackletPanel:
    """Build a gallery cell with rank, distance, identity and camera labels.

    Args:
        frames (Sequence[np.ndarray]): RGB frames.
        rank (int): 1-based rank in the query's list.
        distance (float): Query-gallery distance.
        camid (int, optional): Camera index, written when given.
        pid (int, optional): Identity, written when given.
        match (bool, optional): Whether it is the query's identity; None
            when unknown.
        name (str, optional): Tracklet name, written when given.
        camera_names (Sequence[str], optional): Camera labels by camid, see
            :func:`camera_label`. Defaults to None (``cam {camid}``).

    Returns:
        TrackletPanel: The gallery cell, labelled ``#rank d=distance`` and
        ``[name] [id P] [cam C]``.
    """
    return TrackletPanel(
        frames=frames,
        lines=(f'#{rank} d={distance:.3f}',
               _describe(pid, camid, name, camera_names)),
        match=match)


class RankedListLayout:
    """Geometry of a ranked-list figure (all sizes in pixels).

    A cell is a bordered strip of frames with text lines below. Columns are
    the query then the gallery ranks; a wider gap separates the query.

    Args:
        num_rows (int): Number of queries.
        num_cols (int): 1 + number of gallery columns.
        frames_per_tracklet (int): Frames shown per cell. Defaults to 4.
        frame_size (tuple[int, int]): (width, height) of a shown frame.
            Defaults to (64, 128).
        border (int): Border thickness. Defaults to 4.
        frame_gap (int): Gap between frames of one cell. Defaults to 2.
        col_gap (int): Gap between gallery columns. Defaults to 8.
        query_gap (int): Gap after the query column. Defaults to 24.
        row_gap (int): Gap between rows. Defaults to 8.
        margin (int): Outer margin. Defaults to 8.
        font_scale (float): OpenCV font scale of labels. Defaults to 0.4.
        num_lines (int): Label lines reserved under a cell. Defaults to 2.
    """

    def __init__(self,
                 num_rows: int,
                 num_cols: int,
                 frames_per_tracklet: int = 4,
                 frame_size: Tuple[int, int] = (64, 128),
                 border: int = 4,
                 frame_gap: int = 2,
                 col_gap: int = 8,
                 query_gap: int = 24,
                 row_gap: int = 8,
                 margin: int = 8,
                 font_scale: float = 0.4,
                 num_lines: int = 2) -> None:
        if num_rows < 1 or num_cols < 2:
            raise ValueError('A ranked list needs >= 1 row and >= 2 columns '
                             f'(query + gallery), got {num_rows}x{num_cols}')
        if frames_per_tracklet < 1:
            raise ValueError('frames_per_tracklet must be >= 1, got '
                             f'{frames_per_tracklet}')
        self.num_rows = num_rows
        self.num_cols = num_cols
        self.frames_per_tracklet = frames_per_tracklet
        self.frame_size = tuple(frame_size)
        self.border = border
        self.frame_gap = frame_gap
        self.col_gap = col_gap
        self.query_gap = query_gap
        self.row_gap = row_gap
        self.margin = margin
        self.font_scale = font_scale
        self.num_lines = num_lines
        (_, text_h), baseline = cv2.getTextSize('Ag#', _FONT, font_scale, 1)
        self.line_height = text_h + baseline + 4

        frame_w, frame_h = self.frame_size
        self.box_width = (
            frames_per_tracklet * frame_w +
            (frames_per_tracklet - 1) * frame_gap + 2 * border)
        self.box_height = frame_h + 2 * border
        self.cell_height = self.box_height + num_lines * self.line_height

    @property
    def shape(self) -> Tuple[int, int, int]:
        """tuple[int, int, int]: (H, W, 3) of the whole figure."""
        width = (2 * self.margin + self.num_cols * self.box_width +
                 self.query_gap + (self.num_cols - 2) * self.col_gap)
        height = (2 * self.margin + self.num_rows * self.cell_height +
                  (self.num_rows - 1) * self.row_gap)
        return height, width, 3

    def box_origin(self, row: int, col: int) -> Tuple[int, int]:
        """Top-left (x, y) of the bordered box of cell (row, col)."""
        if not (0 <= row < self.num_rows and 0 <= col < self.num_cols):
            raise IndexError(f'cell ({row}, {col}) outside a '
                             f'{self.num_rows}x{self.num_cols} layout')
        x = self.margin + col * self.box_width
        if col > 0:
            x += self.query_gap + (col - 1) * self.col_gap
        y = self.margin + row * (self.cell_height + self.row_gap)
        return x, y


def _draw_cell(canvas: np.ndarray, layout: RankedListLayout, row: int,
               col: int, panel: TrackletPanel, color: Tuple[int, int,
                                                            int]) -> None:
    x0, y0 = layout.box_origin(row, col)
    b = layout.border
    canvas[y0:y0 + layout.box_height, x0:x0 + layout.box_width] = color
    # Inside the border, the frame strip sits on the background colour.
    canvas[y0 + b:y0 + layout.box_height - b,
           x0 + b:x0 + layout.box_width - b] = BACKGROUND_COLOR
    frame_w, frame_h = layout.frame_size
    frames = list(panel.frames)
    if not frames:
        raise ValueError(f'Cell ({row}, {col}) has no frames')
    for slot, idx in enumerate(
            sample_indices(len(frames), layout.frames_per_tracklet)):
        frame = np.asarray(frames[idx])
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(
                f'Cell ({row}, {col}) frame {idx}: expected an (H, W, 3) '
                f'uint8 RGB array, got shape {frame.shape} {frame.dtype}')
        x = x0 + b + slot * (frame_w + layout.frame_gap)
        canvas[y0 + b:y0 + b + frame_h, x:x + frame_w] = cv2.resize(
            frame, (frame_w, frame_h), interpolation=cv2.INTER_AREA)
    for i, text in enumerate(list(panel.lines)[:layout.num_lines]):
        baseline_y = (
            y0 + layout.box_height + (i + 1) * layout.line_height - 3)
        cv2.putText(canvas, text, (x0, baseline_y), _FONT, layout.font_scale,
                    TEXT_COLOR, 1, cv2.LINE_AA)


def draw_ranked_list(rows: Sequence[Tuple[TrackletPanel,
                                          Sequence[TrackletPanel]]],
                     num_gallery: Optional[int] = None,
                     **layout_args) -> np.ndarray:
    """Draw a ranked-list figure.

    Args:
        rows (Sequence[tuple]): One ``(query_panel, gallery_panels)`` pair per
            query; ``gallery_panels`` is in rank order. Rows with fewer
            gallery items than columns leave the remaining cells blank.
        num_gallery (int, optional): Number of gallery columns (k). Defaults
            to the longest gallery list; longer lists raise.
        **layout_args: Geometry options of :class:`RankedListLayout`
            (``frames_per_tracklet``, ``frame_size``, ``border``, ...).

    Returns:
        np.ndarray: RGB uint8 image of shape ``RankedListLayout(...).shape``
        with ``len(rows)`` rows and ``1 + num_gallery`` columns.

    Examples:
        >>> frame = np.zeros((128, 64, 3), np.uint8)
        >>> q = query_panel([frame], camid=0, pid=1)
        >>> g = gallery_panel([frame], rank=1, distance=0.1, camid=1,
        ...                   pid=1, match=True)
        >>> draw_ranked_list([(q, [g])]).shape
        (188, 580, 3)
    """
    if len(rows) == 0:
        raise ValueError('draw_ranked_list needs at least one query row')
    longest = max(len(gallery) for _, gallery in rows)
    if num_gallery is None:
        num_gallery = longest
    elif longest > num_gallery:
        raise ValueError(f'A row has {longest} gallery items but '
                         f'num_gallery={num_gallery}')
    layout = RankedListLayout(len(rows), 1 + num_gallery, **layout_args)
    canvas = np.full(layout.shape, BACKGROUND_COLOR, dtype=np.uint8)
    for r, (query, gallery) in enumerate(rows):
        _draw_cell(canvas, layout, r, 0, query, QUERY_COLOR)
        for c, item in enumerate(gallery, start=1):
            color = {
                True: MATCH_COLOR,
                False: MISMATCH_COLOR,
                None: UNKNOWN_COLOR
            }[item.match]
            _draw_cell(canvas, layout, r, c, item, color)
    return canvas

# Copyright (c) mmreid_video contributors. All rights reserved.
"""Ranked-list figures: drawing, dump reading and the ReIDVisualizer."""
from .ranked_list import (MATCH_COLOR, MISMATCH_COLOR, QUERY_COLOR,
                          UNKNOWN_COLOR, RankedListLayout, TrackletPanel,
                          camera_label, draw_ranked_list, gallery_panel,
                          load_frames, query_panel, sample_indices)
from .ranked_results import (check_dump_matches, choose_queries,
                             dataset_frames, draw_ranked_figures,
                             load_ranking_dump, ranked_rows, select_queries)
from .ranked_search import draw_search_figures, search_rows
from .visualizer import ReIDVisualizer

__all__ = [
    'MATCH_COLOR', 'MISMATCH_COLOR', 'QUERY_COLOR', 'UNKNOWN_COLOR',
    'RankedListLayout', 'TrackletPanel', 'camera_label', 'draw_ranked_list',
    'gallery_panel', 'load_frames', 'query_panel', 'sample_indices',
    'check_dump_matches', 'dataset_frames', 'draw_ranked_figures',
    'load_ranking_dump', 'ranked_rows', 'select_queries', 'ReIDVisualizer',
    'choose_queries', 'draw_search_figures', 'search_rows'
]

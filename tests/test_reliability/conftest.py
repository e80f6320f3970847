# Copyright (c) mmreid_video contributors. All rights reserved.
"""Reuse the tool-run helpers of tests/test_tools (``tiny_mars_root`` is
shared by tests/conftest.py)."""
import os.path as osp
import sys

TOOL_TESTS = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'test_tools')
sys.path.insert(0, TOOL_TESTS)  # makes `import tool_runner` work here

"""Reuse the tool-run helpers and the tiny MARS fixture of tests/test_tools."""
import importlib.util
import os.path as osp
import sys

TOOL_TESTS = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'test_tools')
sys.path.insert(0, TOOL_TESTS)  # makes `import tool_runner` work here

_spec = importlib.util.spec_from_file_location(
    'test_tools_conftest', osp.join(TOOL_TESTS, 'conftest.py'))
_tool_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tool_conftest)
tiny_mars_root = _tool_conftest.tiny_mars_root

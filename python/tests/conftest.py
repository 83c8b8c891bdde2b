"""Fixtures shared by the smcgen package's tests: one model per session, the
CLI binary and the example C plug-in (paths given by ctest), ../shared."""
import os
import shutil
from pathlib import Path

import pytest

import smcgen

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def model():
    return smcgen.Model(threads=1)


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("SMCGEN_CLI") or shutil.which("smcgen") or str(REPO / "build" / "smcgen")
    if not os.path.exists(path):
        pytest.skip("the smcgen CLI is not built (set SMCGEN_CLI)")
    return path


@pytest.fixture(scope="session")
def plugin_path():
    path = os.environ.get("SMCGEN_EXAMPLE_PLUGIN") or str(REPO / "build" / "libcritic_plugin_example.so")
    if not os.path.exists(path):
        pytest.skip("the example plug-in is not built (set SMCGEN_EXAMPLE_PLUGIN)")
    return path


@pytest.fixture(scope="session")
def shared():
    d = Path(os.environ.get("SMCGEN_SHARED") or REPO.parent / "shared")
    if not d.is_dir():
        pytest.skip(f"shared test data not found at {d} (set SMCGEN_SHARED)")
    return d

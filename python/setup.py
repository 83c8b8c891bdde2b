"""Builds smcgen._core with the project's own CMake build (one build
description for the library, the CLI and the extension), for
``pip install --no-build-isolation ./python``.

Environment:
    SMCGEN_BUILD_DIR  an existing CMake build of this repository to take the
                      extension from (it is brought up to date, not
                      reconfigured); default: a fresh RelWithDebInfo build (the configuration CI tests) in
                      setuptools' temporary directory.
    SMCGEN_JOBS       parallel build jobs (default: the number of CPUs).
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


class CMakeBuildExt(build_ext):
    def build_extension(self, ext):
        if not (REPO / "CMakeLists.txt").exists():
            raise RuntimeError(f"{REPO} is not the smcgen source tree: build from a checkout "
                               "(pip install --no-build-isolation ./python)")
        jobs = os.environ.get("SMCGEN_JOBS") or str(os.cpu_count() or 1)
        given = os.environ.get("SMCGEN_BUILD_DIR")
        build = Path(given).resolve() if given else Path(self.build_temp).resolve() / "cmake"
        if not given:
            subprocess.check_call(["cmake", "-S", str(REPO), "-B", str(build), "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                                   f"-DPython3_EXECUTABLE={sys.executable}"])
        elif not (build / "CMakeCache.txt").exists():
            raise RuntimeError(f"SMCGEN_BUILD_DIR={given} is not a CMake build directory")
        subprocess.check_call(["cmake", "--build", str(build), "--target", "smcgen_python", "-j", jobs])
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = build / "python" / "smcgen" / ("_core" + suffix)
        if not built.exists():
            raise RuntimeError(f"{built} was not built (is python3-dev installed for {sys.executable}?)")
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, dest)


class BuildPyWithModel(build_py):
    """Ships the bundled default model, so Model() works once installed."""

    def run(self):
        super().run()
        src = REPO / "models" / "default.gguf"
        if src.exists():
            dest = Path(self.build_lib) / "smcgen" / "data" / "default.gguf"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)


setup(ext_modules=[Extension("smcgen._core", sources=[])],
      cmdclass={"build_ext": CMakeBuildExt, "build_py": BuildPyWithModel})

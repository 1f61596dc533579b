"""Build of the optional compiled counting loop (dnadx/count/_fastcount.pyx); metadata is in pyproject.toml.

The extension is optional: if Cython, pysam's headers or a C compiler are missing, or the
compile fails, the install still succeeds with a warning and `dnadx count` uses its pure-pysam loop
(identical output, slower). It needs no htslib at link time (see the .pyx docstring).
"""

import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext


def _warn(msg):
    print(f"WARNING: dnadx.count._fastcount not built ({msg}); `dnadx count` will use its pure-Python loop",
          file=sys.stderr)


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure must leave a working install
            _warn(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            _warn(exc)


def extensions():
    try:
        import pysam
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError as exc:
        _warn(exc)
        return []
    ext = Extension("dnadx.count._fastcount", ["dnadx/count/_fastcount.pyx"],
                    include_dirs=pysam.get_include(), define_macros=pysam.get_defines(),
                    extra_compile_args=["-O2"])
    try:
        return cythonize([ext], quiet=True)
    except Exception as exc:  # noqa: BLE001
        _warn(exc)
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})

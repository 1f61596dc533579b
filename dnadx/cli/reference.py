"""`dnadx reference`: which reference bundle is in use, its builds, and whether its files match MANIFEST.tsv."""

from __future__ import annotations

from dnadx import __version__
from dnadx.core import reference


def register(sub) -> None:
    p = sub.add_parser(
        "reference", help="show the reference bundle in use and check it against its MANIFEST.tsv",
        description="Prints the dnadx version, the reference bundle folder and where it was found "
                    "($DNADX_REFERENCE when set, else the copy installed with the package, else reference/ of a "
                    "source checkout), its genome builds, and whether every file listed in its MANIFEST.tsv "
                    "still has the recorded sha256. Exits 3 (naming the first changed file) when one differs; "
                    "the other commands check each bundle file the same way when they first read it, and "
                    "`dnadx run` checks all of them before any work.")
    p.set_defaults(func=run)


def run(args) -> int:
    d, source = reference.bundle_source()
    print(f"dnadx {__version__}")
    print(f"bundle: {d}")
    print(f"found via: {source}")
    reference.bundle_dir()  # raises (exit 3) when the folder holds no bundle
    print(f"builds: {', '.join(reference.builds()) or 'none'}")
    listed = reference.manifest_sha256(d)
    bad = reference.verify_checksums()
    print(f"checksums: {len(listed) - len(bad)}/{len(listed)} files match MANIFEST.tsv")
    reference.require_intact(bad)
    return 0

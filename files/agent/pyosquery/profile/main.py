"""Entry point of `pyosquery-profile` (a placeholder that prints the version until its issue lands)."""

import sys

from pyosquery import __version__


def main(argv=None):
    print("pyosquery-profile %s" % __version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())

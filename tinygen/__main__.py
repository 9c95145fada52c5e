"""``python -m tinygen``: the same as the ``tinygen`` command."""

import sys

from tinygen.cli import main

if __name__ == "__main__":
    sys.exit(main())

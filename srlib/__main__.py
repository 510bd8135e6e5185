"""Entry point of ``python -m srlib``: runs :func:`srlib.cli.main` and exits with its status."""

import sys

from srlib.cli import main

sys.exit(main())

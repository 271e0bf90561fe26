"""``python -m qbench`` is the ``qbench`` command."""

from .cli import main

raise SystemExit(main())

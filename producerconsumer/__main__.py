"""``python -m producerconsumer``."""

from .cli import main

raise SystemExit(main())

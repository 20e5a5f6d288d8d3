"""Allow ``python -m hubs_bridge``."""

from __future__ import annotations

from hubs_bridge.cli import main

raise SystemExit(main())

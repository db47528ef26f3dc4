"""`python -m inkcast` is the `inkcast` command."""

from inkcast.main import main

raise SystemExit(main())

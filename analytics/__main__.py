"""``python -m analytics``: the event consumer and the statistics."""

import sys

from analytics.cli import main

sys.exit(main())

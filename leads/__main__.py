"""``python -m leads``: the leads server and command line."""

import sys

from leads.cli import main

sys.exit(main())

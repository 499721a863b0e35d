"""``python -m xmpplab.cli``: the same as the ``xmpplab`` command."""

import sys

from .main import main

sys.exit(main())

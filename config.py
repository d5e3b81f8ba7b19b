"""The settings, under their old name: ``config`` is ``eventhub.settings``.

The settings live in the package (``eventhub/settings.py``) so an installed wheel has
them; this module, kept for code and scripts that say ``import config`` or ``from config
import ...`` in a checkout, is that same module (so ``importlib.reload(config)`` re-reads
the environment for both names). It is not part of the built distribution.
"""

import sys

from eventhub import settings

sys.modules[__name__] = settings

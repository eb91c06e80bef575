"""``python -m emo_lib`` is ``emo-book``."""
import sys

from .runner import main

sys.exit(main())

"""Real-data adapters; importing this package registers them with ``load_dataset``.

``cafe``, ``nimh_chefs`` and ``se30k8`` read the papers' licensed data sets from the folders
their releases unpack to; ``folder`` and ``csv`` read any data set a reader brings. Every
adapter checks each image (:mod:`emo_lib.data.images`), drops exact duplicates and returns
what it left out, with the reason, in ``Manifest.exclusions``.
"""
from . import cafe, generic, nimh_chefs, se30k8  # noqa: F401  (registration side effects)

__all__ = ["cafe", "generic", "nimh_chefs", "se30k8"]

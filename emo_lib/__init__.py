"""emo_lib: the thin library behind the emotion-imbalance paper companion.

One module a concern (see DESIGN notes in the README): ``data`` (manifests, adapters, the
synthetic generator), ``faces``, ``models``, ``augment``, ``balance``, ``losses``, ``train``,
``metrics``, ``explain``, ``paper`` and ``runner`` (the ``emo-book`` command).
"""
__version__ = "0.1.0"

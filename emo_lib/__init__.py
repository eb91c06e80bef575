"""emo_lib: the thin library behind the emotion-imbalance paper companion.

One module a concern (see DESIGN notes in the README): ``data`` (manifests, adapters, the
synthetic generator), ``faces``, ``models``, ``augment``, ``balance``, ``losses``, ``train``,
``metrics``, ``explain``, ``paper``, ``report`` (what every notebook does around its science),
``noh2023`` and ``jeong2021`` (each paper's experiments as functions) and ``runner`` (the
``emo-book`` command).
"""
__version__ = "0.1.0"

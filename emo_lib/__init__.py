"""emo_lib: the thin library behind the emotion-imbalance paper companion.

One module a concern (see DESIGN notes in the README): ``data`` (manifests, adapters, the
synthetic generator), ``faces``, ``models``, ``augment``, ``balance``, ``losses``, ``train``,
``metrics``, ``stats``, ``verdicts``, ``explain``, ``paper``, ``noh2023`` and ``jeong2021`` (each
paper's experiments as functions), ``book`` (what every page does around its science: the run
record, page style, the claims ledger, the reader's runs, the build status) and ``runner`` (the
``emo-book`` command). ``layout`` (the book's files) and ``notebook_parameters`` (what a
notebook declares) sit below both ``book`` and ``runner``, which never import each other.
"""
__version__ = "0.1.0"

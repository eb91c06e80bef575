"""What every page of the book does around its science, run inside the notebook kernels:
:mod:`.report` (the run: parameters, glue, tables, figures, results.json, provenance),
:mod:`.pagestyle` (how tables and figures look), :mod:`.ledger` (the claims ledger),
:mod:`.runs` (a reader's re-executed runs), :mod:`.build_status` (the build-status page),
:mod:`.rerun` (the "Re-run this page" box every page ends with).

These modules never import :mod:`emo_lib.runner` (the ``emo-book`` command that executes the
pages); what both need (the book's folders, a notebook's parameters, the re-run spec the
runner hands a kernel) is :mod:`emo_lib.layout`, :mod:`emo_lib.notebook_parameters` and
:mod:`emo_lib.rerun_spec`.
"""

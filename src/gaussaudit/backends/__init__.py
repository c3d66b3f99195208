"""Optional backends of the streaming audit: Dask and torch.

The Dask engine (:mod:`.dask_engine`) and the torch engine (:mod:`.torch_engine`)
compute the same mergeable partial results as the NumPy engine
(:mod:`gaussaudit.stats.engines`), on a Dask cluster or on a torch device. They live
outside :mod:`gaussaudit.stats` so that the statistics core never imports torch, dask or
the file readers; :func:`gaussaudit.stats.engines.get_engine` finds them by name
(``AuditConfig.engine``) and imports them only when asked for.
"""

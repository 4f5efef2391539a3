"""One module per source of datasets; each exposes a loader ``load(spec, split, *, root, size,
download, verify) -> Dataset`` named by :attr:`DatasetSpec.loader`."""

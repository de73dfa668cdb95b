"""Training data: damage synthesis, the SplitDataModule base (splits, loaders, seeding), per-task datasets."""

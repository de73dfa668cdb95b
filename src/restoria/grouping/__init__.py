"""Grouping photos by place: embed -> UMAP -> HDBSCAN -> folds, with plots and contact sheets."""

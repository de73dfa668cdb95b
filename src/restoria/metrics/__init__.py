"""Measures: the competition score (numpy and a torchmetrics Metric), super-resolution measures."""

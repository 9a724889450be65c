"""Screening many enterprises: batch files in and out, local workers or Dask."""

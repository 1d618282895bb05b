"""The pipeline's stages as plain functions: what the Dagster assets and the CLI both call."""

"""Desktop training for fer-edge: FER2013 loading, the model registry and one train/evaluate path."""

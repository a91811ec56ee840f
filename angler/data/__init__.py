"""Data: parse and normalise feeds, label, split, featurize and check them (Spark, GX)."""

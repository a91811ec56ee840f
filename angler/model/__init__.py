"""Model: the Keras network with in-graph preprocessing, training, evaluation, export, MLflow."""

"""Deploy: the model store, GitOps promotion pins and the MLflow registry alias."""

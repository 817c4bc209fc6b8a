"""Prefect flows, deployments and the clmsync command line."""

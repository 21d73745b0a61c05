"""Helpers for the k8s-workloads-course notebooks."""

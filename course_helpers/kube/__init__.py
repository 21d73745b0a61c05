"""Kubernetes access: the session, kinds, manifests, namespaces, watches, waits."""

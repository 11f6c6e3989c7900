"""Route handlers by area. Each carries its operationId and scope; app.py mounts those whose
operation the artifact's surface lists."""

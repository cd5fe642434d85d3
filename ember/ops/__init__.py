"""Differentiable primitives, one module per family. Each op is a ``Function`` with ``raw = True``."""

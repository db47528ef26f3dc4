"""``inkcast serve``: the runtime behind a small HTTP API (Starlette on uvicorn, ``inkcast[serve]``).

No TensorFlow: only the runtime, Starlette and uvicorn. See :mod:`inkcast.serve.app`.
"""

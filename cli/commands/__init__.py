"""The ``inkcast`` subcommands, one module per command group.

Each module's ``register(subparsers)`` adds its commands; each handler turns its arguments into
the library's options dataclasses and calls the library, so no library function sees argparse.
"""

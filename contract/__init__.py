"""The results layer below ``experiments`` and ``analysis``: what a result directory holds.

``contract.files`` names every file and column, ``contract.io`` writes them atomically (with
content hashes and provenance), ``contract.cli`` turns every expected error of a command into one
line. Imports only ``sim`` and third-party libraries: ``sim`` ← ``contract`` ← ``analysis`` ←
``experiments`` (checked by ``tests/test_layers.py``).
"""

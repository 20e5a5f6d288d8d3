"""What tests share: servers, rigs and clients to drive them, and one way to wait (``waiting``).

Test modules import from here, never from each other.
"""

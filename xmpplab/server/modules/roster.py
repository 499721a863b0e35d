"""RFC 6121 section 2 roster (placeholder)."""


def setup(server):
    pass

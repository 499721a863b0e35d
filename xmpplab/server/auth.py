"""SASL for the server: the mechanisms live in :mod:`xmpplab.sasl`, below the server and replay."""

from ..sasl import (
    ITERATIONS,
    MECHANISMS,
    Credentials,
    Plain,
    SASLFailure,
    Scram,
    SlowCheck,
    check_password,
    make_credentials,
    new_mechanism,
)

__all__ = ["ITERATIONS", "MECHANISMS", "Credentials", "Plain", "SASLFailure", "Scram", "SlowCheck",
           "check_password", "make_credentials", "new_mechanism"]

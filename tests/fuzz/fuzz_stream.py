"""Coverage-guided fuzz target (atheris) for the sans-IO stream core, :class:`xmpplab.stream.StreamParser`.

Each input is the bytes a peer sends on one stream; :func:`tests.fuzz.harness.check_stream` says
what must hold (RFC 6120 section 4 and section 11: stanzas or one clean stream error, never an
exception or a hang, nothing accepted after the end, the same result for any split). Run it from
the repository root (docs/fuzzing.md)::

    python -m tests.fuzz.fuzz_stream /tmp/fuzz-stream tests/fuzz/corpus -max_total_time=600

libFuzzer writes new inputs into the FIRST folder (keep the committed corpus second, read only)
and a crashing input into ``crash-<sha1>`` (``-artifact_prefix=`` says where).
"""

import sys

import atheris

with atheris.instrument_imports(include=["xmpplab"]):
    from tests.fuzz.harness import check_stream


def test_one_input(data: bytes) -> None:
    check_stream(data)


def main(argv=None) -> None:
    atheris.Setup(list(argv or sys.argv), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

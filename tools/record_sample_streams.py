"""Record the trace detectives' sample streams again (chapter 14): each scenario of xmpplab.course.traces is
played on a fresh Lab on loopback, and the server's recording is written to sample_streams/NAME.jsonl.

    python tools/record_sample_streams.py                  # all of them
    python tools/record_sample_streams.py failed-login     # one
    python tools/record_sample_streams.py --out DIR        # somewhere else

Each file written is read back and what chapter 14's exercises ask of it is printed
(xmpplab.course.traces.facts); tests/test_trace_detectives.py checks that a new recording says the same
as the committed one.
"""

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: the package next to this folder

from xmpplab.course import traces  # noqa: E402 - after the path is set


async def main(names, out: Path) -> None:
    """Record each scenario in ``names`` into ``out/NAME.jsonl`` and print what it says."""
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        transcript = await traces.record(name)
        path = out / f"{name}.jsonl"
        transcript.save(path, reveal_credentials=True)  # the lab's throwaway password, as the other samples
        print(f"{path}: {traces.facts(name, traces.Transcript.load(path))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"the scenarios to record ({', '.join(traces.SCENARIOS)}; default all)")
    parser.add_argument("--out", type=Path, default=ROOT / "sample_streams", help="the folder to write into")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in traces.SCENARIOS]
    if unknown:
        parser.error(f"no scenario {', '.join(unknown)}; there are {', '.join(traces.SCENARIOS)}")
    asyncio.run(main(args.names or list(traces.SCENARIOS), args.out))

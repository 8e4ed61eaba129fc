"""Size and time of an evidence report's audit proof, against walking the whole log.

Fills a log with `--records` realistic query records, signing a checkpoint every
`--every` (the `audit_checkpoint_every` default is 1,000), then proves 1, 10 and 50
records chosen at random (`steward.audit.proof.prove`, what `steward evidence` embeds)
and checks each proof offline (`check_proof`, what `steward audit verify --evidence`
runs). Prints, for each, the records and bytes the proof carries, the seconds to prove
and to check, and the ratio of checking the proof to `steward audit verify` walking the
whole log (above 1: the offline check is that many times cheaper).

    python bench/evidence_proof.py [--records 20000] [--every 1000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path

import orjson

from steward.app import Steward
from steward.audit.checkpoints import Signer, make_checkpoint
from steward.audit.log import record
from steward.audit.models import Resource
from steward.audit.proof import check_proof, prove
from steward.audit.verify import verify
from steward.config import Settings
from steward.identity.models import Principal

OUT = Path(__file__).parent / "out" / "evidence"
ANA = Principal("ana", frozenset({"analysts"}), token_id="0123456789ab")


def fill(steward: Steward, signer: Signer, home: Path, count: int, every: int) -> None:
    """`count` query records, a checkpoint after each `every`."""
    for start in range(0, count, every):
        with steward.store.write() as conn:
            for i in range(start, min(start + every, count)):
                record(
                    conn,
                    actor=ANA,
                    action="query",
                    resource=Resource("lake.crm.customers", ("id", "email")),
                    decision="masked",
                    policy="masks[0]",
                    details={
                        "sql": f"SELECT id, email FROM lake.crm.customers WHERE id = {i}",
                        "inputs": [
                            {
                                "dataset": "lake.crm.customers",
                                "columns": ["id", "email"],
                                "masks": ["email"],
                                "filters": [],
                            }
                        ],
                    },
                )
        make_checkpoint(steward.store, signer, home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=1_000)
    args = parser.parse_args()
    home = OUT / "home"
    shutil.rmtree(home, ignore_errors=True)
    steward = Steward(Settings(home=home))
    steward.upgrade()
    signer = Signer.load(home)
    fill(steward, signer, home, args.records, args.every)
    started = time.perf_counter()
    walked = verify(steward.store, signer, home)
    walk = time.perf_counter() - started
    assert walked.ok, walked.message
    print(f"log: {args.records} records, a checkpoint every {args.every}; verify {walk:.2f} s")
    chosen = random.Random(1)
    for cited in (1, 10, 50):
        seqs = chosen.sample(range(1, args.records + 1), cited)
        started = time.perf_counter()
        proof = prove(steward.store, signer, home, seqs)
        proving = time.perf_counter() - started
        data = orjson.dumps(proof)
        started = time.perf_counter()
        check_proof(orjson.loads(data), signer.public_pem)
        checking = time.perf_counter() - started
        print(
            f"cited {cited:>3}: {len(proof['records']):>6} records,"
            f" {len(proof['checkpoints']):>3} checkpoints, {len(data) / 1e6:6.2f} MB;"
            f" prove {proving:5.2f} s, check {checking:5.2f} s;"
            f" ratio to verify {walk / checking:5.1f}"
        )
    steward.close()


if __name__ == "__main__":
    main()

"""The scan's worker processes: batches of chunks scanned on every core, in order."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from steward.scan.engine import CompiledRule, Scanner, compile_rules
from steward.scan.models import Chunk, Finding, Rule


def scan_in_workers(
    rules: Sequence[CompiledRule], batches: Iterable[list[Chunk]], workers: int
) -> Iterator[Finding]:
    """Batches scanned in `workers` processes, a few batches ahead of the one whose
    findings are yielded: findings come in batch order, and memory stays bounded however
    long the input."""
    pool = _start_pool(rules, workers)
    pending: deque[Future[list[Finding]]] = deque()
    try:
        for batch in batches:
            # Plain tuples pickle several times faster than the frozen dataclass.
            packed = [(c.path, c.text, c.first_line, c.commit) for c in batch]
            pending.append(pool.submit(_scan_in_worker, packed))
            if len(pending) > 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)


def pool_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: the platform's default (fork on Linux)."""
    return multiprocessing.get_context()


def _start_pool(rules: Sequence[CompiledRule], workers: int) -> ProcessPoolExecutor:
    """A pool whose workers hold the rules. A forked worker inherits them compiled as they
    are (nothing pickled, nothing compiled again); a spawned one gets the picklable rules
    and compiles them once."""
    context = pool_context()
    if context.get_start_method() == "fork":
        return ProcessPoolExecutor(
            workers, context, initializer=_adopt_rules, initargs=(tuple(rules),)
        )
    plain = tuple(compiled.rule for compiled in rules)
    return ProcessPoolExecutor(workers, context, initializer=_compile_rules, initargs=(plain,))


# A worker process's scanner, set once by the pool's initializer: a process-wide value
# because that is the only state a pool's worker keeps between tasks.
_worker_scanner: Scanner | None = None


def _adopt_rules(rules: tuple[CompiledRule, ...]) -> None:
    global _worker_scanner
    _worker_scanner = Scanner(rules)


def _compile_rules(rules: tuple[Rule, ...]) -> None:
    global _worker_scanner
    _worker_scanner = Scanner(compile_rules(rules))


def _scan_in_worker(packed: list[tuple[str, str, int, str | None]]) -> list[Finding]:
    if _worker_scanner is None:  # never: the pool's initializer sets it
        raise RuntimeError("scan worker started without its rules")
    return _worker_scanner.scan([Chunk(*fields) for fields in packed])

"""Run one extraction in a child process with a memory ceiling and a wall-clock limit.

PDF and Office parsers are native code fed with untrusted bytes: a hostile file can make them
loop, allocate without bound or crash. In a child process none of that reaches the caller; the
caller gets the result or an ExtractionError that says what happened (never document text).
"""

from __future__ import annotations

import multiprocessing
import resource
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from reviewlens import errors
from reviewlens.errors import ExtractionError, ExtractionOutOfMemory, ExtractionTimeout

T = TypeVar("T")
_MB = 1024 * 1024
# the fork server imports these once, so each child starts in milliseconds, not seconds
PRELOAD = ["ingest.extractors", "ingest.pipeline"]
_context: Any = None


def _get_context() -> Any:
    global _context
    if _context is None:
        methods = multiprocessing.get_all_start_methods()
        _context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            _context.set_forkserver_preload(PRELOAD)
    return _context


def _child(
    conn: Connection,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    memory_mb: int | None,
) -> None:
    try:
        if memory_mb:
            limit = memory_mb * _MB
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        conn.send(("ok", fn(*args, **kwargs)))
    except MemoryError:
        conn.send(("oom", None))
    except ExtractionError as exc:
        conn.send(("error", (type(exc).__name__, exc.code, exc.message)))
    except BaseException as exc:  # noqa: BLE001 - reported by type name only, no text
        conn.send(("crash", type(exc).__name__))
    finally:
        conn.close()


def _rebuild(name: str, code: str, message: str) -> ExtractionError:
    """The child's error as the same class, so callers can catch it as usual."""
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, ExtractionError):
        error = cls(message)
    else:
        error = ExtractionError(message)
    error.code = code
    return error


def run_isolated(
    fn: Callable[..., T],
    *args: Any,
    timeout_s: float,
    memory_mb: int | None = None,
    **kwargs: Any,
) -> T:
    """fn(*args, **kwargs) in a child process; fn and its result must be picklable."""
    context = _get_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, fn, args, kwargs, memory_mb), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise ExtractionTimeout(f"extraction took longer than {timeout_s:g} s and was stopped")
        try:
            status, payload = receiver.recv()  # (str, Any) from _child
        except (EOFError, OSError):
            process.join(5)
            raise _died(process.exitcode) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if status == "ok":
        return payload
    if status == "oom":
        raise ExtractionOutOfMemory(
            f"extraction needed more than {memory_mb} MB of memory and was stopped"
        )
    if status == "error":
        raise _rebuild(*payload)
    raise ExtractionError(f"the extractor failed unexpectedly ({payload})")


def _died(exitcode: int | None) -> ExtractionError:
    if exitcode is not None and exitcode < 0:
        signal_number = -exitcode
        if signal_number in (signal.SIGKILL, signal.SIGABRT):
            return ExtractionOutOfMemory(
                "the extractor was stopped by the system, most likely for memory"
            )
        return ExtractionError(f"the extractor crashed on this file (signal {signal_number})")
    return ExtractionError(f"the extractor ended without an answer (exit code {exitcode})")

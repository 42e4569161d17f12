"""Making a change safely: validate, store with a version check, apply live, restore on failure, audit.

1. The edit is made on the file's current text (comments and layout kept) and the result is
   validated with the service's own rules; nothing invalid is ever written.
2. The form says which version it was based on. If the file changed since, the edit still goes
   ahead when the part being edited is unchanged (somebody changed something else); otherwise the
   user is told and nothing is overwritten. The write itself is atomic, with history, and checks
   the version again under the store's lock, so two writers can never lose each other's edit.
3. The new version is applied to the running service. If that fails, the previous text is written
   back (a new, logged version) and applied again, and the user is told what failed.
4. Every attempt is in the audit log: who, when, what, the diff, and whether it was applied.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nms.admin import yamledit
from nms.admin.audit import text_diff
from nms.admin.validation import FieldProblem, Invalid, check_file
from nms.admin.workspace import ConfigFile, Workspace
from nms.store import SHORT, StoreError, UnknownVersion, VersionConflict, version_of

log = logging.getLogger(__name__)

Edit = Callable[[Any], None]
Section = tuple[str | int, ...] | list[tuple[str | int, ...]]


@dataclass
class Outcome:
    """What happened; ``status`` is one of applied, saved, unchanged, invalid, conflict, restored."""

    status: str
    message: str = ""
    problems: list[FieldProblem] = field(default_factory=list)
    version: str | None = None
    model: Any = None
    audit_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("applied", "saved", "unchanged")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialises the page's read-edit-write-apply across processes (two admin pages on one host)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _section(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return json.dumps(yamledit.plain(data), sort_keys=True, default=str)


class ChangeManager:
    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.counts: dict[tuple[str, str], int] = {}

    def _lock(self, kind: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(kind, threading.Lock())

    def _validate(self, cf: ConfigFile, text: str) -> Any:
        district = self.ws.district
        snmp = district.snmp if cf.kind == "inventory" else None
        settings = district.settings
        assert isinstance(settings, BaseModel)  # the composed nms.yaml model that the application loaded
        model = check_file(cf.kind, text, snmp, cf.path, settings_model=type(settings))
        if cf.kind == "ivr":
            from nms.admin.workspace import _absolute_events

            model = _absolute_events(model, cf.path)
        return model

    def _apply(self, cf: ConfigFile, model: Any) -> tuple[bool | None, str]:
        if cf.kind == "ivr":
            return self.ws.apply_ivr(model)
        return self.ws.apply_district()

    def change(self, kind: str, *, user: str, action: str, summary: str, base_version: str | None,
               edit: Edit | None = None, text: str | None = None, section: Section | None = None,
               address: str = "", after_apply: Callable[[Any, str], None] | None = None) -> Outcome:
        """Change the file of ``kind`` by ``edit`` (on the round-tripped document) or to ``text``.

        ``section`` is the key path the edit touches: a concurrent change elsewhere in the file is
        not a conflict. ``after_apply(model, version)`` runs once the new version is live (or saved
        where no service runs), under the same lock, e.g. to deploy announcement audio.
        """
        cf = self.ws.file(kind)
        with self._lock(kind), _file_lock(cf.path.parent / f".{cf.path.name}.admin.lock"):
            outcome = self._change(cf, user=user, action=action, summary=summary, base_version=base_version,
                                   edit=edit, text=text, section=section, address=address, after_apply=after_apply)
        key = (kind, outcome.status)
        self.counts[key] = self.counts.get(key, 0) + 1
        return outcome

    def _change(self, cf: ConfigFile, *, user: str, action: str, summary: str, base_version: str | None,
                edit: Edit | None, text: str | None, section: Section | None, address: str,
                after_apply: Callable[[Any, str], None] | None) -> Outcome:
        audit = self.ws.audit
        target = cf.path.name
        for attempt in range(10):
            old_text, old_version = cf.store.read()
            if base_version and base_version != old_version and not self._merge_ok(cf, base_version, old_text,
                                                                                    section):
                aid = audit.record(user=user, address=address, action=action, target=target, summary=summary,
                                   result="conflict", applied=False,
                                   detail=f"based on {base_version[:SHORT]}, file is at {old_version[:SHORT]}")
                return Outcome("conflict", "changed_meanwhile", version=old_version, audit_id=aid)
            try:
                new_text = text if text is not None else yamledit.edit(old_text, edit)
                model = self._validate(cf, new_text)
            except Invalid as exc:
                return Outcome("invalid", "invalid", problems=exc.problems, version=old_version)
            except yamledit.AliasError as exc:
                return Outcome("invalid", "invalid", problems=[FieldProblem("", "v_yaml_alias", {}, str(exc))],
                               version=old_version)
            if new_text == old_text:
                return Outcome("unchanged", "unchanged", version=old_version, model=model)
            diff = text_diff(old_text, new_text, target)
            # The audit row exists before the file changes: a crash (kill -9) between writing and
            # applying leaves a "pending" row, never a change without a trace.
            aid = audit.record(user=user, address=address, action=action, target=target, summary=summary,
                               diff=diff, result="pending", version=version_of(new_text))
            try:
                new_version = cf.store.write(new_text, expected_version=old_version, author=user, message=summary)
            except VersionConflict:
                # A writer outside the page (e.g. the NetBox import) wrote meanwhile: redo on its version.
                audit.discard(aid)
                time.sleep(0.01 * (attempt + 1))
                continue
            except BaseException as exc:
                audit.update(aid, result="refused", applied=False, detail=f"not written: {exc}")
                raise
            try:
                ok, detail = self._apply(cf, model)
                if ok is not False and after_apply is not None:
                    after_apply(model, new_version)
            except Exception as exc:  # e.g. the announcement audio could not be made: undo the change
                log.exception("applying %s failed", target)
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            if ok is False:
                restored = self._restore(cf, old_text, new_version, user, detail)
                audit.update(aid, applied=False, result="restored", detail=f"{detail}; {restored}")
                return Outcome("restored", detail, version=old_version, audit_id=aid)
            audit.update(aid, applied=bool(ok), result="applied" if ok else "saved", detail=detail)
            return Outcome("applied" if ok else "saved", detail, version=new_version, model=model, audit_id=aid)
        return Outcome("conflict", "changed_meanwhile", version=cf.store.current_version())

    def _merge_ok(self, cf: ConfigFile, base_version: str, current_text: str, section: Section | None) -> bool:
        """True if the part being edited is the same in the base version and now."""
        if section is None:
            return False
        try:
            base_text = cf.store.read_version(base_version)
        except (UnknownVersion, StoreError, OSError):
            return False
        paths = section if isinstance(section, list) else [section]
        try:
            base, current = yamledit.load(base_text), yamledit.load(current_text)
        except yamledit.AliasError:
            return False
        return all(_section(base, p) == _section(current, p) for p in paths)

    def _restore(self, cf: ConfigFile, old_text: str, failed_version: str, user: str, reason: str) -> str:
        """Write back the previous text and apply it again; returns what happened, for the audit log."""
        try:
            cf.store.write(old_text, expected_version=failed_version, author="nms-admin",
                           message=f"restored after a failed apply by {user}: {reason}"[:500])
        except VersionConflict:
            return "not restored: the file changed again meanwhile"
        try:
            ok, detail = self._apply(cf, self._validate(cf, old_text))
        except Invalid as exc:  # the old version itself no longer validates (e.g. snmp.yaml changed)
            return f"previous version restored in the file, but it does not validate: {exc}"
        if ok is False:
            return f"previous version restored in the file; applying it failed too: {detail}"
        return "previous version restored and applied"

    def rollback(self, kind: str, version: str, *, user: str, base_version: str | None, address: str = "",
                 after_apply: Callable[[Any, str], None] | None = None) -> Outcome:
        cf = self.ws.file(kind)
        try:
            entry = next(e for e in cf.store.history() if e.version.startswith(version))
            text = cf.store.read_version(entry.version)
        except (StopIteration, UnknownVersion, StoreError) as exc:
            return Outcome("invalid", "unknown_version", problems=[FieldProblem("", "unknown_version",
                                                                                 {"version": version}, str(exc))])
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.time.timestamp()))
        return self.change(kind, user=user, action=f"{kind}.rollback", text=text, base_version=base_version,
                           summary=f"rollback to {entry.short} (#{entry.seq}, {when})", address=address,
                           after_apply=after_apply)

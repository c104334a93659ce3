"""The only code that touches SQL: small methods the agent and its tools call.

Every read and write names the user, and every query filters by that user, so one learner can
never see another's sessions, runs, attempts or mastery (a session id alone opens nothing).
The schema is created and upgraded by Alembic on open (``migrations/``), for SQLite under the
data dir by default or any SQLAlchemy URL in ``TUTOR_DATABASE_URL`` (e.g. PostgreSQL, shared
by several app replicas).
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tutor.agent.memory.models import ChatSession, Mastery, Message, QuizAttempt, Run, User
from tutor.config import Settings, get_settings
from tutor.errors import TutorError

MIGRATIONS = Path(__file__).parent / "migrations"
#: Weight of a new quiz score in a topic's mastery (an exponential moving average): recent
#: answers count most, and one lucky or unlucky answer moves mastery by at most this much.
MASTERY_WEIGHT = 0.5
MAX_NAME = 120


def _now() -> datetime:
    return datetime.now(timezone.utc)


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    settings.home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.home / 'tutor.db'}"


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def check_session_id(session_id: str) -> str:
    """A session id is 1 to 64 letters, digits, '-' or '_' (faces check it before any slow work)."""
    if not (1 <= len(session_id) <= 64 and session_id.replace("-", "").replace("_", "").isalnum()):
        raise TutorError("a session id is 1 to 64 letters, digits, '-' or '_'")
    return session_id


def _check_name(user: str) -> str:
    name = " ".join(str(user or "").split())
    if not name or len(name) > MAX_NAME:
        raise TutorError(f"a user name must be 1 to {MAX_NAME} characters")
    return name


class Memory:
    """A handle on the tutor's database. Thread-safe: each call opens its own short session."""

    def __init__(self, url: str):
        self.url = url
        connect_args = {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}
        try:
            self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
            _migrate(self.engine)
        except SQLAlchemyError as exc:
            raise TutorError(f"cannot open the tutor's database at {_safe(url)}: {' '.join(str(exc).split())[:200]}") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    # -- users and sessions ------------------------------------------------------------------
    def _user(self, db: Session, name: str) -> User:
        name = _check_name(name)
        user = db.scalar(select(User).where(User.name == name))
        if user is None:
            user = User(name=name)
            db.add(user)
            db.flush()
        return user

    def open_session(self, user: str, session_id: str | None = None, mode: str | None = None) -> ChatSession:
        """The user's session ``session_id`` (created when new), or a new one. ``mode`` updates it."""
        if session_id is not None:
            check_session_id(session_id)
        with self._sessions.begin() as db:
            owner = self._user(db, user)
            row = db.get(ChatSession, session_id) if session_id else None
            if row is not None and row.user_id != owner.id:
                # Same message as for a missing id would be nicer, but the id is taken: say so
                # without telling whose it is.
                raise TutorError(f"session '{session_id}' is not available to {owner.name}; start a new one")
            if row is None:
                row = ChatSession(id=session_id or uuid.uuid4().hex[:12], user_id=owner.id,
                                  mode=mode or "explain", title="", state={})
                db.add(row)
            elif mode and mode != row.mode:
                row.mode = mode
            row.updated_at = _now()
            db.flush()
            return row

    def sessions_for(self, user: str) -> list[dict[str, Any]]:
        with self._sessions() as db:
            owner = self._user(db, user)
            rows = db.scalars(select(ChatSession).where(ChatSession.user_id == owner.id)
                              .order_by(ChatSession.updated_at.desc())).all()
            db.commit()
            return [{"id": r.id, "mode": r.mode, "title": r.title, "updated_at": r.updated_at.isoformat()} for r in rows]

    def _owned(self, db: Session, user: str, session_id: str) -> ChatSession:
        owner = self._user(db, user)
        row = db.get(ChatSession, session_id)
        if row is None or row.user_id != owner.id:
            raise TutorError(f"no session '{session_id}' for {owner.name}")
        return row

    def set_state(self, user: str, session_id: str, state: dict[str, Any]) -> None:
        with self._sessions.begin() as db:
            row = self._owned(db, user, session_id)
            row.state = dict(state)
            row.updated_at = _now()

    def get_state(self, user: str, session_id: str) -> dict[str, Any]:
        with self._sessions() as db:
            return dict(self._owned(db, user, session_id).state or {})

    # -- messages ----------------------------------------------------------------------------
    def add_message(self, user: str, session_id: str, role: str, content: str, meta: dict | None = None) -> None:
        with self._sessions.begin() as db:
            row = self._owned(db, user, session_id)
            if role == "user" and not row.title:
                row.title = content[:80]
            row.updated_at = _now()
            db.add(Message(session_id=session_id, role=role, content=content, meta=meta or {}))

    def messages(self, user: str, session_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The session's messages, oldest first (the last ``limit`` when given)."""
        with self._sessions() as db:
            self._owned(db, user, session_id)
            query = select(Message).where(Message.session_id == session_id).order_by(Message.id.desc())
            if limit:
                query = query.limit(limit)
            rows = list(reversed(db.scalars(query).all()))
            return [{"role": m.role, "content": m.content, "meta": m.meta or {}} for m in rows]

    # -- runs ----------------------------------------------------------------------------------
    def record_run(self, user: str, session_id: str | None, result: dict[str, Any]) -> None:
        with self._sessions.begin() as db:
            owner = self._user(db, user)
            row = db.scalar(select(Run).where(Run.run_id == result["run_id"]))
            if row is None:
                row = Run(run_id=result["run_id"], user_id=owner.id, session_id=session_id, kind=result.get("kind", ""),
                          status=result.get("status", ""), params=result.get("params") or {}, metrics={})
                db.add(row)
            elif row.user_id != owner.id:
                raise TutorError(f"run '{result['run_id']}' belongs to another user")
            row.status = result.get("status", row.status)
            row.metrics = result.get("metrics") or {}

    def runs_for(self, user: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The user's runs, newest first."""
        with self._sessions() as db:
            owner = self._user(db, user)
            query = select(Run).where(Run.user_id == owner.id).order_by(Run.id.desc())
            if limit:
                query = query.limit(limit)
            rows = db.scalars(query).all()
            db.commit()
            return [{"run_id": r.run_id, "kind": r.kind, "status": r.status, "params": r.params, "metrics": r.metrics,
                     "session_id": r.session_id, "created_at": r.created_at.isoformat()} for r in rows]

    def owns_run(self, user: str, run_id: str) -> bool:
        with self._sessions() as db:
            owner = self._user(db, user)
            db.commit()
            return db.scalar(select(Run.id).where(Run.run_id == run_id, Run.user_id == owner.id)) is not None

    # -- quizzes and mastery -----------------------------------------------------------------------
    def record_attempt(self, user: str, session_id: str | None, topic: str, question: str, answer: str,
                       score: float, feedback: str) -> float:
        """Store a graded answer and fold its score into the topic's mastery; returns the new mastery."""
        score = min(1.0, max(0.0, float(score)))
        with self._sessions.begin() as db:
            owner = self._user(db, user)
            db.add(QuizAttempt(user_id=owner.id, session_id=session_id, topic=topic, question=question,
                               answer=answer, score=score, feedback=feedback))
            row = db.scalar(select(Mastery).where(Mastery.user_id == owner.id, Mastery.topic == topic))
            if row is None:
                row = Mastery(user_id=owner.id, topic=topic, score=score, attempts=1)
                db.add(row)
            else:
                row.score = (1 - MASTERY_WEIGHT) * row.score + MASTERY_WEIGHT * score
                row.attempts += 1
                row.updated_at = _now()
            return float(row.score)

    def mastery_for(self, user: str) -> dict[str, dict[str, Any]]:
        with self._sessions() as db:
            owner = self._user(db, user)
            rows = db.scalars(select(Mastery).where(Mastery.user_id == owner.id)).all()
            db.commit()
            return {r.topic: {"score": r.score, "attempts": r.attempts} for r in rows}

    def attempts_for(self, user: str) -> list[dict[str, Any]]:
        with self._sessions() as db:
            owner = self._user(db, user)
            rows = db.scalars(select(QuizAttempt).where(QuizAttempt.user_id == owner.id).order_by(QuizAttempt.id)).all()
            db.commit()
            return [{"topic": r.topic, "question": r.question, "answer": r.answer, "score": r.score} for r in rows]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the page read while a turn writes; foreign keys make CASCADE real in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _safe(url: str) -> str:
    # Never print a password from a database URL.
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "the configured URL"


_cache: dict[str, Memory] = {}
_lock = threading.Lock()


def open_memory(settings: Settings | None = None) -> Memory:
    """The process-wide Memory for the settings' database (opened and migrated once)."""
    settings = settings or get_settings()
    url = database_url(settings)
    with _lock:
        memory = _cache.get(url)
        if memory is None:
            memory = _cache[url] = Memory(url)
        return memory

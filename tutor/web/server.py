"""Start the page: settings, the one ``Tutor``, the first-launch build, the queue, then ``launch``."""

import logging
import threading
from typing import Any

from tutor.config import Settings, get_settings
from tutor.web.context import CorpusBuild, PageContext

log = logging.getLogger("tutor.web")


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """``"ada:pw,alan:pw2"`` → ``[("ada", "pw"), ("alan", "pw2")]``; empty → None (no logins).

    A password may contain ':' (only the first one splits); a name may not be empty or repeat.
    """
    if not value or not value.strip():
        return None
    from tutor.errors import TutorError

    pairs: list[tuple[str, str]] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        user, sep, password = item.partition(":")
        user = user.strip()
        if not sep or not user or not password:
            raise TutorError("TUTOR_AUTH must look like 'user:password,user2:password2' (each with a name and a password)")
        if user in {u for u, _ in pairs}:
            raise TutorError(f"TUTOR_AUTH names '{user}' twice")
        pairs.append((user, password))
    return pairs or None


def warm_up(ctx: PageContext, prewarm_lab: bool = True) -> None:
    """Once the knowledge base is ready: load what the first question needs, off the request path."""

    def work() -> None:
        tutor = ctx.tutor
        for what, fn in (("router", lambda: tutor.router.route("what does dropout do?")),
                         ("retrieval", lambda: tutor.knowledge.search("dropout", top_k=1)),
                         ("model", lambda: tutor.llm)):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - the first question will say what is wrong
                log.warning("warm-up of the %s failed: %s", what, exc)
        if prewarm_lab:
            try:
                from tutor.lab import warm

                warm.prewarm()  # a spare run process with torch imported: the first experiment starts at once
            except (ImportError, AttributeError):
                pass
            except Exception as exc:  # noqa: BLE001
                log.warning("could not prepare a spare experiment process: %s", exc)

    threading.Thread(target=work, name="warm-up", daemon=True).start()


def create(settings: Settings | None = None, *, tutor: Any = None, auth: bool = False, concurrency: int = 8,
           prewarm_lab: bool = True):
    """The page and its context; the default knowledge base starts building in the background."""
    from tutor.web.page import build_page

    settings = settings or get_settings()
    if tutor is None:
        from tutor.agent import Tutor

        tutor = Tutor(settings)
    ctx = PageContext(settings=settings, tutor=tutor, auth=auth, concurrency=concurrency,
                      corpus=CorpusBuild(settings))
    ctx.corpus.on_ready.append(lambda: warm_up(ctx, prewarm_lab))
    demo = build_page(ctx)
    ctx.corpus.start()
    return demo, ctx


def launch(*, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           auth: list[tuple[str, str]] | None = None, concurrency: int = 8, tutor: Any = None,
           prewarm_lab: bool = True, settings: Settings | None = None) -> None:
    from tutor.web.page import launch_assets

    settings = settings or get_settings()
    demo, ctx = create(settings, tutor=tutor, auth=bool(auth), concurrency=concurrency, prewarm_lab=prewarm_lab)
    if not auth and (share or host not in ("127.0.0.1", "localhost", "::1")):
        log.warning("no logins (TUTOR_AUTH is unset) and the page is reachable from other machines: "
                    "everyone who opens it is the same learner '%s'", settings.user)
    demo.queue(default_concurrency_limit=2, max_size=256)
    demo.launch(server_name=host, server_port=port, share=share, auth=auth,
                auth_message="dl-tutor: sign in with your learner name" if auth else None,
                max_file_size=f"{settings.max_file_mb:g}mb", show_error=False, ssr_mode=False,
                **launch_assets())

"""The browser page (Gradio): it renders the agent's events and holds no tutoring logic.

    python app.py                     # http://127.0.0.1:7860
    TUTOR_AUTH="ada:pw,alan:pw2" python app.py --host 0.0.0.0

``server.py`` starts everything (settings, the one ``Tutor``, the first-launch knowledge-base
build, the queue); ``page.py`` lays out the tabs; one small file per panel: ``chat.py`` (streamed
cited answers, the live experiment panel, sessions, Stop), ``runs.py``, ``roadmap.py``,
``knowledge.py`` (uploads), ``status.py``. ``render.py`` turns events into chat messages and has
no Gradio in it. docs/page.md explains the page and its measured numbers.
"""

"""The page's CSS and its one piece of JavaScript (a click on [n] opens cited passage n)."""

CSS = """
#header h1 { margin: 0; font-size: 1.4rem; }
#header .who { text-align: right; font-size: .9rem; opacity: .8; }
.banner { padding: .6rem .9rem; border-radius: 8px; display: flex; gap: 1rem; align-items: center; }
.banner.building { background: #fff7e0; border: 1px solid #f0c36d; color: #5c4400; }
.banner.failed { background: #fdecea; border: 1px solid #e0a39c; color: #6b1b12; }
.banner progress { flex: 1; min-width: 120px; }
#chat a.cite-ref { text-decoration: none; font-weight: 600; padding: 0 1px; border-radius: 3px; }
#chat a.cite-ref:hover { background: rgba(80, 120, 255, .15); }
#chat .cited { margin-top: .6rem; border-top: 1px solid rgba(128,128,128,.3); padding-top: .4rem; font-size: .92em; }
#chat .cited-head { font-weight: 600; opacity: .75; margin-bottom: .2rem; }
#chat details.passage { margin: .25rem 0; border: 1px solid rgba(128,128,128,.25); border-radius: 6px; padding: .2rem .5rem; }
#chat details.passage[open] { background: rgba(80, 120, 255, .06); }
#chat details.passage.flash { outline: 2px solid rgba(80, 120, 255, .7); }
#chat details.passage summary { cursor: pointer; }
#chat .passage-text { white-space: normal; margin: .4rem 0; max-height: 22rem; overflow: auto; font-size: .95em; }
#chat .passage-source { font-size: .85em; opacity: .8; }
#chat .turn-meta { font-size: .78em; opacity: .6; margin-top: .4rem; }
#chat .turn-meta .meta-page { display: none; }  /* the page's own time to first text, for benchmarks/ui.py */
#chat .turn-error { color: #b3261e; }
#chat .turn-stopped { opacity: .7; font-style: italic; }
#chat .turn-notice { font-style: italic; opacity: .85; }
#chat .thinking { opacity: .5; }
#chat ol.step-list { margin: 0; padding-left: 1.2rem; font-size: .9em; }
.exp-progress { padding: .5rem .75rem; }
.exp-progress progress { width: 100%; height: 14px; }
.exp-progress .exp-head { font-weight: 600; margin-bottom: .25rem; }
.exp-progress .exp-epoch { font-size: .9em; opacity: .85; }
table.roadmap { width: 100%; border-collapse: collapse; }
table.roadmap td, table.roadmap th { padding: .3rem .5rem; border-bottom: 1px solid rgba(128,128,128,.2); text-align: left; }
table.roadmap tr.next { background: rgba(80, 120, 255, .08); }
table.roadmap .badge { font-size: .75em; background: #3b5bdb; color: white; border-radius: 8px; padding: 0 .4rem; }
.meter { width: 160px; height: 10px; background: rgba(128,128,128,.2); border-radius: 5px; overflow: hidden; }
.meter span { display: block; height: 100%; background: #2f9e44; }
table.status th { text-align: left; padding-right: 1rem; font-weight: 600; white-space: nowrap; vertical-align: top; }
table.status td { padding: .15rem 0; }
footer { display: none !important; }
"""

JS = """
() => {
  // [n] in an answer links to #cite-<turn>-<n>; open that passage and bring it into view.
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.cite-ref');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const target = document.getElementById(link.getAttribute('href').slice(1));
    if (!target) return;
    target.open = true;
    target.scrollIntoView({block: 'nearest', behavior: 'smooth'});
    target.classList.add('flash');
    setTimeout(() => target.classList.remove('flash'), 1200);
  }, true);
}
"""

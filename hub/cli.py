"""The ``hub`` command: a thin adapter over :class:`hub.core.Hub`.

Expected failures (bad files, unknown documents, locked stores) print one line on stderr and set
the exit status; tracebacks are kept for real bugs.
"""

from __future__ import annotations

import argparse
import json
import time
import os
import signal
import sys
from pathlib import Path
from typing import Sequence

from hub import serving
from hub.errors import HubError
from hub.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub", description="Urban Safety Knowledge Hub: ingest a prevention library, search it, serve it.")
    parser.add_argument("--home", help="folder holding all hub state (default: $HUB_HOME or ~/.urban-safety-hub)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="add or update files and folders (PDF, HTML, Markdown, text)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--force", action="store_true", help="re-embed files even when unchanged")
    p.add_argument("--quiet", "-q", action="store_true", help="print only rejections")

    p = sub.add_parser("search", help="hybrid search; prints documents with their best passage")
    p.add_argument("query")
    p.add_argument("--limit", "-n", type=int, default=10)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--doc-type", action="append", help="only this document type (repeatable)")
    p.add_argument("--language", action="append", help="only this language: en, fr, es (repeatable)")
    p.add_argument("--tag", action="append", help="only documents with this tag (repeatable)")
    p.add_argument("--year", help="a year or a range: 2015, 2010..2020, 2018..")
    p.add_argument("--mode", choices=("hybrid", "dense", "keyword"), default="hybrid")
    p.add_argument("--diversify", action="store_true", help="spread results over different evidence (MMR)")
    p.add_argument("--no-expand", action="store_true", help="keep to the question's own words: no thesaurus labels, no lexicon")
    p.add_argument("--practices", type=int, default=3, metavar="N",
                   help="also name the N practices whose profiles fit the question (0: none; default 3)")
    p.add_argument("--json", action="store_true", help="print a JSON array, best first")

    p = sub.add_parser("documents", help="list what the hub holds")
    p.add_argument("--json", action="store_true")
    p.add_argument("--duplicates", action="store_true",
                   help="list byte-identical copies and near-identical documents (80%% of their text or more)")
    p.add_argument("--removed", action="store_true",
                   help="list the files whose documents were removed (a seeded library leaves them out)")

    p = sub.add_parser("remove", help="delete documents from the catalog and both indexes (a seeded "
                                      "library does not bring them back; `hub ingest` does)")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="path as ingested, document id, or a folder (every document from a file inside it)")

    p = sub.add_parser("check", help="verify that the catalog, Qdrant and (embedded) Whoosh agree")
    p.add_argument("--repair", action="store_true",
                   help="remove passages the catalog does not know from the indexes and re-index the "
                        "catalogued documents they lack")
    sub.add_parser("reindex", help="re-embed every stored passage with HUB_MODEL (after changing models; "
                                   "resumable)")

    p = sub.add_parser("export", help="write the whole hub (catalog, indexes, originals) to a .tar.gz")
    p.add_argument("file")
    p = sub.add_parser("import", help="restore a hub written by `hub export` into --home")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="replace the hub already in --home")

    sub.add_parser("upgrade", help="rebuild the passage index of a home made by an earlier hub (no re-embedding)")
    sub.add_parser("prepare", help="unpack the installed models into HUB_MODEL_CACHE now, so that the first "
                                   "`hub serve` starts as fast as the next ones (`make install` runs it)")

    p = sub.add_parser("migrate", help="copy the passage index to a Qdrant server (or back home), then verify")
    p.add_argument("--to", required=True, metavar="URL",
                   help="http(s)://host:6333; `home` to bring a server's index back into this home (run with "
                        "HUB_QDRANT_URL set); a folder: qdrant-client's local mode")
    p.add_argument("--shards", type=int, default=1, help="shard_number of the new collection (cluster: e.g. 2 per node)")
    p.add_argument("--replicas", type=int, default=1, help="replication_factor of the new collection")
    p.add_argument("--force", action="store_true", help="replace the collection if the destination has one")

    p = sub.add_parser("recommend", help="rank practices for an advisory question, with evidence and forums")
    p.add_argument("question")
    p.add_argument("--population", help="e.g. youth, women, residents")
    p.add_argument("--setting", help='e.g. "public transport", parks, schools')
    p.add_argument("--level", choices=("primary", "secondary", "tertiary"))
    p.add_argument("--theme", help="e.g. policing, mobility, governance")
    p.add_argument("--limit", "-n", type=int, default=5)
    p.add_argument("--lang", choices=("en", "fr", "es"),
                   help="names and summaries in this language (default: the question's)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("practices", help="practice profiles and their evidence links")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = psub.add_parser("list", help="every practice with its evidence rating")
    q.add_argument("--json", action="store_true")
    q = psub.add_parser("show", help="one practice profile")
    q.add_argument("practice_id")
    q.add_argument("--json", action="store_true")
    q = psub.add_parser("links", help="links between practices and documents (automatic ones for review)")
    q.add_argument("--all", action="store_true", help="also list links declared by front matter or sources")
    q.add_argument("--json", action="store_true")
    q = psub.add_parser("check", help="check profiles against the pages they cite, the rating scale and the "
                                      "forum registry; one line per problem, exit code 1 when any")
    q.add_argument("--json", action="store_true", help="print a JSON list of {file, field, problem}")

    from hub.cli_community import add_parsers

    add_parsers(sub)

    p = sub.add_parser("serve", help="run the web hub")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--seed", action="append", metavar="PATH",
                   help="ingest these files or folders before serving (unchanged files are skipped, and those "
                        "whose documents were removed are left out)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from hub.forms import check_arguments

        # Text that is not Unicode (bytes that are not UTF-8 arrive as lone surrogates) is refused
        # in one line here, not deep in a store; file paths may hold any bytes and are left alone.
        check_arguments(vars(args), frozenset({"home", "output", "paths", "sources", "file", "seed", "to"}))
        settings = Settings.from_env(home=args.home, host=getattr(args, "host", None),
                                     port=getattr(args, "port", None))
        return COMMANDS[args.command](settings, args)
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _hub(settings: Settings):  # type: ignore[no-untyped-def]
    from hub.core import Hub

    return Hub(settings)


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    served = _served(settings)
    if served is not None:
        # The server reads the files where they are: it runs on this machine.
        paths = [str(Path(p).resolve()) for p in args.paths]
        report = serving.call(served, "ingest", {"paths": paths, "force": args.force})
        for rejected in report["rejected"]:
            print(f"rejected {rejected['source']}: {rejected['reason']}", file=sys.stderr)
    else:
        with _hub(settings) as hub:
            report = hub.ingest(args.paths, force=args.force,
                                on_reject=lambda r: print(f"rejected {r}", file=sys.stderr)).to_json()
    for warning in report["warnings"]:
        print(f"warning {warning}", file=sys.stderr)
    if not args.quiet:
        for source in report["added"]:
            print(f"added     {source}")
        for source in report["updated"]:
            print(f"updated   {source}")
        for source, twin in report["duplicates"]:
            print(f"duplicate {source} (the same bytes as {twin}: recorded with it, not indexed twice)")
        print(report["summary"])
    return int(report["exit_code"])


def _as_given(source: str) -> str:
    """A path to remove, as the server (another working directory) finds it: absolute; a
    document id as is."""
    return str(Path(source).resolve()) if os.sep in source or Path(source).exists() else source


def _served(settings: Settings) -> serving.Served | None:
    """The `hub serve` on this machine that holds this home's passage index, if any: the writes
    of this command go through it (hub/serving.py)."""
    if settings.qdrant_url:
        return None
    served = serving.find(settings.home)
    if served is not None:
        print(f"the hub serving this home ({served.url}, process {served.pid}) does this; its log shows the progress",
              file=sys.stderr)
    return served


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from search.request import SearchRequest

    asked = SearchRequest(args.query, limit=args.limit, offset=args.offset, mode=args.mode,
                          diversify=args.diversify, expand=not args.no_expand,
                          practices=0 if args.json else args.practices,
                          filters={"doc_type": args.doc_type, "language": args.language, "tags": args.tag,
                                   "year": args.year})
    with _hub(settings) as hub:
        results = hub.search(asked)
    if args.json:  # the API's shape (GET /api/search), from the same Hit.to_json
        print(json.dumps([h.to_json() for h in results.hits], ensure_ascii=False, indent=2))
        return 0
    if results.suggestion:
        print(f"did you mean: {results.suggestion}", file=sys.stderr)
    if not results.hits:
        print("no matches", file=sys.stderr)
        _fitting(results.practices)
        return 0
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for rank, hit in enumerate(results.hits, start=args.offset + 1):
        cite = f"p. {hit.page}" if hit.page else hit.format
        print(f"{rank:>2}. {hit.title}  [{hit.doc_type}, {hit.language}, {cite}]  {hit.score:.3f}")
        print(f"    {hit.source}")
        for passage in hit.passages:
            cite = f"p. {passage.page}" if passage.page else "passage"
            print(f"    [{cite}] {_marked(passage, colour)}")
        print()
    _fitting(results.practices)
    shown = f"{args.offset + 1}-{args.offset + len(results.hits)}"
    print(f"{shown} of {results.total} documents, {results.took_ms:.0f} ms", file=sys.stderr)
    return 0


def _fitting(practices: list[dict]) -> None:
    """The practices shown beside the documents (``hub recommend`` gives the advice)."""
    if practices:
        print("practices that fit: " + "; ".join(f"{p['name']} ({p['rating_label']}, {p['practice_id']})"
                                                for p in practices) + "\n")


def _marked(hit, colour: bool) -> str:  # type: ignore[no-untyped-def]
    from search.snippets import Snippet

    snip = Snippet(hit.snippet, hit.highlights)
    return snip.marked("\033[1;33m", "\033[0m") if colour else snip.marked("**", "**")


def cmd_documents(settings: Settings, args: argparse.Namespace) -> int:
    if args.duplicates:
        return _duplicates(settings, args)
    if args.removed:
        with _hub(settings) as hub:
            removed = sorted(hub.catalog.removed_files())
        if args.json:
            print(json.dumps(removed, ensure_ascii=False, indent=2))
        else:
            for path in removed:
                print(f"removed   {path}")
            print(f"{len(removed)} files removed (`hub ingest` one to bring it back)", file=sys.stderr)
        return 0
    with _hub(settings) as hub:
        docs = hub.documents()
        counts = {d.id: 0 for d in docs} | hub.catalog.passage_counts()
    if args.json:
        print(json.dumps([d.to_json(passages=counts[d.id]) for d in docs], ensure_ascii=False, indent=2))
        return 0
    for d in docs:
        print(f"{d.id:<48} {d.language}  {d.doc_type:<12} {counts[d.id]:>4} passages  {d.title}")
    print(f"{len(docs)} documents", file=sys.stderr)
    return 0


def _duplicates(settings: Settings, args: argparse.Namespace) -> int:
    from hub.duplicates import near_duplicates

    with _hub(settings) as hub:
        copies = hub.catalog.copies()
        near = near_duplicates(hub.catalog)
        sources = {d.id: d.source for d in hub.documents()}
    if args.json:
        print(json.dumps({"copies": copies, "near": [{**n.to_json(), "first_source": sources.get(n.first),
                                                     "second_source": sources.get(n.second)} for n in near]},
                         ensure_ascii=False, indent=2))
        return 0
    for c in copies:
        print(f"copy      {c['source']}  = {sources.get(c['doc_id'], c['doc_id'])}")
    for n in near:
        print(f"near      {sources.get(n.first, n.first)}  ~ {sources.get(n.second, n.second)}  "
              f"({n.overlap:.0%} of their text in common)")
    print(f"{len(copies)} identical copies, {len(near)} near-identical pairs", file=sys.stderr)
    return 0


def cmd_remove(settings: Settings, args: argparse.Namespace) -> int:
    served = _served(settings)
    if served is not None:
        answer = serving.call(served, "remove", {"sources": [_as_given(s) for s in args.sources]})
        for doc in answer["removed"]:
            print(f"removed   {doc['source']} ({doc['id']})")
        for error in answer["errors"]:
            print(f"error: {error}", file=sys.stderr)
        return 1 if answer["errors"] else 0
    status = 0
    with _hub(settings) as hub:
        for source in args.sources:
            try:
                for doc in hub.remove(source):
                    print(f"removed   {doc.source} ({doc.id})")
            except HubError as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 1
    return status


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    with _hub(settings) as hub:
        if getattr(args, "repair", False):
            repaired = hub.repair()
            report = repaired.after
            print(f"repair: removed {repaired.removed} passage(s) the catalog does not know; "
                  f"re-indexed {len(repaired.reindexed)} document(s) from the catalog"
                  + (f" ({', '.join(repaired.reindexed[:10])})" if repaired.reindexed else ""))
            for name in repaired.reingest:
                print(f"ingest again: {name} (its original file is missing)")
        else:
            report = hub.check()
    whoosh = f"; Whoosh: {report.keyword} passages" if report.keyword is not None else ""
    print(f"catalog: {report.documents} documents, {report.passages} passages; "
          f"Qdrant: {report.semantic} vectors{whoosh}")
    for problem in report.problems:
        print(f"problem: {problem}")
    for note in report.notes:
        print(f"note: {note}")
    print("ok: the stores agree" if report.ok else "the stores disagree: run `hub check --repair`, and "
          "ingest again the documents it names")
    return 0 if report.ok else 1


def cmd_reindex(settings: Settings, args: argparse.Namespace) -> int:
    with _hub(settings) as hub:
        report = hub.reindex(progress=True)
    was = f" (was {report.previous})" if report.previous and report.previous != report.model else ""
    print(f"re-embedded {report.passages} passages with {report.model}{was}: {report.embedded} computed, "
          f"the rest from the embedding cache, in {report.seconds:.1f} s")
    return 0


def cmd_recommend(settings: Settings, args: argparse.Namespace) -> int:
    context = {"population": args.population, "setting": args.setting, "level": args.level, "theme": args.theme}
    with _hub(settings) as hub:
        advice = hub.recommend(args.question, limit=args.limit, context=context)
    if args.json:
        print(json.dumps(advice.to_json(args.lang), ensure_ascii=False, indent=2))
        return 0
    if not advice.recommendations:
        print("no practice matches this question; try other words or fewer context filters", file=sys.stderr)
    lang = args.lang or advice.language
    for rank, rec in enumerate(advice.recommendations, start=1):
        _print_recommendation(rank, rec, lang)
    if advice.avoid:
        print("AVOID: these practices match the question but the evidence shows they do harm")
        for rec in advice.avoid:
            _print_recommendation("!", rec, lang)
    return 0


def _print_recommendation(rank, rec, lang: str) -> None:  # type: ignore[no-untyped-def]
    p = rec.practice
    print(f"{rank:>2}. {p.name_in(lang)}  [{p.rating.label}]  score {rec.score:.3f}")
    print(f"    {p.rating.label}: {p.rating.meaning}")
    if p.outcomes:
        print(f"    Outcomes: {_outcomes_compact(p)}")
    print(f"    {p.summary_in(lang)}")
    for reason in rec.reasons:
        cite = f"p. {reason.page}" if reason.page else "passage"
        print(f"    - \"{reason.snippet}\" ({reason.title}, {cite})")
    if p.emmie.get("implementation"):
        print(f"    Implementation: {p.emmie['implementation']}")
    if p.emmie.get("economic_cost"):
        print(f"    Cost: {p.emmie['economic_cost']}")
    print(f"    Supporting documents: {rec.supporting_documents}")
    for forum in rec.forums:
        print(f"    Forum: {forum.name} <{forum.url}>")
    print()


def _outcomes_compact(p) -> str:  # type: ignore[no-untyped-def]
    """A practice's outcomes in one line: "Crime: Effective (strong evidence, 76 studies) · ..."."""
    from hub.brief_export import outcome_line

    return " · ".join(outcome_line(o.to_json()) for o in p.outcomes)


def cmd_practices(settings: Settings, args: argparse.Namespace) -> int:
    with _hub(settings) as hub:
        if args.action == "list":
            practices = hub.practices()
            if args.json:
                print(json.dumps([p.to_json() for p in practices], ensure_ascii=False, indent=2))
            for p in [] if args.json else practices:
                print(f"{p.id:<40} {p.rating.label:<22} {p.kind:<12} {p.name}")
                if p.outcomes:
                    print(f"{'':<4}{_outcomes_compact(p)}")
            return 0
        if args.action == "check":
            return _practices_check(hub, args)
        if args.action == "show":
            p = hub.practice(args.practice_id)
            links = hub.catalog.practice_links(p.id)
            if args.json:
                print(json.dumps(p.to_json() | {"links": links}, ensure_ascii=False, indent=2))
                return 0
            from hub.brief_export import headline_rule, outcome_line
            from practices.ratings import STRENGTHS

            outcomes = [o.to_json() for o in p.outcomes]
            print(f"{p.name} ({p.id}), {p.kind}\n{p.rating.label}: {p.rating.meaning}")
            print(headline_rule(p.rating.key, outcomes) + "\n")
            if outcomes:
                print("What the evidence says, outcome by outcome:")
                for o in outcomes:
                    print(f"  - {outcome_line(o, full=True)}")
                print()
            print(f"{p.summary}\n")
            for key, text in p.emmie.items():
                level = p.emmie_quality.levels.get(key)
                quality = f" [quality of evidence: {STRENGTHS.get(level, level)}]" if level else ""
                print(f"{key.replace('_', ' ').title()}{quality}: {text}\n")
            for link in links:
                doc = hub.catalog.document(link["doc_id"])
                print(f"  [{link['kind']}] {doc.title if doc else link['doc_id']}")
            return 0
        links = hub.catalog.practice_links()
        if not args.all:
            links = [link for link in links if link["kind"] == "auto"]
        if args.json:
            print(json.dumps(links, indent=2))
            return 0
        docs = hub.catalog.documents_by_ids(link["doc_id"] for link in links)
        for link in links:
            score = f"{link['score']:.2f}" if link["score"] is not None else "    "
            print(f"{link['kind']:<9} {score}  {link['practice_id']:<36} {docs[link['doc_id']].source}")
        print(f"{len(links)} links" + ("" if args.all else " made automatically; declare them with "
                                        "`practices: [id]` in a document's front matter to confirm"), file=sys.stderr)
    return 0


def _practices_check(hub, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """Problem lines on stdout (or a JSON list), the summary on stderr; 1 when any problem."""
    problems = hub.check_practices()
    if args.json:
        print(json.dumps([p.to_json() for p in problems], ensure_ascii=False, indent=2))
    for problem in [] if args.json else problems:
        print(problem)
    count = len(hub.practices())
    if not problems:
        print(f"all {count} profiles check out" if count != 1 else "the 1 profile checks out", file=sys.stderr)
        return 0
    forums = any(p.field.startswith("forums[") for p in problems)
    # a profile, or a library document (a summary that cites no study)
    files = {p.file for p in problems if not p.field.startswith("forums[")}
    where = f"{len(files)} file{'s' if len(files) != 1 else ''}" + (" and the forum registry" if forums else "")
    print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {where}", file=sys.stderr)
    return 1


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from hub.archive import export_hub

    path = export_hub(settings, Path(args.file))
    print(f"exported {settings.home} to {path} ({path.stat().st_size / 1048576:.1f} MB)")
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from hub.archive import import_hub

    import_hub(settings, Path(args.file), force=args.force)
    with _hub(settings) as hub:
        report = hub.restore()
    print(f"imported {args.file} into {settings.home}: {report.documents} documents, {report.passages} passages")
    for problem in report.problems:
        print(f"problem: {problem}")
    return 0 if report.ok else 1


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from search.migration import destination

    with _hub(settings) as hub:
        dest = destination(args.to, settings)
        try:
            report = hub.migrate(dest, shards=args.shards, replicas=args.replicas, force=args.force)
        finally:
            dest.close()
    print(f"copied {report.copied} passages to {args.to} (source {report.source}, destination "
          f"{report.destination}, catalog {report.catalog})")
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    if report.ok:
        print("verified. Serve from it by unsetting HUB_QDRANT_URL" if args.to == "home"
              else f"verified. Serve from it with HUB_QDRANT_URL={args.to}")
    return 0 if report.ok else 1


def cmd_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    with _hub(settings) as hub:
        report = hub.upgrade()
    if report.indexes_only:
        print(f"mapped the passage index's payload indexes from their files ({report.passages} passages, "
              f"none written again), in {report.seconds:.1f} s")
        return 0
    removed = f"; removed {', '.join(report.removed)}" if report.removed else ""
    source = "their vectors kept as they were" if report.terms_only else "the rest from the embedding cache"
    print(f"rebuilt the passage index: {report.passages} passages of {report.documents} documents, "
          f"{report.embedded} embedded, {source}, in {report.seconds:.1f} s{removed}")
    return 0


def cmd_prepare(settings: Settings, args: argparse.Namespace) -> int:
    from hub.prepare import prepare

    report = prepare(settings)
    if report.made:
        print(f"prepared {report.model} in {report.cache}: {len(report.made)} files made "
              f"({', '.join(report.made)}) in {report.seconds:.1f} s")
    else:
        print(f"{report.model} was already prepared in {report.cache}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from hub.core import Hub
    from web.app import SERVER_OPTIONS, create_app

    from hub import logs

    log = logs.configure(settings.log_format, settings.log_level)
    started = time.perf_counter()
    hub = Hub(settings)
    if args.seed:
        # Seeded at every start: files whose documents a person removed stay out (Hub.ingest).
        report = hub.ingest(args.seed, seed=True,
                            on_reject=lambda r: logs.event(log, "rejected", 30, source=r.source, reason=r.reason))
        logs.event(log, "seeded", added=len(report.added), updated=len(report.updated),
                   unchanged=len(report.unchanged), rejected=len(report.rejected), removed_earlier=len(report.left_out),
                   embedded=report.embedded, seconds=round(report.seconds, 1))
    hub.warm_up(requests=True)
    app = create_app(hub)
    # The passage index is this process's alone (embedded mode): `hub ingest` and `hub remove`
    # on this home hand their work to it (hub/serving.py). A Qdrant server is shared instead.
    served = None if settings.qdrant_url else serving.announce(settings.home, settings.host, settings.port)
    app.state.served = served
    counts = hub.catalog.counts()
    logs.event(log, "serving", url=f"http://{settings.host}:{settings.port}/", documents=counts["documents"],
               passages=counts["passages"], qdrant=settings.qdrant_url or "embedded",
               startup_s=round(time.perf_counter() - started, 2))
    # uvicorn stops on SIGTERM, then raises it again with the handler found at start: with the
    # default one, the process died there, before the note was withdrawn and the hub closed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        # SIGTERM stops the server within a few seconds: requests still running after 3 s are
        # cut off rather than waited for (a service manager's stop must not hang).
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False,
                    timeout_graceful_shutdown=3, **SERVER_OPTIONS)
    finally:
        serving.withdraw(settings.home, served)
        hub.close()
    return 0


def _terminated(signum: int, frame: object) -> None:
    # A stop that was asked for and completed is a clean exit (a service manager's `stop`).
    raise SystemExit(0)


COMMANDS = {"ingest": cmd_ingest, "search": cmd_search, "documents": cmd_documents,
            "remove": cmd_remove, "check": cmd_check, "reindex": cmd_reindex, "upgrade": cmd_upgrade, "prepare": cmd_prepare,
            "serve": cmd_serve,
            "recommend": cmd_recommend, "practices": cmd_practices, "export": cmd_export,
            "import": cmd_import, "migrate": cmd_migrate}


def _community_commands() -> dict:
    from hub.cli_community import COMMANDS as community

    return community


COMMANDS.update(_community_commands())

if __name__ == "__main__":
    sys.exit(main())

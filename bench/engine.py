"""Benchmark of the SOP runtime: task completions per second and the inbox query time.

Run: ``.venv/bin/python bench/engine.py [--quick] [--pg postgres://postgres@127.0.0.1/postgres]``
(``--pg ''`` skips PostgreSQL; ``--profile FILE`` writes a cProfile of the completions;
``--keep`` keeps the SQLite data directory for EXPLAIN sessions).

Each backend is measured in its own child process with a private, temporary data directory
(SQLite) or a scratch database created and dropped on the given PostgreSQL server. In each:

1. migrate, load the shipped SOPs, create Kab. Balangan with officers, then build
   ``--tasks`` open tasks (100,000; one running Dik Jamila Me-WA case each, spread over the
   activities, due times spread over a month);
2. complete ``--completions`` already claimed tasks through ``actions.complete`` (permission
   checks, SLA computation of the next task in the office calendar, timeline, audit chain,
   and the step handlers the installed domain apps register), one transaction each; and as
   many again with the domain apps' step handlers unregistered (``runtime_only_per_s``);
3. in the same database, the raw SQL the same transition needs as a reference: one UPDATE and
   two INSERTs (next task, timeline event) per transaction, through Django's cursor.

   After a WAL checkpoint (SQLite) and ``--warmup`` (50) untimed transactions of each kind
   (process caches, statement plans, first page reads), the three runs of 2–3 take turns in
   blocks of ``--block`` (100) transactions, in a rotating order: a change of the machine's
   load during the run then weighs on the three figures alike, so their ratios stay
   comparable;
4. the inbox query of an operator (``queries.inbox_for`` first page of 50, rendered to a list
   with time left) repeated ``--inbox`` times: server time p50/p95.

Last line (SQLite figures, the embedded default the targets are set for):
``completions_per_s=N raw_per_s=N ratio=R inbox_p95_ms=N``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
COMPLETABLE = ("kelengkapan", "entri-siak", "tte", "cetak", "serah")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q / 100))]


def worker(args: argparse.Namespace) -> dict[str, float]:
    """Build the database and measure; runs in a child process with its own settings."""
    data_dir = tempfile.mkdtemp(prefix="sipadu-bench-engine-")
    os.environ["SIPADU_DATA_DIR"] = data_dir
    try:
        return _measure(args)
    finally:
        if args.keep:
            print(f"kept {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _measure(args: argparse.Namespace) -> dict[str, float]:
    os.environ["SIPADU_HTTPS"] = "0"
    os.environ["SIPADU_JOBS_IMMEDIATE"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "sipadu.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from sipadu.core.models import Role, User
    from sipadu.core.services import ensure_office, ensure_role, grant_role
    from sipadu.sop import actions
    from sipadu.sop.actions import queue_role_of
    from sipadu.sop.definitions_sync import sync_definitions
    from sipadu.sop.models import Case, SopDefinition, Task, TaskState
    from sipadu.sop.queries import inbox_for
    from sipadu.sop.sla import annotate_urgency, calendar_for, standard_for

    log = print if args.verbose else (lambda *a, **k: None)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    sync_definitions()
    office = ensure_office("balangan", "Dinas Dukcapil Kabupaten Balangan", "63.11")
    for code, boss in [
        ("kepala-dinas", None),
        ("kabid-pelayanan", "kepala-dinas"),
        ("kasi-pelayanan", "kabid-pelayanan"),
        ("operator-layanan", "kasi-pelayanan"),
        ("operator-siak", "kasi-pelayanan"),
    ]:
        ensure_role(code, code, supervisor=boss)
    users: dict[str, list[User]] = {}
    for role in Role.objects.all():
        users[role.code] = []
        for i in range(5):
            user = User.objects.create_user(username=f"{role.code}-{i}", password=None)
            grant_role(user, office, role)
            users[role.code].append(user)
    definition = SopDefinition.objects.select_related("current").get(code="dik-jamila-mewa")
    revision = definition.current
    assert revision is not None
    sop = revision.sop
    calendar = calendar_for(office)
    now = timezone.now()
    log(f"setup {time.perf_counter() - t0:.1f}s")

    # Build the open tasks with bulk inserts (the build is not what is measured).
    t0 = time.perf_counter()
    batch = 5000
    activities = sop.activities
    for start in range(0, args.tasks, batch):
        stop = min(args.tasks, start + batch)
        cases = [
            Case(
                reference=f"BENCH-{i:07d}",
                definition=definition,
                revision=revision,
                office=office,
                started_at=now - dt.timedelta(minutes=i % 40000),
                subject_label="bench",
            )
            for i in range(start, stop)
        ]
        Case.objects.bulk_create(cases)
        tasks = []
        for case, i in zip(cases, range(start, stop), strict=True):
            activity = activities[i % len(activities)]
            began = now - dt.timedelta(minutes=(i * 7) % 43200)
            queue_role, external = queue_role_of(sop, activity)
            standard = standard_for(activity, calendar, began)
            tasks.append(
                Task(
                    case=case,
                    office=office,
                    activity_id=activity.id,
                    role_code=sop.role_of(activity.id),
                    queue_role=queue_role,
                    external=external,
                    started_at=began,
                    due_at=standard.due_at,
                    standard_seconds=standard.seconds,
                )
            )
        Task.objects.bulk_create(tasks)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    build_s = time.perf_counter() - t0
    log(f"built {args.tasks} open tasks in {build_s:.1f}s")

    # Claim the tasks the two timed runs will finish (actions first, raw SQL second).
    picks = list(
        Task.objects.filter(activity_id__in=COMPLETABLE, state=TaskState.OPEN)
        .order_by("id")
        .values_list("pk", "role_code")[: 3 * (args.completions + args.warmup)]
    )
    by_role: dict[str, list[int]] = {}
    for pk, role in picks:
        by_role.setdefault(role, []).append(pk)
    owner: dict[int, User] = {}
    for role, pks in by_role.items():
        for n, pk in enumerate(pks):
            owner[pk] = users[role][n % len(users[role])]
        for user in users[role]:
            mine = [pk for pk in pks if owner[pk] == user]
            for s in range(0, len(mine), 900):
                Task.objects.filter(pk__in=mine[s : s + 900]).update(
                    state=TaskState.CLAIMED, assignee=user, claimed_at=now
                )
    # The first --warmup of each list run untimed (caches, plans, first page reads).
    total = args.completions + args.warmup
    action_all = [pk for pk, _r in picks[0::3]][:total]
    runtime_all = [pk for pk, _r in picks[1::3]][:total]
    raw_all = [pk for pk, _r in picks[2::3]][:total]
    action_picks, runtime_picks, raw_picks = (
        action_all[args.warmup :],
        runtime_all[args.warmup :],
        raw_all[args.warmup :],
    )
    if connection.vendor == "sqlite":
        # Start every measurement with an empty write-ahead log: copying the build's pages
        # back into the database is not what is measured.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    from sipadu.sop import handlers

    def run_actions(pks: list[int]) -> float:
        t0 = time.perf_counter()
        for pk in pks:
            actions.complete(owner[pk], pk, output="ok")
        return time.perf_counter() - t0

    # The runtime alone: the same completions without the domain apps' step handlers
    # (layanan's document-request checks), to tell the runtime's cost from theirs.
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()

    def run_runtime(pks: list[int]) -> float:
        saved = (dict(handlers._checks), dict(handlers._actions))
        handlers._checks.clear()
        handlers._actions.clear()
        try:
            if profiler is not None:
                profiler.enable()
            t0 = time.perf_counter()
            for pk in pks:
                actions.complete(owner[pk], pk, output="ok")
            return time.perf_counter() - t0
        finally:
            if profiler is not None:
                profiler.disable()
            handlers._checks.update(saved[0])
            handlers._actions.update(saved[1])

    # The raw SQL reference: the same transition as one UPDATE and two INSERTs.
    rows = {
        t.pk: t
        for t in Task.objects.filter(pk__in=raw_all).only(
            "pk", "case_id", "assignee_id", "activity_id"
        )
    }
    later = now + dt.timedelta(minutes=5)
    task_cols = (
        "case_id, office_id, activity_id, role_code, queue_role, external, state, "
        "started_at, due_at, standard_seconds, breached, outcome, output, notes, "
        "return_reason, on_behalf_of, previous_id"
    )
    event_cols = "case_id, task_id, kind, at, actor_id, activity_id, on_behalf_of, text, data"
    ph = "%s"
    update_sql = (
        f"UPDATE sop_task SET state='done', completed_at={ph}, completed_by_id={ph}, "
        f"output={ph} WHERE id={ph} AND state='claimed' AND assignee_id={ph}"
    )
    task_sql = f"INSERT INTO sop_task ({task_cols}) VALUES ({', '.join([ph] * 17)})"
    event_sql = f"INSERT INTO sop_caseevent ({event_cols}) VALUES ({', '.join([ph] * 9)})"

    def run_raw(pks: list[int]) -> float:
        t0 = time.perf_counter()
        for pk in pks:
            task = rows[pk]
            # Django stores a UUID as 32 hex characters on SQLite and as uuid on PostgreSQL.
            assignee = task.assignee_id.hex if connection.vendor == "sqlite" else task.assignee_id
            with transaction.atomic(), connection.cursor() as cursor:
                stamp = timezone.now()
                cursor.execute(update_sql, [stamp, assignee, "ok", pk, assignee])
                cursor.execute(
                    task_sql,
                    [
                        task.case_id,
                        office.pk,
                        "periksa-draft",
                        "kasi-pelayanan",
                        "kasi-pelayanan",
                        False,
                        "open",
                        stamp,
                        later,
                        600,
                        False,
                        "",
                        "",
                        "",
                        "",
                        "",
                        pk,
                    ],
                )
                cursor.execute(
                    event_sql,
                    [
                        task.case_id,
                        pk,
                        "completed",
                        stamp,
                        assignee,
                        task.activity_id,
                        "",
                        "",
                        "{}",
                    ],
                )
        return time.perf_counter() - t0

    # The three runs take turns in blocks (in a rotating order), so a change of the machine's
    # load during the run weighs on all three alike and the ratios stay comparable.
    spent = {"actions": 0.0, "runtime": 0.0, "raw": 0.0}
    runners = [
        ("actions", run_actions, action_picks),
        ("runtime", run_runtime, runtime_picks),
        ("raw", run_raw, raw_picks),
    ]
    block = max(1, args.block)
    run_actions(action_all[: args.warmup])
    run_runtime(runtime_all[: args.warmup])
    run_raw(raw_all[: args.warmup])
    for n, start in enumerate(range(0, args.completions, block)):
        turn = n % len(runners)
        for name, run, pks in runners[turn:] + runners[:turn]:
            spent[name] += run(pks[start : start + block])
    if profiler is not None:
        profiler.dump_stats(f"{args.profile}.{connection.vendor}")
    action_s, runtime_s, raw_s = spent["actions"], spent["runtime"], spent["raw"]
    completions_per_s = len(action_picks) / action_s
    raw_per_s = len(raw_picks) / raw_s
    log(f"actions: {len(action_picks)} completions in {action_s:.2f}s")
    log(f"runtime alone: {len(runtime_picks)} completions in {runtime_s:.2f}s")
    assert Task.objects.filter(pk__in=raw_picks, state=TaskState.DONE).count() == len(raw_picks)
    log(f"raw SQL: {len(raw_picks)} transitions in {raw_s:.2f}s")

    # The inbox: an operator's first page among the open tasks.
    operator = users["operator-layanan"][4]
    queue = Task.objects.filter(queue_role="operator-layanan", state=TaskState.OPEN).count()
    samples = []
    for _i in range(args.inbox):
        t0 = time.perf_counter()
        page = annotate_urgency(list(inbox_for(operator, office)[:50]))
        samples.append((time.perf_counter() - t0) * 1000)
        assert len(page) == 50
    page_sql, page_params = inbox_for(operator, office)[:50].query.sql_with_params()
    explain = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(explain + page_sql, page_params)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    log(f"inbox plan:\n{plan}")
    sorted_all = "TEMP B-TREE FOR ORDER BY" in plan or "Sort Key" in plan
    open_tasks = Task.objects.filter(state__in=["open", "claimed"]).count()
    result = {
        "backend": connection.vendor,
        "open_tasks": open_tasks,
        "operator_queue": queue,
        "build_s": round(build_s, 1),
        "completions": len(action_picks),
        "completions_per_s": round(completions_per_s),
        "runtime_only_per_s": round(len(runtime_picks) / runtime_s),
        "raw_per_s": round(raw_per_s),
        "ratio": round(completions_per_s / raw_per_s, 3),
        "inbox_p50_ms": round(statistics.median(samples), 2),
        "inbox_p95_ms": round(_percentile(samples, 95), 2),
        "inbox_index": "task_inbox" in plan,
        "inbox_sorts_queue": sorted_all,
    }
    if connection.vendor == "sqlite":
        result["sqlite_version"] = connection.Database.sqlite_version
    return result


def child(backend: str, args: argparse.Namespace, pg_url: str | None) -> dict[str, float]:
    """Run the worker for one backend in a fresh interpreter (settings are per process)."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if backend == "postgres":
        assert pg_url
        env["DATABASE_URL"] = pg_url
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--tasks",
        str(args.tasks),
        "--completions",
        str(args.completions),
        "--inbox",
        str(args.inbox),
        "--block",
        str(args.block),
        "--warmup",
        str(args.warmup),
    ]
    if args.verbose:
        cmd.append("--verbose")
    if args.keep:
        cmd.append("--keep")
    if args.profile:
        cmd += ["--profile", args.profile]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    if args.verbose:
        sys.stderr.write(out.stdout)
        sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def scratch_database(url: str) -> tuple[str, str]:
    """Create a scratch database on the server of ``url``; returns (its URL, its name)."""
    import psycopg

    name = f"sipadu_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer completions and samples")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--completions", type=int, default=None)
    parser.add_argument("--inbox", type=int, default=None, help="inbox samples")
    parser.add_argument(
        "--block", type=int, default=100, help="completions per turn of the three runs"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="untimed transactions of each run first"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to measure too ('' to skip)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--profile",
        default="",
        help="write a cProfile of the runtime-only completions to FILE.<backend>",
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite data directory")
    args = parser.parse_args()
    args.completions = args.completions or (2_000 if args.quick else 10_000)
    args.inbox = args.inbox or (200 if args.quick else 1_000)
    if args.worker:
        print(json.dumps(worker(args)))
        return
    print(machine.reference(), file=sys.stderr, flush=True)

    print(
        f"# bench/engine.py {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()}: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    results = {"sqlite": child("sqlite", args, None)}
    if args.pg:
        try:
            url, name = scratch_database(args.pg)
        except Exception as exc:
            print(f"# PostgreSQL skipped: {exc}")
        else:
            try:
                results["postgres"] = child("postgres", args, url)
            finally:
                drop_database(args.pg, name)
    for backend, r in results.items():
        print(f"{backend}: " + " ".join(f"{k}={v}" for k, v in r.items()))
    s = results["sqlite"]
    print(
        f"completions_per_s={s['completions_per_s']} raw_per_s={s['raw_per_s']} "
        f"ratio={s['ratio']} inbox_p95_ms={s['inbox_p95_ms']}"
    )


if __name__ == "__main__":
    main()

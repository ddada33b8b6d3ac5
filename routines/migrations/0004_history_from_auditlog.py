"""Carry the change history django-auditlog recorded into simple-history's tables.

Until this release two libraries recorded history: simple-history (full copies of
each article revision) and django-auditlog (a field-by-field diff per save of
patients, plans, plan steps and articles). Only simple-history stays. Each
auditlog entry of a patient, plan or plan step becomes one historical row with
the same date and user: auditlog kept only the fields that changed, so the
full copies are rebuilt backwards from the row as it is now (a deleted
object's last entry lists every value it had). Article entries are dropped:
simple-history already holds those revisions.

django-auditlog is no longer installed, so its LogEntry model is not in the
app registry and no migration may depend on its migrations. Its table is read
through `LegacyLogEntry`, an unmanaged model that exists only inside this
migration (no table is created or dropped for it). A database that never had
django-auditlog has no such table: then there is nothing to convert. The table
itself is left as it was (see the README, "Change history").
"""

import datetime as dt
import json
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import migrations, models

from portal.roles import sync_roles

LEGACY_TABLE = "auditlog_logentry"
# auditlog's LogEntry.Action values; ACCESS (3) records a read, not a change.
HISTORY_TYPES = {0: "+", 1: "~", 2: "-"}
CREATE, DELETE = 0, 2
CONVERTED = [("portal", "patient"), ("routines", "plan"), ("routines", "planstep")]


def history_from_auditlog(apps, schema_editor):
    if LEGACY_TABLE not in schema_editor.connection.introspection.table_names():
        return
    db = schema_editor.connection.alias
    LegacyLogEntry = apps.get_model("routines", "LegacyLogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    report = []
    for app_label, model_name in CONVERTED:
        content_type = ContentType.objects.using(db).filter(app_label=app_label, model=model_name).first()
        if content_type is None:
            continue
        entries = LegacyLogEntry.objects.using(db).filter(
            content_type_id=content_type.pk, action__in=list(HISTORY_TYPES)
        )
        model = apps.get_model(app_label, model_name)
        converted, skipped = _convert(model, apps.get_model(app_label, f"Historical{model.__name__}"), entries, db)
        report.append(f"{converted} {model_name} entries converted" + (f", {skipped} skipped" if skipped else ""))
    article = ContentType.objects.using(db).filter(app_label="education", model="article").first()
    if article is not None:
        duplicates = LegacyLogEntry.objects.using(db).filter(content_type_id=article.pk).count()
        report.append(f"{duplicates} article entries left out (the article history already holds them)")
    print(f"\n  django-auditlog history: {'; '.join(report)}.")


def _convert(model, history_model, entries, db) -> tuple[int, int]:
    """Write `history_model` rows for `entries`; return (entries converted, entries skipped).

    An object that is gone and whose last entry is not its deletion cannot be
    rebuilt: its entries are skipped.
    """
    fields = [f for f in history_model._meta.concrete_fields if not f.name.startswith("history_")]
    by_object = defaultdict(list)
    for entry in entries.order_by("timestamp", "id"):
        by_object[entry.object_pk].append(entry)
    pks = {key: model._meta.pk.to_python(key) for key in by_object}
    attnames = [f.attname for f in fields]
    current, recorded_since = {}, {}
    pk_list = list(pks.values())
    for start in range(0, len(pk_list), 500):
        chunk = pk_list[start : start + 500]
        for row in model.objects.using(db).filter(pk__in=chunk).values(*attnames):
            current[row[model._meta.pk.attname]] = row
        # Saves simple-history recorded itself (both libraries ran for a while) are not copied twice.
        recorded = history_model.objects.using(db).filter(id__in=chunk).values("id")
        recorded_since.update((row["id"], row["at"]) for row in recorded.annotate(at=models.Min("history_date")))
    rows, skipped = [], 0
    for key, object_entries in by_object.items():
        pk = pks[key]
        snapshots = _snapshots(fields, object_entries, current.get(pk), recorded_since=recorded_since.get(pk))
        if snapshots is None:
            skipped += len(object_entries)
            continue
        rows += snapshots
    rows.sort(key=lambda pair: (pair[0].timestamp, pair[0].pk))  # history ids follow time, as if recorded live
    history_model.objects.using(db).bulk_create(
        [
            history_model(
                **values,
                history_date=entry.timestamp,
                history_type=HISTORY_TYPES[entry.action],
                history_user_id=entry.actor_id,
            )
            for entry, values in rows
        ],
        batch_size=500,
    )
    return len(rows), skipped


def _snapshots(fields, entries, current: dict | None, *, recorded_since=None) -> list[tuple] | None:
    """The full copy of one object that each of its entries (oldest first) leaves, or None if it cannot be rebuilt.

    Entries from `recorded_since` on are undone on the way back but yield no copy: simple-history has those.

    Walks back from `current` (the row now; None if the object is gone), undoing
    one entry at a time: an entry's old values give the copy before it. A
    deletion's entry lists every value the object had (auditlog compared it
    with nothing; a null left out, and a field added since then takes its default),
    so a deleted object starts from there.
    """
    snapshots = []
    state = current
    for entry in reversed(entries):
        changes = _changes(entry, fields)
        if entry.action == DELETE:
            state = _applied({f.attname: None if f.null else f.get_default() for f in fields}, changes, old=True)
        elif state is None:  # gone without a deletion entry (no serialized copies were kept): nothing to start from
            return None
        else:
            state = _applied(state, changes, old=False)  # what the entry says wins over what was worked out
        if recorded_since is None or entry.timestamp < recorded_since:
            snapshots.append((entry, dict(state)))  # a deletion's row holds the values the object had
        if entry.action == CREATE:
            state = None
        elif entry.action != DELETE:
            state = _applied(state, changes, old=True)
    snapshots.reverse()
    return snapshots


def _changes(entry, fields) -> dict:
    """{field: (old, new)} of `entry`, for the fields the history keeps (reverse relations and secrets left out)."""
    changes = entry.changes
    if not changes and entry.changes_text:  # rows written before auditlog stored JSON
        try:
            changes = json.loads(entry.changes_text)
        except ValueError:
            changes = None
    by_name = {f.name: f for f in fields}
    return {by_name[name]: pair for name, pair in (changes or {}).items() if name in by_name and len(pair) == 2}


def _applied(state: dict, changes: dict, *, old: bool) -> dict:
    state = dict(state)
    for field, (before, after) in changes.items():
        try:
            state[field.attname] = _value(field, before if old else after)
        except ValidationError:
            pass  # a value this field no longer accepts: keep the later one
    return state


def _value(field, raw):
    """A value as auditlog stored it (text; "None" for null; datetimes naive in UTC) as the field's Python value."""
    if raw is None or (raw == "None" and field.null):
        return None
    value = field.to_python(raw)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0006_historicalpatient"),
        ("routines", "0003_historicalplan_historicalplanstep"),
    ]

    operations = [
        migrations.CreateModel(
            name="LegacyLogEntry",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("content_type_id", models.IntegerField()),
                ("object_pk", models.CharField(max_length=255)),
                ("action", models.PositiveSmallIntegerField()),
                ("changes", models.JSONField(null=True)),
                ("changes_text", models.TextField(blank=True)),
                ("actor_id", models.IntegerField(null=True)),
                ("timestamp", models.DateTimeField()),
            ],
            options={"managed": False, "db_table": LEGACY_TABLE},
        ),
        migrations.RunPython(history_from_auditlog, migrations.RunPython.noop),
        migrations.DeleteModel(name="LegacyLogEntry"),
        # After the DeleteModel: sync_roles creates permissions for every model in the state.
        # The Dermatologist group loses auditlog's "view log entry"; the history shows on each record.
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]

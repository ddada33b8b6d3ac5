"""The access log's growth as a policy: retention (archive, verify, then delete) and exports for auditors.

The log stays append-only for everyone in the admin; what leaves it as a file is itself logged.
"""

import csv
import datetime as dt
import gzip
import io
import stat
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from portal.models import AccessLog, AccessLogQuerySet, csv_cell
from tests.factories import AccessLogFactory, UserFactory

pytestmark = pytest.mark.usefixtures("frozen")

CHANGELIST = reverse("admin:portal_accesslog_changelist")
DAY = dt.timedelta(days=1)


def days_ago(n: int) -> dt.datetime:
    return timezone.now() - n * DAY


def prune(tmp_path, *args) -> str:
    out = io.StringIO()
    call_command("prune_access_log", "--archive-dir", str(tmp_path), *args, stdout=out)
    return out.getvalue()


def archived(tmp_path) -> list[dict]:
    """Every row in the archive files, as dicts by column."""
    rows = []
    for path in sorted(tmp_path.glob("access-log-*.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as archive:
            rows += list(csv.DictReader(archive))
    return rows


def export(client, data) -> tuple[int, list[list[str]]]:
    """POST the export action to the changelist; the status and, for a CSV answer, its rows without the header."""
    response = client.post(CHANGELIST + data.pop("query", ""), {"action": "export_csv", **data})
    if response.get("Content-Type", "").startswith("text/csv"):
        assert response.streaming
        text = b"".join(response.streaming_content).decode()
        return response.status_code, list(csv.reader(io.StringIO(text)))[1:]
    return response.status_code, []


def exports_logged() -> int:
    return AccessLog.objects.filter(what__startswith="Exported access log").count()


# --- Retention -------------------------------------------------------------------


@override_settings(ACCESS_LOG_RETENTION_DAYS=30)
def test_it_archives_then_deletes_only_rows_older_than_the_retention(alice, tmp_path):
    old = AccessLogFactory(patient=alice, at=days_ago(31), what="Plan page")
    kept = [AccessLogFactory(patient=alice, at=days_ago(29)), AccessLogFactory(patient=alice)]
    out = prune(tmp_path)
    assert "Deleted 1 access-log rows" in out
    assert list(AccessLog.objects.order_by("pk")) == kept
    (row,) = archived(tmp_path)
    assert (row["id"], row["patient chart number"], row["what"], row["user"]) == (
        str(old.pk),
        "C-1001",
        "Plan page",
        "alice",
    )
    (path,) = tmp_path.glob("*.csv.gz")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # who looked at whom: not for other users of the machine


@override_settings(ACCESS_LOG_RETENTION_DAYS=30)
def test_the_archive_keeps_each_value_exactly_as_stored(alice, tmp_path):
    """Spreadsheet exports neutralise formula starts; the archive is the record itself, so it does not."""
    AccessLogFactory(patient=alice, at=days_ago(31), what="=SUM(1)", path="+1")
    prune(tmp_path)
    (row,) = archived(tmp_path)
    assert (row["what"], row["path"]) == ("=SUM(1)", "+1")


@override_settings(ACCESS_LOG_RETENTION_DAYS=30)
def test_it_works_in_batches_and_loses_no_row(alice, bob, tmp_path):
    old = {AccessLogFactory(patient=patient, at=days_ago(40 + n)).pk for n in range(3) for patient in (alice, bob)}
    AccessLogFactory(patient=alice)
    assert "Deleted 6 access-log rows" in prune(tmp_path, "--batch-size", "4")
    assert len(list(tmp_path.glob("*.csv.gz"))) == 2
    assert {int(row["id"]) for row in archived(tmp_path)} == old
    assert AccessLog.objects.count() == 1


@override_settings(ACCESS_LOG_RETENTION_DAYS=30)
def test_a_run_killed_between_archive_and_delete_loses_nothing_when_run_again(alice, tmp_path):
    old = {AccessLogFactory(patient=alice, at=days_ago(60 + n)).pk for n in range(5)}
    real = AccessLogQuerySet.delete_archived
    calls = []

    def dies_on_the_second_batch(queryset, ids):
        calls.append(ids)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if the machine went down after writing the second file
        return real(queryset, ids)

    with mock.patch.object(AccessLogQuerySet, "delete_archived", dies_on_the_second_batch):
        with pytest.raises(KeyboardInterrupt):
            prune(tmp_path, "--batch-size", "2")
    assert AccessLog.objects.count() == 3  # the first batch went, the second is still here
    assert "Deleted 3 access-log rows" in prune(tmp_path, "--batch-size", "2")
    assert {int(row["id"]) for row in archived(tmp_path)} == old
    assert not AccessLog.objects.exists()


@override_settings(ACCESS_LOG_RETENTION_DAYS=30)
def test_a_dry_run_deletes_and_archives_nothing(alice, tmp_path):
    AccessLogFactory(patient=alice, at=days_ago(90))
    AccessLogFactory(patient=alice)
    assert "1 access-log rows older than" in prune(tmp_path, "--dry-run")
    assert AccessLog.objects.count() == 2
    assert not list(tmp_path.iterdir())


def test_it_keeps_everything_by_default(alice, tmp_path):
    AccessLogFactory(patient=alice, at=days_ago(365 * 20))
    assert "kept in full" in prune(tmp_path)
    assert AccessLog.objects.count() == 1


# --- Export from the admin ----------------------------------------------------------


def test_it_exports_the_selected_rows_as_csv_and_logs_the_export(derm_client, alice, bob):
    rows = [AccessLogFactory(patient=patient, what=f"Row {n}") for n, patient in enumerate((alice, bob, alice))]
    status, exported = export(derm_client, {"_selected_action": [rows[0].pk, rows[1].pk]})
    assert status == 200
    assert [(r[0], r[4], r[5]) for r in exported] == [
        (str(rows[0].pk), "C-1001", "Row 0"),
        (str(rows[1].pk), "C-1002", "Row 1"),
    ]
    logged = AccessLog.objects.get(what__startswith="Exported access log")
    assert logged.user.username == "dana" and logged.action == AccessLog.PRINT and "2 rows" in logged.what


def test_it_exports_every_row_the_filters_match_with_select_all(derm_client, alice):
    printed = {AccessLogFactory(patient=alice, action=AccessLog.PRINT).pk for _ in range(3)}
    viewed = AccessLogFactory(patient=alice, action=AccessLog.VIEW)
    status, exported = export(
        derm_client,
        {"query": "?action__exact=print", "_selected_action": [min(printed)], "select_across": "1"},
    )
    assert status == 200
    assert {int(r[0]) for r in exported} == printed and viewed.pk not in {int(r[0]) for r in exported}
    assert "action__exact=print" in AccessLog.objects.get(what__startswith="Exported access log").what


def test_it_streams_the_export_in_as_many_queries_for_many_rows_as_for_few(
    derm_client, alice, django_assert_max_num_queries
):
    few = [AccessLogFactory(patient=alice).pk for _ in range(2)]
    with django_assert_max_num_queries(20) as few_queries:
        assert len(export(derm_client, {"_selected_action": few})[1]) == 2
    many = [AccessLogFactory(patient=alice).pk for _ in range(40)]
    with django_assert_max_num_queries(len(few_queries)):
        assert len(export(derm_client, {"_selected_action": many})[1]) == 40


def test_the_front_desk_and_patients_cannot_export(client, desk, alice):
    row = AccessLogFactory(patient=alice)
    for user in (desk, alice.user):
        client.force_login(user)
        status, exported = export(client, {"_selected_action": [row.pk]})
        assert status in (302, 403, 404) and exported == []
    assert exports_logged() == 0


def test_staff_who_may_read_the_log_but_are_no_dermatologist_cannot_export(client, alice):
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(content_type__app_label="portal", codename="view_accesslog"))
    client.force_login(reader)
    row = AccessLogFactory(patient=alice)
    assert client.get(CHANGELIST).status_code == 200
    assert export(client, {"_selected_action": [row.pk]})[1] == []
    assert exports_logged() == 0


def test_it_stays_append_only_in_the_admin_even_for_a_superuser(admin_client, alice):
    row = AccessLogFactory(patient=alice, what="Today page")
    assert admin_client.get(reverse("admin:portal_accesslog_add")).status_code == 403
    change = reverse("admin:portal_accesslog_change", args=[row.pk])
    assert admin_client.post(change, {"what": "Nothing to see"}).status_code == 403
    assert (
        admin_client.post(reverse("admin:portal_accesslog_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    )
    admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    row.refresh_from_db()
    assert row.what == "Today page"


def test_it_neutralises_cells_a_spreadsheet_would_run(derm_client, alice):
    row = AccessLogFactory(patient=alice, what='=HYPERLINK("https://evil.example","open")', path="+1+1")
    alice.chart_number = "@SUM(1)"
    alice.save()
    _, exported = export(derm_client, {"_selected_action": [row.pk]})
    (cells,) = exported
    assert cells[4] == "'@SUM(1)" and cells[5].startswith("'=HYPERLINK") and cells[6] == "'+1+1"
    for value in ("=1", "+1", "-1", "@x", "\t=1", "\r=1"):
        assert csv_cell(value) == "'" + value
    assert csv_cell("Today page") == "Today page" and csv_cell(None) == ""


# --- Export for auditors ------------------------------------------------------------


def test_the_auditors_command_exports_one_patients_rows_since_a_date(alice, bob):
    before = AccessLogFactory(patient=alice, at=days_ago(40))
    since = [AccessLogFactory(patient=alice, at=days_ago(n)) for n in (20, 1)]
    AccessLogFactory(patient=bob, at=days_ago(5))
    out = io.StringIO()
    first = (timezone.localdate() - 30 * DAY).isoformat()
    call_command("export_access_log", "--patient", "c-1001", "--since", first, stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][0] == "id" and [int(r[0]) for r in rows[1:]] == [row.pk for row in since]
    assert before.pk not in {int(r[0]) for r in rows[1:]}
    logged = AccessLog.objects.get(what__startswith="Exported access log")
    assert logged.patient == alice and logged.user is None


def test_the_auditors_command_refuses_bad_input_and_logs_nothing(alice):
    with pytest.raises(CommandError, match="No patient"):
        call_command("export_access_log", "--patient", "C-9999", "--since", "2027-01-01")
    with pytest.raises(CommandError, match="Not a date"):
        call_command("export_access_log", "--patient", "C-1001", "--since", "last week")
    with pytest.raises(CommandError, match="before"):
        call_command("export_access_log", "--patient", "C-1001", "--since", "2027-03-01", "--until", "2027-02-01")
    assert exports_logged() == 0

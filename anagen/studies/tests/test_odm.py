"""The CDISC ODM 1.3.2 export: valid against the schema bundled with odmlib and odmlib's own
checks, every subject and every referenced OID present, the same values as the CSV dataset when
read back, the audit trail as ODM audit records, and a blinded document without the allocation."""

from __future__ import annotations

import csv
import io
import math
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone as dt_timezone
from functools import lru_cache

import pytest

from conftest import PASSWORD

from .reading_fixtures import adjudicator, evaluator2  # noqa: F401 (fixtures)
from .test_analysis import split_study, write_study  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=dt_timezone.utc)


@lru_cache(maxsize=1)
def _schema():
    from odmlib.odm_parser import ODMSchemaValidator

    return ODMSchemaValidator(standard="odm", version="1.3.2").xsd


def _document(study, *, blinded: bool) -> bytes:
    from anagen.studies.odm import build_odm, check, to_xml

    root = build_odm(study, blinded=blinded, now=NOW)
    assert check(root) == []  # odmlib: element order, OIDs defined once and every reference defined
    return to_xml(root)


def _structure_problems(xml: bytes) -> list[str]:
    """The schema, then what the schema does not check: every OID referenced is defined."""
    tree = ET.fromstring(xml)
    _schema().validate(tree)  # raises on the first error
    problems = []
    defined = {kind: {e.get("OID") for e in tree.iter(f"{{{NS['odm']}}}{kind}")}
               for kind in ("StudyEventDef", "FormDef", "ItemGroupDef", "ItemDef", "CodeList", "MeasurementUnit",
                            "User", "Location")}
    refs = {"StudyEventOID": "StudyEventDef", "FormOID": "FormDef", "ItemGroupOID": "ItemGroupDef",
            "ItemOID": "ItemDef", "CodeListOID": "CodeList", "MeasurementUnitOID": "MeasurementUnit",
            "UserOID": "User", "LocationOID": "Location"}
    for element in tree.iter():
        for attribute, kind in refs.items():
            value = element.get(attribute)
            if value is not None and value not in defined[kind]:
                problems.append(f"{element.tag} {attribute}={value} is not defined")
    return problems


def _items(xml: bytes) -> dict[str, dict]:
    """Per subject: {(event, side): {item: value}} read back from the document."""
    tree = ET.fromstring(xml)
    out = {}
    for subject in tree.iterfind(".//odm:SubjectData", NS):
        events = {}
        for event in subject.iterfind("odm:StudyEventData", NS):
            for group in event.iterfind(".//odm:ItemGroupData", NS):
                values = {i.get("ItemOID"): i.get("Value") for i in group.iterfind("odm:ItemData", NS)}
                side = values.get("IT.SIDE", "")
                events.setdefault((event.get("StudyEventOID"), side), {}).update(values)
        out[subject.get("SubjectKey")] = events
    return out


def _csv_rows(client, study) -> list[dict]:
    r = client.get(f"/studies/{study.pk}/results/dataset.csv")
    assert r.status_code == 200
    return list(csv.DictReader(io.StringIO(r.content.decode())))


@pytest.fixture
def written(quality_team, clinician, make_patient, clinic):
    from anagen.studies import services

    write_study(quality_team, clinician, make_patient, clinic, n=6)
    services.subject_screen_fail(actor=clinician, study=quality_team, patient=make_patient(clinic),
                                 reason="Takes anticoagulants")
    return quality_team


def test_the_odm_is_valid_and_holds_every_subject_and_every_oid_it_names(written):
    from anagen.studies.models import Subject

    for blinded in (False, True):
        xml = _document(written, blinded=blinded)
        assert _structure_problems(xml) == []
        keys = set(_items(xml))
        assert keys == set(Subject.objects.filter(study=written).values_list("code", flat=True))
        assert any(k.startswith("F-") for k in keys)  # the screen failure is there, with its reason
    failure = next(v for k, v in _items(xml).items() if k.startswith("F-"))
    assert failure[("SE.SCR", "")]["IT.SFRSN"] == "Takes anticoagulants"
    assert failure[("SE.SCR", "")]["IT.STATUS"] == "screen_failed"


def test_the_structural_check_fails_on_an_undefined_item():
    xml = (b'<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileOID="F" FileType="Snapshot" '
           b'CreationDateTime="2026-12-01T09:30:00+00:00" ODMVersion="1.3.2"><ClinicalData StudyOID="S" '
           b'MetaDataVersionOID="M"><SubjectData SubjectKey="S-001"><StudyEventData StudyEventOID="SE.X"/>'
           b'</SubjectData></ClinicalData></ODM>')
    assert _structure_problems(xml) == ["{http://www.cdisc.org/ns/odm/v1.3}StudyEventData StudyEventOID=SE.X is "
                                        "not defined"]


def _round_trip(xml: bytes, study, *, split: bool) -> dict[tuple, tuple]:
    """The CSV's columns rebuilt from the ODM: (subject, side, week) -> (arm, value, baseline, itt, pp, unblinded)."""
    tree = ET.fromstring(xml)
    arm_names = {i.get("CodedValue"): i.find("odm:Decode/odm:TranslatedText", NS).text
                 for i in tree.iterfind(".//odm:CodeList[@OID='CL.ARM']/odm:CodeListItem", NS)}
    arms = {a.is_placebo: a.name for a in study.arms.all()}
    out = {}
    for subject, events in _items(xml).items():
        screening = events[("SE.SCR", "")]
        if "IT.RANDDT" not in screening:
            continue
        sides = ["left", "right"] if split else [""]
        for side in sides:
            if split:
                active = screening.get("IT.ACTSIDE")
                arm = None if active is None else arms[side != active]
            else:
                arm = arm_names.get(screening.get("IT.ARM"))
            baseline = events.get(("SE.W0", side), {}).get("IT.DENS")
            for (event, event_side), values in events.items():
                if not event.startswith("SE.W") or event == "SE.W0" or event_side != side:
                    continue
                out[(subject, side, int(event[4:]))] = (
                    arm, float(values["IT.DENS"]) if "IT.DENS" in values else None,
                    None if baseline is None else float(baseline),
                    screening["IT.ITT"], screening["IT.PP"], screening["IT.UNBL"])
    return out


def _compare(csv_rows, odm_rows, *, arm_column: str | None):
    checked = 0
    for row in csv_rows:
        key = (row["subject"], row["side"], int(row["visit_week"]))
        if not row["value"]:
            assert key not in odm_rows or odm_rows[key][1] is None
            continue
        arm, value, baseline, itt, pp, unblinded = odm_rows[key]
        assert value == pytest.approx(float(row["value"]), abs=1e-4)
        assert baseline == pytest.approx(float(row["baseline"]), abs=1e-4)
        assert (itt, pp, unblinded) == (row["itt"], row["per_protocol"], row["unblinded"])
        if arm_column:
            assert arm == row[arm_column]
        else:
            assert arm is None
        checked += 1
    assert checked == sum(1 for v in odm_rows.values() if v[1] is not None) and checked > 0


def test_the_odm_read_back_gives_the_csv_dataset(written, login, unblinded_statistician, statistician, clinician):
    from anagen.studies import services
    from anagen.studies.models import Subject

    subject = Subject.objects.filter(study=written, code="S-002").get()
    services.subject_end(actor=clinician, subject=subject, status="withdrawn", on=date.today(), reason="Moved abroad")
    full = _round_trip(_document(written, blinded=False), written, split=False)
    _compare(_csv_rows(login(unblinded_statistician), written), full, arm_column="arm")
    blinded = _round_trip(_document(written, blinded=True), written, split=False)
    _compare(_csv_rows(login(statistician), written), blinded, arm_column=None)


def test_split_scalp_odm_round_trip_per_side(split_study, clinician, make_patient, clinic, login,
                                             unblinded_statistician):
    write_study(split_study, clinician, make_patient, clinic, n=4)
    xml = _document(split_study, blinded=False)
    assert _structure_problems(xml) == []
    rows = _round_trip(xml, split_study, split=True)
    assert {k[1] for k in rows} == {"left", "right"}
    _compare(_csv_rows(login(unblinded_statistician), split_study), rows, arm_column="side_arm")


def _audit(xml: bytes):
    tree = ET.fromstring(xml)
    return [{"id": r.get("ID"), "user": r.find("odm:UserRef", NS).get("UserOID"),
             "location": r.find("odm:LocationRef", NS).get("LocationOID"),
             "when": r.find("odm:DateTimeStamp", NS).text,
             "reason": getattr(r.find("odm:ReasonForChange", NS), "text", None),
             "source": r.find("odm:SourceID", NS).text}
            for r in tree.iterfind(".//odm:AuditRecords/odm:AuditRecord", NS)]


def test_the_audit_trail_is_in_the_odm_with_who_where_when_and_why(written, clinician, clinic):
    from auditlog.models import LogEntry

    from anagen.audit.context import acting_as
    from anagen.studies import services
    from anagen.studies.models import Subject

    subject = Subject.objects.get(study=written, code="S-003")
    with acting_as(clinician):
        services.subject_end(actor=clinician, subject=subject, status="lost_to_follow_up", on=date.today(),
                             reason="No answer to three calls")
    xml = _document(written, blinded=False)
    records = _audit(xml)
    entry = LogEntry.objects.filter(object_pk=str(subject.pk), content_type__model="subject",
                                    content_type__app_label="studies").latest("pk")
    mine = next(r for r in records if r["id"] == f"AR.{entry.pk}")
    assert mine["user"] == f"USR.{clinician.pk}" and mine["location"] == f"LOC.{clinic.slug}"
    assert mine["reason"] == "No answer to three calls"
    assert "S-003" in mine["source"] and "status" in mine["source"] and "No answer" not in mine["source"]
    assert datetime.fromisoformat(mine["when"]) == entry.timestamp
    users = {u.get("OID"): u.find("odm:FullName", NS).text for u in ET.fromstring(xml).iterfind(".//odm:User", NS)}
    assert users[f"USR.{clinician.pk}"] == clinician.get_full_name()
    # Every density carries the audit record of the measurement it comes from.
    values = ET.fromstring(xml).iterfind(".//odm:ItemData[@ItemOID='IT.DENS']", NS)
    assert all(v.find("odm:AuditRecord", NS) is not None for v in values)
    # The whole trail of the subjects' records, in time order.
    stamps = [datetime.fromisoformat(r["when"]) for r in records]
    assert stamps == sorted(stamps) and len(records) > 6 * 8


def test_the_blinded_odm_has_no_allocation_and_does_not_change_with_it(written, clinician):
    from anagen.audit.context import acting_as
    from anagen.studies import services
    from anagen.studies.models import Allocation, Subject
    from anagen.studies.randomization import allocation_correct

    subject = Subject.objects.get(study=written, code="S-001")
    with acting_as(clinician):
        allocation_correct(actor=clinician, allocation=subject.allocation, decision="Analyse as randomized",
                           reason="Given the Saline placebo kit by mistake")
        services.code_break(actor=clinician, subject=subject, reason="Severe scalp reaction, needs the product")
    full = _document(written, blinded=False).decode()
    blinded = _document(written, blinded=True).decode()
    arms = list(written.arms.all())
    # The unblinded document has them (so the checks below can fail).
    assert 'ItemOID="IT.ARM"' in full and 'OID="CL.ARM"' in full and "Given the Saline placebo kit" in full
    assert "Severe scalp reaction" in full
    for text in ('ItemOID="IT.ARM"', 'OID="CL.ARM"', 'FormOID="F.RAND"', "IT.RANDNO", "IT.ACTSIDE", "IT.EXLOT",
                 "IT.EXMOD", "Given the Saline placebo kit", "Severe scalp reaction", "allocationcorrection",
                 "codebreak", "arm_code", *(a.name for a in arms), *(f'Value="{a.code}"' for a in arms)):
        assert text not in blinded, text
    # Counterfactual: every subject's arm swapped behind the services' back gives the same bytes.
    swap = {arms[0].code: arms[1].code, arms[1].code: arms[0].code}
    originals = dict(Allocation.objects.filter(study=written).values_list("pk", "arm_code"))
    for pk, code in originals.items():
        Allocation.objects.filter(pk=pk).update(arm_code=swap[code])
    assert _document(written, blinded=True).decode() == blinded
    assert _document(written, blinded=False).decode() != full


def test_who_downloads_which_odm_page_and_api(written, login, api_client, unblinded_statistician, statistician,
                                              clinician, evaluator, coordinator, pharmacist, clinician_b):
    from anagen.audit.models import AuditEvent
    from anagen.studies.lock import analysis_unblind, study_lock

    page, api = f"/studies/{written.pk}/results/odm.xml", f"/api/v1/studies/{written.pk}/odm.xml"
    for client, url in ((login(unblinded_statistician), page), (api_client(unblinded_statistician), api)):
        r = client.get(url)
        assert r.status_code == 200 and r["Content-Type"].startswith("application/xml")
        assert "-odm-interim-" in r["Content-Disposition"] and b'ItemOID="IT.ARM"' in r.content
    for user in (statistician, clinician):
        for client, url in ((login(user), page), (api_client(user), api)):
            r = client.get(url)
            assert r.status_code == 200 and "-odm-blinded-" in r["Content-Disposition"]
            assert b"IT.ARM" not in r.content and _structure_problems(r.content) == []
    for user in (evaluator, coordinator, pharmacist):
        assert login(user).get(page).status_code == 403
        assert api_client(user).get(api).status_code == 403
    assert login(clinician_b).get(page).status_code in (403, 404)
    assert api_client(clinician_b).get(api).status_code in (403, 404)
    exports = AuditEvent.objects.filter(kind="export", subject=f"study:{written.pk}", detail__format="odm-1.3.2")
    assert sorted(e.detail["kind"] for e in exports) == ["blinded"] * 4 + ["interim"] * 2
    study_lock(actor=statistician, study=written, password=PASSWORD)
    r = login(statistician).get(page)  # locked, the analysis not yet unblinded: still the blinded document
    assert "-odm-blinded-" in r["Content-Disposition"] and b'ItemOID="IT.ARM"' not in r.content
    analysis_unblind(actor=statistician, study=written, password=PASSWORD)
    r = login(statistician).get(page)
    assert "-odm-final-" in r["Content-Disposition"] and b'ItemOID="IT.ARM"' in r.content


def test_the_dataset_and_dictionary_through_the_api_follow_the_same_rule(written, api_client,
                                                                          unblinded_statistician, statistician,
                                                                          evaluator):
    base = f"/api/v1/studies/{written.pk}"
    full = api_client(unblinded_statistician).get(f"{base}/dataset.csv")
    assert full.status_code == 200 and "arm" in full.content.decode().splitlines()[0].split(",")
    blinded = api_client(statistician).get(f"{base}/dataset.csv")
    assert "-blinded-" in blinded["Content-Disposition"]
    assert "arm" not in blinded.content.decode().splitlines()[0].split(",")
    assert "side_arm" not in api_client(statistician).get(f"{base}/dictionary.csv").content.decode()
    assert api_client(evaluator).get(f"{base}/dataset.csv").status_code == 403
    from anagen.audit.models import AuditEvent

    kinds = sorted(e.detail["kind"] for e in AuditEvent.objects.filter(kind="export", detail__format="dataset-csv"))
    assert kinds == ["blinded", "interim"]


def test_the_exports_page_lists_the_downloads_for_the_role(written, login, unblinded_statistician, statistician,
                                                           evaluator):
    url = f"/studies/{written.pk}/exports"
    full = login(unblinded_statistician).get(url).content.decode()
    assert "Unblinded exports" in full and "INTERIM" in full and f"/studies/{written.pk}/results/odm.xml" in full
    blinded = login(statistician).get(url).content.decode()
    assert "Blinded exports" in blinded and f"/studies/{written.pk}/results/odm.xml" in blinded
    assert f"/studies/{written.pk}/exports" in login(statistician).get(f"/studies/{written.pk}/").content.decode()
    assert login(evaluator).get(url).status_code == 403


def test_values_are_written_in_full_precision():
    from anagen.studies.odm import _number

    assert _number(123.456789) == "123.456789" and _number(float("nan")) is None and _number(None) is None
    assert math.isclose(float(_number(1 / 3)), 1 / 3, rel_tol=1e-9)


def test_a_study_with_no_subject_yet_exports_a_valid_document(quality_team):
    for blinded in (False, True):
        xml = _document(quality_team, blinded=blinded)
        assert _structure_problems(xml) == [] and _items(xml) == {}


def _density_audit(xml: bytes, code: str, week: int, side: str = "") -> dict:
    tree = ET.fromstring(xml)
    subject = tree.find(f".//odm:SubjectData[@SubjectKey='{code}']", NS)
    for event in subject.iterfind(f"odm:StudyEventData[@StudyEventOID='SE.W{week}']", NS):
        for group in event.iterfind(".//odm:ItemGroupData", NS):
            sides = [i.get("Value") for i in group.iterfind("odm:ItemData[@ItemOID='IT.SIDE']", NS)]
            if (sides[0] if sides else "") != side:
                continue
            r = group.find("odm:ItemData[@ItemOID='IT.DENS']/odm:AuditRecord", NS)
            return {"user": r.find("odm:UserRef", NS).get("UserOID"), "when": r.find("odm:DateTimeStamp", NS).text,
                    "source": r.find("odm:SourceID", NS).text}
    raise AssertionError(f"no density of {code} at week {week}")


def test_a_value_read_blind_is_audited_by_the_readings_signature(written, evaluator, evaluator2, adjudicator):
    from datetime import timedelta

    from anagen.studies.models import Adjudication, Reading

    from .test_analysed_readings import read_image

    first = read_image(written, "S-001", 23, [4100, 4210], [evaluator, evaluator2])
    second = read_image(written, "S-002", 23, [3000, 3900], [evaluator, evaluator2], adjudicated=3333)
    early = datetime(2026, 6, 1, 8, 0, tzinfo=dt_timezone.utc)
    readings = {r.reader_id: r for r in Reading.objects.filter(coded_image__source=first.source_image)}
    Reading.objects.filter(pk=readings[evaluator.pk].pk).update(signed_at=early)
    Reading.objects.filter(pk=readings[evaluator2.pk].pk).update(signed_at=early + timedelta(hours=3))
    adjudicated_at = early + timedelta(days=2)
    Adjudication.objects.filter(coded_image__source=second.source_image).update(adjudicator=adjudicator,
                                                                               signed_at=adjudicated_at)
    for blinded in (False, True):
        xml = _document(written, blinded=blinded)
        assert _structure_problems(xml) == []
        users = {u.get("OID"): u.find("odm:FullName", NS).text for u in ET.fromstring(xml).iterfind(".//odm:User", NS)}
        # The mean of two signed readings: the reader whose signature made it final, at that time.
        mean = _density_audit(xml, "S-001", 23)
        assert mean["user"] == f"USR.{evaluator2.pk}" and users[mean["user"]] == evaluator2.get_full_name()
        assert datetime.fromisoformat(mean["when"]) == early + timedelta(hours=3)
        assert mean["source"].startswith("blinded reading (mean of 2)")
        for reading in readings.values():
            assert f"studies.reading {reading.pk} signed by USR.{reading.reader_id}" in mean["source"]
        assert f"in place of assessments.measurement {first.pk}" in mean["source"]
        assert users[f"USR.{evaluator.pk}"] == evaluator.get_full_name()  # the first reader is named too
        # A signed adjudication: the adjudicator and the adjudication's time.
        final = _density_audit(xml, "S-002", 23)
        assert final["user"] == f"USR.{adjudicator.pk}" and datetime.fromisoformat(final["when"]) == adjudicated_at
        assert final["source"].startswith("adjudicated reading") and "studies.adjudication" in final["source"]
        # A value not read keeps the audit record of the clinic's measurement.
        clinic = _density_audit(xml, "S-003", 23)
        assert "assessments.measurement" in clinic["source"] and "reading" not in clinic["source"]


def test_adverse_events_and_deviations_are_odm_forms_masked_where_they_would_unblind(written, clinician):
    from datetime import timedelta

    from django.utils import timezone

    from anagen.studies.deviations import MASKED, deviation_close, deviation_report
    from anagen.studies.models import Subject
    from anagen.treatments.services import adverse_event_record

    subject = Subject.objects.select_related("patient", "allocation").get(study=written, code="S-002")
    randomized_on = timezone.localtime(subject.allocation.randomized_at).date()
    adverse_event_record(actor=clinician, patient=subject.patient, description="Scalp erythema at the injection sites",
                         onset_on=randomized_on + timedelta(days=3), severity=2, relation="probable", serious=False,
                         action="treated", outcome="recovered", resolved_on=randomized_on + timedelta(days=10))
    adverse_event_record(actor=clinician, patient=subject.patient, description="Headache the week before",
                         onset_on=randomized_on - timedelta(days=7), severity=1, relation="unrelated")
    plain = deviation_report(actor=clinician, subject=subject, category="procedure", visit_code="w12",
                             description="Photograph taken without the target-area template",
                             occurred_on=randomized_on + timedelta(days=84))
    deviation_close(actor=clinician, deviation=plain, note="Retaken the same day")
    deviation_report(actor=clinician, subject=subject, category="wrong_treatment", reveals_allocation=True,
                     description="Given the Saline placebo kit on the left side by mistake")
    full, blinded = (_document(written, blinded=b) for b in (False, True))
    for xml in (full, blinded):
        assert _structure_problems(xml) == []
    ae = _items(full)["S-002"][("SE.AE", "")]
    assert ae["IT.AETERM"] == "Scalp erythema at the injection sites" and ae["IT.AESEV"] == "2"
    assert (ae["IT.AEREL"], ae["IT.AEACN"], ae["IT.AEOUT"], ae["IT.AESER"]) == ("probable", "treated", "recovered", "0")
    assert ae["IT.AEENDT"] == (randomized_on + timedelta(days=10)).isoformat()
    text = full.decode()
    assert "Headache the week before" not in text  # before randomization: not a study event, as in the CSV
    assert text.count('FormOID="F.AE"') == 2  # the definition's ref and the one event
    forms = ET.fromstring(full).findall(".//odm:SubjectData[@SubjectKey='S-002']/odm:StudyEventData"
                                        "[@StudyEventOID='SE.DV']/odm:FormData", NS)
    values = [{i.get("ItemOID"): i.get("Value") for i in f.iterfind(".//odm:ItemData", NS)} for f in forms]
    assert [f.get("FormRepeatKey") for f in forms] == ["1", "2"]
    assert values[0]["IT.DVCAT"] == "procedure" and values[0]["IT.DVVIS"] == "w12"
    assert values[0]["IT.DVCLN"] == "Retaken the same day" and values[0]["IT.DVFND"] == "0"
    assert values[1]["IT.DVTERM"].startswith("Given the Saline placebo kit")
    blinded_text = blinded.decode()
    assert "Given the Saline placebo kit" not in blinded_text and MASKED in blinded_text
    assert "Photograph taken without the target-area template" in blinded_text
    assert "Scalp erythema" in blinded_text  # adverse events carry no arm: in the blinded document too

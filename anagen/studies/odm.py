"""The study as a CDISC ODM 1.3.2 document (issue item 10), built with ``odmlib``'s ODM 1.3.2
model, which checks each element's attributes and order as it is built, and refuses a reference
to an OID the document does not define (:func:`check`).

What is in it:

- ``Study``: GlobalVariables (title, registry id and sponsor, protocol), BasicDefinitions (the
  units: hairs/cm², years), one MetaDataVersion (the protocol version in force): the Protocol's
  StudyEventRefs, a StudyEventDef per protocol visit (``SE.W<week>``, baseline ``SE.W0``) plus
  screening and randomization (``SE.SCR``) and study treatment (``SE.TRT``), the FormDefs,
  ItemGroupDefs and ItemDefs (data types, units, code lists for site, sex, stage group, status,
  yes/no, scalp half and, unblinded only, arm).
- ``AdminData``: a ``User`` per person named in the data or the audit records, a ``Location``
  per clinic (site), each pointing at the MetaDataVersion.
- ``ClinicalData``: a ``SubjectData`` per screened subject (screen failures too), with its
  ``SiteRef``: the screening form (the evidence dataset's subject columns), the density at
  baseline and each protocol visit (the same values as the CSV dataset, :mod:`.datasets`, with the
  date of the assessment visit used and, on each value, an ``AuditRecord`` of the last change to
  the record it comes from; a value taken from a final blinded reading is audited by that
  reading's signature instead: the adjudicator, or the reader whose signature completed the
  mean, with the signing time, and in its ``SourceID`` the signed readings and the clinic's
  record the reading replaces), the study procedures, and two log events: ``SE.AE``, one
  ``F.AE`` form per adverse event of the dataset (from randomization to the lock: onset, the
  clinician's description, grade, seriousness, relation, action, outcome, resolution date) and
  ``SE.DV``, one ``F.DV`` form per protocol deviation (category, visit, dates, found or reported,
  description, closing). Then ``AuditRecords``: the audit trail
  (``anagen.audit``) of the subjects' study records, assessment visits and measurements, and the
  study's lock events: ``UserRef``, ``LocationRef`` (the subject's site, or the visit's clinic),
  ``DateTimeStamp``, ``ReasonForChange`` where the record carries one (an end-of-participation,
  screen-failure, exclusion, correction, code-break or unlock reason), and a ``SourceID`` naming
  the audit entry, the subject and the fields that changed (never their values).

The blinded document (``blinded=True``, for blinded statisticians and investigators before the
lock) has no randomization form, no arm or active side (no ``CL.ARM``, no ``IT.ARM``), no
sequence number, no product or lot of a procedure, and none of the audit records that could
carry the allocation: allocation corrections, code-breaks, deviation reports marked as revealing
it, and any entry that changed an allocation field; such a deviation's form keeps its category,
visit and dates, with the description masked and no closing note. Everything else is the same, so the blinded
document does not change when an arm changes (the blinding crawl checks this).

Nothing here checks who asks: :func:`odm_for` does, through the export rule of
:mod:`.analysis_services`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

import odmlib.odm_1_3_2.model as ODM
from django.utils import timezone

from .datasets import ENDPOINT, StudyData, _age, _sex, build
from .models import Design, Study, Subject
from .reading import SOURCE_CLINIC
from .reading_services import final_signatures

ODM_NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
SYSTEM_USER = "USR.SYSTEM"
ALLOCATION_FIELDS = frozenset({"arm_code", "stratum", "index_in_stratum", "block_index", "block_size"})
# Where a record keeps the reason for its change: (app_label.model) -> fields.
REASON_FIELDS = {
    "studies.subject": ("end_reason", "screen_failure_reason"),
    "studies.allocationcorrection": ("reason",),
    "studies.codebreak": ("reason",),
    "studies.lockevent": ("reason",),
    "studies.deviation": ("closing_note",),
    "assessments.measurement": ("exclusion_reason",),
}
STAGE_GROUPS = (("mild", "Mild (Norwood I-III, Ludwig I, Sinclair 1-2)"),
                ("moderate", "Moderate (Norwood III vertex-IV, Ludwig II, Sinclair 3)"),
                ("advanced", "Advanced (above moderate)"), ("unknown", "Not staged"))
STATUSES = (("screen_failed", "Screen failure"), ("enrolled", "Enrolled, not randomized"),
            ("randomized", "Randomized"), ("withdrawn", "Withdrawn"), ("lost_to_follow_up", "Lost to follow-up"))


def _text(value: str) -> list:
    return [ODM.TranslatedText(_content=value, lang="en")]


def _description(value: str):
    return ODM.Description(TranslatedText=_text(value))


def _stamp(value: datetime) -> str:
    return value.astimezone(dt_timezone.utc).isoformat()


def _number(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return format(float(value), ".10g")


@dataclass(frozen=True)
class Item:
    oid: str
    name: str
    data_type: str
    meaning: str
    codelist: str = ""
    unit: str = ""
    length: int | None = None


def _items(*, split: bool, blinded: bool) -> dict[str, list[Item]]:
    """The item groups and their items (the ODM's data dictionary)."""
    groups = {
        "IG.DM": [
            Item("IT.SITE", "site", "text", "Clinic (site) code", "CL.SITE", length=60),
            Item("IT.SEX", "sex", "text", "F or M; absent when not recorded", "CL.SEX", length=1),
            Item("IT.AGE", "age", "integer", "Age in years on the day of randomization (screening when not "
                 "randomized)", unit="MU.YEARS"),
            Item("IT.STAGE", "stage_group", "text", "Stage group from the latest staging when screened", "CL.STAGE",
                 length=10),
            Item("IT.STATUS", "status", "text", "Participation status", "CL.STATUS", length=20),
            Item("IT.SCRDT", "screened_on", "date", "Date of screening"),
            Item("IT.SFRSN", "screen_failure_reason", "text", "Why the subject was not eligible", length=2000),
            Item("IT.RANDDT", "randomized_on", "date", "Date of randomization (the visit windows start here)"),
            Item("IT.ENDDT", "ended_on", "date", "Date of withdrawal or loss to follow-up"),
            Item("IT.ENDRSN", "end_reason", "text", "Reason for withdrawal or loss to follow-up", length=2000),
            Item("IT.ITT", "itt", "integer", "In the intention-to-treat set: every randomized subject", "CL.NY"),
            Item("IT.PP", "per_protocol", "integer", "In the per-protocol set: not withdrawn or lost, no allocation "
                 "correction", "CL.NY"),
            Item("IT.UNBL", "unblinded", "integer", "The allocation was revealed by an emergency code-break before "
                 "the lock", "CL.NY"),
        ],
        "IG.DENS": [
            *([Item("IT.SIDE", "side", "text", "Scalp half", "CL.SIDE", length=5)] if split else []),
            Item("IT.VISDT", "visit_date", "date", "Date of the assessment visit used for this protocol visit "
                 "(within its window, nearest the target date; baseline: the latest from 42 days before "
                 "randomization to that day)"),
            Item("IT.DENS", ENDPOINT, "float", "Target-area hair density" + (" of this scalp half" if split else ""),
                 unit="MU.DENS"),
        ],
        "IG.EX": [
            Item("IT.EXDT", "performed_on", "date", "Date of a procedure on or after the day of randomization"),
            *([] if blinded else [
                Item("IT.EXMOD", "modality", "text", "The procedure's modality", length=120),
                Item("IT.EXLOT", "products", "text", "Products and lots used", length=2000)]),
        ],
        "IG.AE": [
            Item("IT.AESTDT", "onset_on", "date", "Date the adverse event began (from randomization to the lock)"),
            Item("IT.AETERM", "description", "text", "The event as the clinician described it", length=2000),
            Item("IT.AESEV", "severity", "integer", "Grade (CTCAE-style, 1 mild to 5 death)", "CL.AESEV"),
            Item("IT.AESER", "serious", "integer", "Serious: death, life-threatening, hospitalisation, disability",
                 "CL.NY"),
            Item("IT.AEREL", "relation", "text", "Relation to the treatment in the clinician's judgement", "CL.AEREL",
                 length=12),
            Item("IT.AEACN", "action", "text", "Action taken", "CL.AEACN", length=16),
            Item("IT.AEOUT", "outcome", "text", "Outcome", "CL.AEOUT", length=16),
            Item("IT.AEENDT", "resolved_on", "date", "Date the event resolved"),
        ],
        "IG.DV": [
            Item("IT.DVCAT", "category", "text", "Category of the protocol deviation", "CL.DVCAT", length=24),
            Item("IT.DVVIS", "visit_code", "text", "The protocol visit it concerns, if any", length=20),
            Item("IT.DVDT", "occurred_on", "date", "Date it occurred, when known"),
            Item("IT.DVFND", "detected", "integer", "Found from the visit schedule (1) or reported by a person (0)",
                 "CL.NY"),
            Item("IT.DVREPDT", "reported_on", "date", "Date it was found or reported"),
            Item("IT.DVTERM", "description", "text", "What happened" + (
                "; a report that would reveal the allocation is masked" if blinded else ""), length=2000),
            Item("IT.DVCLDT", "closed_on", "date", "Date it was closed"),
            Item("IT.DVCLN", "closing_note", "text", "Why it was closed" + (
                "; masked with the description" if blinded else ""), length=2000),
        ],
    }
    if not blinded:
        groups["IG.RAND"] = [
            Item("IT.RANDNO", "sequence_number", "integer", "Position in the randomization sequence"),
            (Item("IT.ACTSIDE", "active_side", "text", "The scalp half randomized to the active product", "CL.SIDE",
                  length=5) if split else
             Item("IT.ARM", "arm", "text", "The arm the subject was randomized to", "CL.ARM", length=8)),
        ]
    return groups


GROUP_NAMES = {"IG.DM": ("Subject", "No"), "IG.DENS": ("Target-area density", "No"),
               "IG.EX": ("Study procedure", "No"), "IG.RAND": ("Randomization (unblinded)", "No"),
               "IG.AE": ("Adverse event", "No"), "IG.DV": ("Protocol deviation", "No")}
FORMS = (("F.DM", "Screening and participation", "No", "IG.DM"),
         ("F.RAND", "Randomization (unblinded)", "No", "IG.RAND"),
         ("F.DENS", "Target-area density", "No", "IG.DENS"),
         ("F.EX", "Study procedure", "Yes", "IG.EX"),
         ("F.AE", "Adverse event", "Yes", "IG.AE"),
         ("F.DV", "Protocol deviation", "Yes", "IG.DV"))
# The log events: one per subject, each holding a repeating form (one per event or deviation).
LOG_EVENTS = (("SE.AE", "Adverse events", "F.AE"), ("SE.DV", "Protocol deviations", "F.DV"))


def _week_name(visit: dict) -> str:
    week = int(visit.get("week", 0))
    return visit.get("label") or (f"Week {week}" if week else "Baseline")


class _Builder:
    def __init__(self, study: Study, data: StudyData, *, blinded: bool, now: datetime):
        self.study, self.data, self.blinded, self.now = study, data, blinded, now
        self.split = study.design == Design.SPLIT_SCALP
        self.oid = f"ST.{study.pk}"
        self.users: dict[str, str] = {}
        self.sites = {c.slug: c for c in study.sites.all()}
        self.subjects = list(Subject.objects.filter(study=study).select_related("patient", "site", "screened_by")
                             .order_by("code"))
        for s in self.subjects:
            self.sites.setdefault(s.site.slug, s.site)
        self.records = {r.code: r for r in data.subjects}

    # --- people and places -----------------------------------------------------------------

    def user(self, user) -> str:
        if user is None:
            self.users[SYSTEM_USER] = "Anagen (automatic)"
            return SYSTEM_USER
        oid = f"USR.{user.pk}"
        self.users[oid] = user.get_full_name() or str(user)
        return oid

    def location(self, clinic) -> str:
        self.sites.setdefault(clinic.slug, clinic)
        return f"LOC.{clinic.slug}"

    # --- metadata --------------------------------------------------------------------------

    def visits(self) -> list[dict]:
        weeks = {0, *self.data.visit_weeks}
        by_week = {int(v.get("week", 0)): v for v in self.study.visits}
        return [by_week.get(w, {"week": w}) for w in sorted(weeks)]

    def metadata(self, version) -> ODM.MetaDataVersion:
        groups = _items(split=self.split, blinded=self.blinded)
        mdv = ODM.MetaDataVersion(OID=f"MDV.{version.number}", Name=f"Protocol version {version.number}",
                                  Description=f"Protocol version {version.number} of {self.study.title}")
        events = [("SE.SCR", "Screening and randomization", "Scheduled", ["F.DM", *([] if self.blinded else ["F.RAND"])]),
                  *((f"SE.W{int(v.get('week', 0))}", _week_name(v), "Scheduled", ["F.DENS"]) for v in self.visits()),
                  ("SE.TRT", "Study treatment", "Unscheduled", ["F.EX"]),
                  *((oid, name, "Common", [form]) for oid, name, form in LOG_EVENTS)]
        mdv.Protocol = ODM.Protocol(StudyEventRef=[
            ODM.StudyEventRef(StudyEventOID=oid, OrderNumber=i, Mandatory="Yes" if oid == "SE.SCR" else "No")
            for i, (oid, *_rest) in enumerate(events, start=1)])
        mdv.StudyEventDef = [
            ODM.StudyEventDef(OID=oid, Name=name, Repeating="No", Type=kind,
                              FormRef=[ODM.FormRef(FormOID=f, OrderNumber=j, Mandatory="No")
                                       for j, f in enumerate(forms, start=1)])
            for oid, name, kind, forms in events]
        mdv.FormDef = [ODM.FormDef(OID=oid, Name=name, Repeating=repeating,
                                   ItemGroupRef=[ODM.ItemGroupRef(ItemGroupOID=group, Mandatory="No")])
                       for oid, name, repeating, group in FORMS if group in groups]
        mdv.ItemGroupDef = [
            ODM.ItemGroupDef(OID=group, Name=GROUP_NAMES[group][0],
                             Repeating="Yes" if (group == "IG.DENS" and self.split) else "No",
                             Purpose="Tabulation",
                             ItemRef=[ODM.ItemRef(ItemOID=i.oid, OrderNumber=n, Mandatory="No",
                                                  KeySequence=1 if i.oid == "IT.SIDE" else None)
                                      for n, i in enumerate(items, start=1)])
            for group, items in groups.items()]
        defs = []
        for items in groups.values():
            for i in items:
                item = ODM.ItemDef(OID=i.oid, Name=i.name, DataType=i.data_type, Description=_description(i.meaning))
                if i.length:
                    item.Length = i.length
                if i.unit:
                    item.MeasurementUnitRef = [ODM.MeasurementUnitRef(MeasurementUnitOID=i.unit)]
                if i.codelist:
                    item.CodeListRef = ODM.CodeListRef(CodeListOID=i.codelist)
                defs.append(item)
        mdv.ItemDef = defs
        used = {i.codelist for items in groups.values() for i in items if i.codelist}
        mdv.CodeList = [c for c in self.codelists() if c.OID in used]
        return mdv

    def codelists(self) -> list:
        def codelist(oid, name, data_type, pairs):
            return ODM.CodeList(OID=oid, Name=name, DataType=data_type, CodeListItem=[
                ODM.CodeListItem(CodedValue=str(code), OrderNumber=n, Decode=ODM.Decode(TranslatedText=_text(label)))
                for n, (code, label) in enumerate(pairs, start=1)])

        out = [codelist("CL.SITE", "Site", "text", [(slug, c.name) for slug, c in sorted(self.sites.items())]),
               codelist("CL.SEX", "Sex", "text", [("F", "Female"), ("M", "Male")]),
               codelist("CL.STAGE", "Stage group", "text", STAGE_GROUPS),
               codelist("CL.STATUS", "Participation status", "text", STATUSES),
               codelist("CL.NY", "Yes or no", "integer", [(1, "Yes"), (0, "No")]),
               codelist("CL.SIDE", "Scalp half", "text", [("left", "Left half"), ("right", "Right half")])]
        from anagen.treatments.models import AdverseEvent

        from .models import DeviationCategory

        out += [codelist("CL.AESEV", "Adverse event grade", "integer", AdverseEvent.Severity.choices),
                codelist("CL.AEREL", "Relation to treatment", "text", AdverseEvent.Relation.choices),
                codelist("CL.AEACN", "Action taken", "text", AdverseEvent.Action.choices),
                codelist("CL.AEOUT", "Outcome", "text", AdverseEvent.Outcome.choices),
                codelist("CL.DVCAT", "Deviation category", "text", DeviationCategory.choices)]
        if not self.blinded:
            out.append(codelist("CL.ARM", "Arm", "text",
                                [(a.code, a.name) for a in self.study.arms.all()]))
        return out

    # --- clinical data ---------------------------------------------------------------------

    def audit_record(self, entry, location: str, *, with_id: bool = False) -> ODM.AuditRecord:
        record = ODM.AuditRecord(UserRef=ODM.UserRef(UserOID=self.user(entry.actor)),
                                 LocationRef=ODM.LocationRef(LocationOID=location),
                                 DateTimeStamp=ODM.DateTimeStamp(_content=_stamp(entry.timestamp)))
        if with_id:
            record.ID = f"AR.{entry.pk}"
        reason = _reason(entry)
        if reason:
            record.ReasonForChange = ODM.ReasonForChange(_content=reason)
        record.SourceID = ODM.SourceID(_content=self.source_ids.get(entry.pk, f"audit entry {entry.pk}"))
        return record

    def reading_audit_record(self, signature, location: str, model_key, pk) -> ODM.AuditRecord:
        """The audit record of a value taken from a blinded reading: the signature that made the
        reading final (the adjudicator's, or the last reader's of a mean), when it was signed, and
        in the SourceID every signed reading behind it and the record whose value it replaces."""
        readings = "; ".join(f"studies.reading {r_pk} signed by {self.user(reader)} at {_stamp(at)}"
                             for r_pk, reader, at in signature.readings)
        final = (f"studies.adjudication {signature.adjudication_id} signed by {self.user(signature.signer)}"
                 if signature.adjudication_id is not None else "")
        text = "; ".join(filter(None, [
            f"{signature.source} of the coded image of this visit", final, readings,
            f"in place of {'.'.join(model_key)} {pk}"]))
        return ODM.AuditRecord(UserRef=ODM.UserRef(UserOID=self.user(signature.signer)),
                               LocationRef=ODM.LocationRef(LocationOID=location),
                               DateTimeStamp=ODM.DateTimeStamp(_content=_stamp(signature.signed_at)),
                               SourceID=ODM.SourceID(_content=text))

    def item(self, oid: str, value, *, audit: ODM.AuditRecord | None = None, unit: str = "") -> ODM.ItemData | None:
        if value is None or value == "":
            return None
        item = ODM.ItemData(ItemOID=oid, Value=str(value))
        if audit is not None:  # before the unit: odmlib keeps the schema's element order as assigned
            item.AuditRecord = audit
        if unit:
            item.MeasurementUnitRef = ODM.MeasurementUnitRef(MeasurementUnitOID=unit)
        return item

    def group(self, oid: str, items, *, repeat_key: str = "") -> ODM.ItemGroupData:
        group = ODM.ItemGroupData(ItemGroupOID=oid, ItemData=[i for i in items if i is not None])
        if repeat_key:
            group.ItemGroupRepeatKey = repeat_key
        return group

    def subject_data(self, subject: Subject, trail) -> ODM.SubjectData:
        record = self.records.get(subject.code)
        site = self.location(subject.site)
        anchor = record.randomized_on if record else timezone.localtime(subject.screened_at).date()
        dm = [self.item("IT.SITE", subject.site.slug), self.item("IT.SEX", _sex(subject.patient.sex)),
              self.item("IT.AGE", _age(subject.patient, anchor)),
              self.item("IT.STAGE", subject.factors.get("stage_group", "unknown")),
              self.item("IT.STATUS", subject.status),
              self.item("IT.SCRDT", timezone.localtime(subject.screened_at).date().isoformat()),
              self.item("IT.SFRSN", subject.screen_failure_reason),
              self.item("IT.ENDDT", subject.ended_on.isoformat() if subject.ended_on else None),
              self.item("IT.ENDRSN", subject.end_reason)]
        if record is not None:
            dm.insert(7, self.item("IT.RANDDT", record.randomized_on.isoformat()))
            dm += [self.item("IT.ITT", 1), self.item("IT.PP", int(not record.corrected and record.status not in
                                                                   ("withdrawn", "lost_to_follow_up"))),
                   self.item("IT.UNBL", int(record.unblinded))]
        screening = [ODM.FormData(FormOID="F.DM", ItemGroupData=[self.group("IG.DM", dm)])]
        allocation = getattr(subject, "allocation", None) if record else None
        if allocation is not None and not self.blinded:
            assigned = (self.item("IT.ACTSIDE", record.active_side) if self.split
                        else self.item("IT.ARM", allocation.arm_code))
            screening.append(ODM.FormData(FormOID="F.RAND", ItemGroupData=[self.group("IG.RAND", [
                self.item("IT.RANDNO", allocation.sequence_number), assigned])]))
        events = [ODM.StudyEventData(StudyEventOID="SE.SCR", FormData=screening)]
        if record is not None:
            events += self.density_events(subject, trail)
            procedures = self.procedures.get(subject.patient_id, [])
            forms = [ODM.FormData(FormOID="F.EX", FormRepeatKey=str(n), ItemGroupData=[self.group("IG.EX", [
                self.item("IT.EXDT", p.performed_on.isoformat()),
                *([] if self.blinded else [self.item("IT.EXMOD", p.modality.name),
                                           self.item("IT.EXLOT", "; ".join(
                                               f"{u.lot.product.name} lot {u.lot.lot_number}"
                                               for u in p.product_uses.all()))])])])
                     for n, p in enumerate(procedures, start=1) if p.performed_on >= record.randomized_on]
            if forms:
                events.append(ODM.StudyEventData(StudyEventOID="SE.TRT", FormData=forms))
        events += self.log_events(subject)
        created = trail.first_entry(("studies", "subject"), subject.pk)  # who screened the subject, when
        audit = {} if created is None else {"AuditRecord": self.audit_record(created, site)}
        return ODM.SubjectData(SubjectKey=subject.code, **audit, SiteRef=ODM.SiteRef(LocationOID=site),
                               StudyEventData=events)

    def log_events(self, subject: Subject) -> list:
        """The subject's adverse events (those of the dataset: from randomization to the lock) and
        protocol deviations, one repeating form each; a deviation that would reveal the allocation
        is masked in the blinded document (as on the deviations page)."""
        from .deviations import MASKED

        def day(value):
            return None if value is None else timezone.localtime(value).date().isoformat()

        adverse = [ODM.FormData(FormOID="F.AE", FormRepeatKey=str(n), ItemGroupData=[self.group("IG.AE", [
            self.item("IT.AESTDT", ae.onset_on.isoformat()), self.item("IT.AETERM", ae.description),
            self.item("IT.AESEV", ae.severity), self.item("IT.AESER", int(ae.serious)),
            self.item("IT.AEREL", ae.relation), self.item("IT.AEACN", ae.action), self.item("IT.AEOUT", ae.outcome),
            self.item("IT.AEENDT", ae.resolved_on.isoformat() if ae.resolved_on else None)])])
            for n, ae in enumerate(self.adverse_events.get(subject.code, []), start=1)]
        deviations = []
        for n, d in enumerate(self.deviations.get(subject.pk, []), start=1):
            masked = self.blinded and d.reveals_allocation
            deviations.append(ODM.FormData(FormOID="F.DV", FormRepeatKey=str(n), ItemGroupData=[self.group("IG.DV", [
                self.item("IT.DVCAT", d.category), self.item("IT.DVVIS", d.visit_code),
                self.item("IT.DVDT", d.occurred_on.isoformat() if d.occurred_on else None),
                self.item("IT.DVFND", int(d.detected)), self.item("IT.DVREPDT", day(d.reported_at)),
                self.item("IT.DVTERM", MASKED if masked else d.description),
                self.item("IT.DVCLDT", day(d.closed_at)),
                self.item("IT.DVCLN", None if masked else d.closing_note)])]))
        return [ODM.StudyEventData(StudyEventOID=oid, FormData=forms)
                for (oid, _name, _form), forms in zip(LOG_EVENTS, (adverse, deviations)) if forms]

    def density_events(self, subject: Subject, trail) -> list:
        frame = self.data.frame
        rows = frame[frame["subject"] == subject.code]
        sides = ["left", "right"] if self.split else [""]
        values: dict[tuple[str, int], float] = {}
        value_sources: dict[tuple[str, int], str] = {}
        for r in rows.itertuples():
            values[(r.side, int(r.visit_week))] = r.value
            values[(r.side, 0)] = r.baseline
            value_sources[(r.side, int(r.visit_week))] = r.value_source
            value_sources[(r.side, 0)] = r.baseline_source
        events = []
        for visit in self.visits():
            week = int(visit.get("week", 0))
            groups = []
            for side in sides:
                on = self.data.picked.get((subject.code, side, week))
                value = _number(values.get((side, week)))
                if value is None or on is None:
                    continue
                source = self.sources.get((subject.pk, subject.patient_id, side, on))
                audit = None
                if source is not None:
                    model_key, pk, clinic, image_id = source
                    location = self.location(clinic)
                    signature = (self.signatures.get(image_id) if value_sources.get((side, week), SOURCE_CLINIC)
                                 != SOURCE_CLINIC else None)
                    if signature is not None:  # the value is the blinded reading's, not the record's
                        audit = self.reading_audit_record(signature, location, model_key, pk)
                    else:
                        entry = trail.last_entry(model_key, pk)
                        audit = None if entry is None else self.audit_record(entry, location)
                groups.append(self.group("IG.DENS", [
                    self.item("IT.SIDE", side) if side else None, self.item("IT.VISDT", on.isoformat()),
                    self.item("IT.DENS", value, audit=audit, unit="MU.DENS")],
                    repeat_key=side))
            if groups:
                events.append(ODM.StudyEventData(StudyEventOID=f"SE.W{week}", FormData=[
                    ODM.FormData(FormOID="F.DENS", ItemGroupData=groups)]))
        return events

    def load_sources(self) -> None:
        """The record each density comes from: (subject pk, patient pk, side, date) -> (model, pk, clinic)."""
        from anagen.assessments.models import Measurement
        from anagen.treatments.models import Procedure

        from .models_quality import SideMeasurement

        self.sources: dict[tuple, tuple] = {}
        subject_of_patient = {s.patient_id: s.pk for s in self.subjects if s.code in self.records}
        if self.split:
            for m in SideMeasurement.objects.filter(subject__study=self.study).select_related("visit__clinic",
                                                                                              "subject"):
                self.sources[(m.subject_id, m.subject.patient_id, m.side, m.visit.visit_date)] = (
                    ("studies", "sidemeasurement"), m.pk, m.visit.clinic, m.source_image_id)
        else:
            for m in (Measurement.objects.filter(visit__patient_id__in=list(subject_of_patient), excluded=False)
                      .select_related("visit__clinic")):
                patient = m.visit.patient_id
                self.sources[(subject_of_patient[patient], patient, "", m.visit.visit_date)] = (
                    ("assessments", "measurement"), m.pk, m.visit.clinic, m.source_image_id)
        # Who made each linked image's blinded reading final: a value read blind is audited by its signature.
        self.signatures = final_signatures(self.study, {s[3] for s in self.sources.values() if s[3] is not None})
        from anagen.treatments.models import AdverseEvent

        from .models import Deviation

        # The dataset's adverse events (from randomization to the lock), in full.
        by_id = AdverseEvent.objects.in_bulk([e["id"] for e in self.data.adverse_events])
        self.adverse_events: dict[str, list] = {}
        for e in self.data.adverse_events:
            self.adverse_events.setdefault(e["subject"], []).append(by_id[e["id"]])
        self.deviations: dict[int, list] = {}
        for d in Deviation.objects.filter(subject__study=self.study).order_by("reported_at", "pk"):
            self.deviations.setdefault(d.subject_id, []).append(d)
        self.procedures: dict[int, list] = {}
        for p in (Procedure.objects.filter(patient_id__in=list(subject_of_patient))
                  .select_related("modality").prefetch_related("product_uses__lot__product")
                  .order_by("performed_on", "pk")):
            self.procedures.setdefault(p.patient_id, []).append(p)


def _reason(entry) -> str:
    fields = REASON_FIELDS.get(f"{entry.content_type.app_label}.{entry.content_type.model}", ())
    changes = entry.changes_dict if hasattr(entry, "changes_dict") else (entry.changes or {})
    for name in fields:
        change = changes.get(name)
        if isinstance(change, (list, tuple)) and len(change) == 2 and change[1] not in (None, "", "None"):
            return str(change[1])[:2000]
    return ""


class _Trail:
    """The audit entries of the study's records, as (entry, location, subject code)."""

    def __init__(self, builder: _Builder):
        from auditlog.models import LogEntry
        from django.contrib.contenttypes.models import ContentType

        from anagen.assessments.models import AssessmentVisit, Measurement

        from .models import Allocation, AllocationCorrection, CodeBreak, Deviation
        from .models_quality import DataQuery, LockEvent, SideMeasurement, SourceVerification

        study, blinded = builder.study, builder.blinded
        subjects = {s.pk: s for s in builder.subjects}
        first_site = f"LOC.{min(builder.sites)}"  # a study-wide record (a lock): the study's first site
        # (model, queryset of (pk, subject pk or None, clinic or None))
        wanted: list[tuple[type, dict]] = []

        def add(model, rows):
            wanted.append((model, {str(pk): (subject_id, clinic) for pk, subject_id, clinic in rows}))

        add(Subject, ((s.pk, s.pk, s.site) for s in builder.subjects))
        add(Allocation, ((a.pk, a.subject_id, None) for a in Allocation.objects.filter(study=study)))
        if not blinded:
            add(AllocationCorrection, ((c.pk, c.allocation.subject_id, None) for c in
                                       AllocationCorrection.objects.filter(allocation__study=study)
                                       .select_related("allocation")))
            add(CodeBreak, ((c.pk, c.subject_id, None) for c in CodeBreak.objects.filter(subject__study=study)))
        deviations = Deviation.objects.filter(subject__study=study)
        if blinded:
            deviations = deviations.filter(reveals_allocation=False)
        add(Deviation, ((d.pk, d.subject_id, None) for d in deviations))
        add(DataQuery, ((q.pk, q.subject_id, None) for q in DataQuery.objects.filter(subject__study=study)))
        add(SourceVerification, ((v.pk, v.subject_id, None) for v in
                                 SourceVerification.objects.filter(subject__study=study)))
        add(SideMeasurement, ((m.pk, m.subject_id, m.visit.clinic) for m in
                              SideMeasurement.objects.filter(subject__study=study).select_related("visit__clinic")))
        add(LockEvent, ((e.pk, None, None) for e in LockEvent.objects.filter(study=study)))
        # The subjects' assessment visits and measurements from 42 days before screening on.
        by_patient = {s.patient_id: s for s in builder.subjects}
        since = {s.patient_id: timezone.localtime(s.screened_at).date() for s in builder.subjects}
        visits = [v for v in AssessmentVisit.objects.filter(patient_id__in=list(by_patient)).select_related("clinic")
                  if (v.visit_date - since[v.patient_id]).days >= -42]
        add(AssessmentVisit, ((v.pk, by_patient[v.patient_id].pk, v.clinic) for v in visits))
        add(Measurement, ((m.pk, by_patient[m.visit.patient_id].pk, m.visit.clinic) for m in
                          Measurement.objects.filter(visit__in=visits).select_related("visit__clinic")))

        self.entries = []
        self.by_object: dict[tuple[tuple[str, str], str], list] = {}
        builder.source_ids = {}
        for model, rows in wanted:
            ct = ContentType.objects.get_for_model(model)
            key = (ct.app_label, ct.model)
            for entry in (LogEntry.objects.filter(content_type=ct, object_pk__in=list(rows))
                          .select_related("actor", "content_type").order_by("timestamp", "pk")):
                changed = sorted(_changed(entry))
                if blinded and ALLOCATION_FIELDS & set(changed):
                    continue
                subject_id, clinic = rows[entry.object_pk]
                subject = subjects.get(subject_id)
                location = (builder.location(clinic) if clinic is not None
                            else builder.location(subject.site) if subject is not None else first_site)
                builder.source_ids[entry.pk] = "; ".join(filter(None, [
                    f"audit entry {entry.pk}", subject.code if subject else "",
                    f"{ct.app_label}.{ct.model} {entry.object_pk} {_ACTIONS.get(entry.action, entry.action)}",
                    f"fields: {', '.join(changed)}" if changed else ""]))
                self.entries.append((entry, location))
                self.by_object.setdefault((key, entry.object_pk), []).append(entry)
        self.entries.sort(key=lambda e: (e[0].timestamp, e[0].pk))

    def first_entry(self, model_key, pk):
        found = self.by_object.get((model_key, str(pk)))
        return found[0] if found else None

    def last_entry(self, model_key, pk):
        found = self.by_object.get((model_key, str(pk)))
        return found[-1] if found else None


_ACTIONS = {0: "created", 1: "updated", 2: "deleted", 3: "accessed"}


def _changed(entry) -> list[str]:
    """The record's own fields the entry changed (as the history pages list them), never their values."""
    from anagen.audit.selectors import _readable_changes

    return [name for name in _readable_changes(entry) if name != "id"]


def build_odm(study: Study, *, blinded: bool, now: datetime | None = None, data: StudyData | None = None):
    """The study's ODM 1.3.2 document (an ``odmlib`` ODM element); see the module's notes."""
    from . import services

    now = now or timezone.now()
    data = data or build(study)
    version = services.approved_version(study) or services.current_version(study)
    b = _Builder(study, data, blinded=blinded, now=now)
    b.load_sources()
    trail = _Trail(b)
    clinical = ODM.ClinicalData(StudyOID=b.oid, MetaDataVersionOID=f"MDV.{version.number}")
    clinical.SubjectData = [b.subject_data(s, trail) for s in b.subjects]
    if trail.entries:
        clinical.AuditRecords = [ODM.AuditRecords(AuditRecord=[b.audit_record(e, loc, with_id=True)
                                                               for e, loc in trail.entries])]
    for user in (s.screened_by for s in b.subjects):
        b.user(user)
    mdv = b.metadata(version)
    registry = study.registry_id or f"STUDY-{study.pk}"
    body = ODM.Study(OID=b.oid)
    body.GlobalVariables = ODM.GlobalVariables(
        StudyName=ODM.StudyName(_content=study.title),
        StudyDescription=ODM.StudyDescription(_content=(
            f"{study.get_design_display()}; registry {registry}" + (f"; sponsor {study.sponsor}" if study.sponsor
                                                                   else "")
            + ("; blinded export: no allocation" if blinded else ""))),
        ProtocolName=ODM.ProtocolName(_content=registry))
    body.BasicDefinitions = ODM.BasicDefinitions(MeasurementUnit=[
        ODM.MeasurementUnit(OID="MU.DENS", Name="hairs/cm2", Symbol=ODM.Symbol(TranslatedText=_text("hairs/cm²"))),
        ODM.MeasurementUnit(OID="MU.YEARS", Name="years", Symbol=ODM.Symbol(TranslatedText=_text("years")))])
    body.MetaDataVersion = [mdv]
    effective = (version.approved_at or study.created_at)
    admin = ODM.AdminData(StudyOID=b.oid)
    admin.User = [_user(oid, name) for oid, name in sorted(b.users.items())]
    admin.Location = [
        ODM.Location(OID=f"LOC.{slug}", Name=clinic.name, LocationType="Site", MetaDataVersionRef=[
            ODM.MetaDataVersionRef(StudyOID=b.oid, MetaDataVersionOID=mdv.OID,
                                   EffectiveDate=timezone.localtime(effective).date().isoformat())])
        for slug, clinic in sorted(b.sites.items())]
    stamp = now.astimezone(dt_timezone.utc)
    kind = "blinded" if blinded else ("final" if data.locked else "interim")
    root = ODM.ODM(FileOID=f"ODM.{registry}.{kind}.{stamp:%Y%m%dT%H%M%S}", Granularity="All", FileType="Snapshot",
                   CreationDateTime=_stamp(now), AsOfDateTime=_stamp(now), ODMVersion="1.3.2", Originator="Anagen",
                   SourceSystem="Anagen", SourceSystemVersion=_version(),
                   Description=f"{study.title}: {kind} export" + (" (INTERIM: the database is not locked)"
                                                                  if kind == "interim" else ""))
    root.Study = [body]
    root.AdminData = [admin]
    root.ClinicalData = [clinical]
    return root


def _user(oid: str, name: str):
    user = ODM.User(OID=oid, UserType="Other")
    user.FullName = ODM.FullName(_content=name)
    return user


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("anagen")
    except Exception:  # not installed as a distribution (a source checkout)
        return "0"


def check(root) -> list:
    """odmlib's checks: element order, and every OID referenced is defined once. [] when valid."""
    from odmlib import create_oid_checker

    return root.validate(collect_errors=True, oid_checker=create_oid_checker("odm_1_3_2"))


def to_xml(root) -> bytes:
    return root.to_xml_string(xml_declaration=True).encode("utf-8")


@dataclass(frozen=True)
class OdmExport:
    content: bytes
    filename: str
    blinded: bool


def odm_for(*, user, study: Study, now: datetime | None = None) -> OdmExport:
    """The ODM export ``user`` may download (the export rule of :mod:`.analysis_services`: the
    full document for whoever sees the results, the blinded one for the blinded study statistician
    and investigators before the lock, 403 otherwise), recorded in the audit trail as an export."""
    from anagen.audit.events import record_event
    from anagen.audit.models import EventKind

    from . import analysis_services

    full = analysis_services.export_full(user, study)
    data = build(study)
    root = build_odm(study, blinded=not full, now=now, data=data)
    problems = check(root)
    if problems:  # a bug here, never the user's input: fail loudly rather than hand out a broken file
        raise RuntimeError(f"The ODM export of study {study.pk} is not valid: {problems[:3]}")
    kind = "blinded" if not full else ("final" if data.locked else "interim")
    record_event(EventKind.EXPORT, subject=f"study:{study.pk}", detail={"format": "odm-1.3.2", "kind": kind},
                 actor=user)
    day = timezone.localdate(now) if now else timezone.localdate()
    return OdmExport(content=to_xml(root), filename=f"study-{study.pk}-odm-{kind}-{day:%Y-%m-%d}.xml",
                     blinded=not full)


__all__ = ["ODM_NAMESPACE", "OdmExport", "build_odm", "check", "odm_for", "to_xml"]

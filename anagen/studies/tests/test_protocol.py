"""Protocol: a draft until a statistician and a clinician sign it off; then amendments only,
each a new version, the old ones readable as they were signed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.studies import services
from anagen.studies.models import ProtocolVersion, RandomizationSecret, Study

from conftest import PASSWORD

from .conftest import ARMS, sign_off

pytestmark = pytest.mark.django_db


def test_a_new_study_has_a_draft_version_1_a_seed_apart_and_its_creator_on_the_team(draft_study, statistician):
    version = draft_study.versions.get()
    assert version.number == 1 and not version.is_approved
    assert draft_study.status == "draft"
    assert version.content["arms"][0] == {"code": "MG", "name": "Micrograft suspension", "is_placebo": False, "ratio": 1}
    assert [v["week"] for v in version.content["visits"]] == [0, 4, 12, 23, 44, 58]
    assert version.content["randomization"]["strata_factors"] == ["sex", "site"]
    seed = RandomizationSecret.objects.get(study=draft_study).seed
    assert 0 <= seed < 2**62
    assert str(seed) not in str(version.content)
    assert draft_study.members.get().user == statistician


def test_only_statisticians_and_admins_start_a_study(clinician, clinic):
    with pytest.raises(PermissionDenied):
        services.study_create(actor=clinician, title="X", sites=[clinic], arms=ARMS)


@pytest.mark.parametrize("change, message", [
    ({"arms": [{"code": "A", "name": "Only one"}]}, "at least two arms"),
    ({"design": "split_scalp", "arms": [{"code": "A", "name": "a"}, {"code": "B", "name": "b"}]}, "one active and one placebo"),
    ({"visits": [{"code": "w4", "week": 4}, {"code": "w0", "week": 0}]}, "in order of week"),
    ({"strata_factors": ["eye_colour"]}, "Unknown factor"),
    ({"p_best": 1.5}, "p_best"),
    ({"criteria": {"age_min_years": 70, "age_max_years": 20}}, "above the maximum"),
])
def test_bad_protocol_input_is_refused_with_a_clear_message_and_nothing_changes(draft_study, statistician, change,
                                                                                 message):
    before = draft_study.versions.get().content
    with pytest.raises(ActionError, match=message):
        services.study_update(actor=statistician, study=draft_study, **change)
    assert draft_study.versions.get().content == before


def test_signing_needs_the_password_the_right_role_and_two_different_people(team, statistician, clinician, evaluator):
    with pytest.raises(ActionError, match="password is not correct"):
        services.protocol_sign(actor=statistician, study=team, password="wrong", meaning="statistical_approval")
    with pytest.raises(PermissionDenied):
        services.protocol_sign(actor=evaluator, study=team, password=PASSWORD, meaning="clinical_approval")
    with pytest.raises(PermissionDenied):
        services.protocol_sign(actor=statistician, study=team, password=PASSWORD, meaning="clinical_approval")
    sig = services.protocol_sign(actor=statistician, study=team, password=PASSWORD, meaning="statistical_approval")
    assert sig.signer == statistician and sig.meaning == "statistical_approval" and sig.signed_at
    with pytest.raises(Conflict):
        services.protocol_sign(actor=statistician, study=team, password=PASSWORD, meaning="statistical_approval")
    assert not team.versions.get().is_approved
    services.protocol_sign(actor=clinician, study=team, password=PASSWORD, meaning="clinical_approval")
    team.refresh_from_db()
    assert team.versions.get().is_approved and team.status == "recruiting"


def test_a_signed_protocol_changes_only_through_an_amendment_and_the_old_version_stays(team, statistician, clinician):
    study = sign_off(team, statistician, clinician)
    with pytest.raises(Conflict, match="needs an amendment"):
        services.study_update(actor=statistician, study=study, target_enrolment=60)
    assert Study.objects.get(pk=study.pk).target_enrolment == 30
    with pytest.raises(ActionError, match="reason"):
        services.protocol_amend(actor=statistician, study=study, reason="  ")
    v2 = services.protocol_amend(actor=statistician, study=study, reason="Recruitment slower: widen the age range")
    assert v2.number == 2 and v2.amendment_reason.startswith("Recruitment")
    services.study_update(actor=statistician, study=study, target_enrolment=60)
    v1 = study.versions.get(number=1)
    assert v1.content["target_enrolment"] == 30 and v1.is_approved
    assert study.versions.get(number=2).content["target_enrolment"] == 60
    # Version 1 stays in force until the amendment is signed.
    assert services.approved_version(study).number == 1
    sign_off(study, statistician, clinician)
    assert services.approved_version(study).number == 2


def test_a_signed_versions_content_cannot_be_rewritten(team, statistician, clinician):
    study = sign_off(team, statistician, clinician)
    v1 = study.versions.get(number=1)
    v1.content = {**v1.content, "target_enrolment": 1}
    with pytest.raises(ValueError):
        v1.save()
    assert ProtocolVersion.objects.get(pk=v1.pk).content["target_enrolment"] == 30


def test_editing_a_draft_clears_signatures_given_to_it(team, statistician):
    services.protocol_sign(actor=statistician, study=team, password=PASSWORD, meaning="statistical_approval")
    services.study_update(actor=statistician, study=team, target_enrolment=40)
    assert not team.versions.get().signatures.exists()


def test_people_off_the_team_cannot_change_or_see_it(draft_study, clinician_b, statistician):
    with pytest.raises(NotFound):
        services.study_update(actor=clinician_b, study=draft_study, target_enrolment=1)
    from anagen.accounts.services import staff_create

    other_stat = staff_create(email="s2@x.test", password=PASSWORD, roles=["statistician"],
                              clinics=list(statistician.clinics.all()))
    with pytest.raises(NotFound):
        services.protocol_sign(actor=other_stat, study=draft_study, password=PASSWORD, meaning="statistical_approval")


def test_a_study_role_is_not_changed_once_given(team, statistician, evaluator):
    with pytest.raises(Conflict):
        services.member_add(actor=statistician, study=team, user=evaluator, role="unblinded_pharmacist")
    assert team.members.get(user=evaluator).role == "evaluator"


def test_every_protocol_change_is_in_the_audit_trail_with_its_actor(team, statistician, api_client):
    from auditlog.models import LogEntry

    r = api_client(statistician).patch(f"/api/v1/studies/{team.pk}", {"target_enrolment": 44},
                                       content_type="application/json")
    assert r.status_code == 200, r.content
    entry = LogEntry.objects.get_for_object(team).order_by("-timestamp", "-id").first()
    assert entry.changes_dict["target_enrolment"] == ["30", "44"]
    assert entry.actor == statistician

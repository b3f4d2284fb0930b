"""The list of a clinic's device profiles with their validation state."""

from __future__ import annotations

from anagen.assessments.models import DeviceProfile
from anagen.assessments.validation import device_adjustment_deactivate, validation_reference_mark

from .test_device_adjusted_counts import _adjustment, _image


def test_device_list_shows_each_devices_validation(login, visit, device, clinician, clinic_b):
    from anagen.evidence.device_validation import MIN_REFERENCES

    other = DeviceProfile.objects.create(clinic=clinic_b, name="Solihull loupe", engine_profile="default")
    retired = DeviceProfile.objects.create(clinic=visit.clinic, name="Old loupe", engine_profile="default",
                                           is_active=False)
    autos, refs = [40, 50, 60], [44, 52, 67]
    for auto, ref in zip(autos, refs, strict=True):
        analysis = _image(visit, device, auto).analysis
        analysis.corrected = {"hair_count": ref}
        analysis.save()
        validation_reference_mark(actor=clinician, analysis=analysis)
    adj = _adjustment(device, clinician, version=3)
    client = login(clinician)
    body = client.get("/assessments/devices/").content.decode()
    assert f'href="/assessments/devices/{device.pk}/validation/"' in body
    assert f'href="/assessments/devices/{retired.pk}/validation/"' in body and "retired" in body
    assert other.name not in body and f"/assessments/devices/{other.pk}/" not in body
    row = body.split(f'data-device="{device.pk}"')[1].split("</tr>")[0]
    mae = sum(abs(a - r) for a, r in zip(autos, refs, strict=True)) / 3
    assert f"<td>3 <span" in row and f"({MIN_REFERENCES - 3} more needed)" in row
    assert f"{mae:.2f} hairs" in row and f"v{adj.version}" in row
    device_adjustment_deactivate(actor=clinician, adjustment=adj, reason="new lens")
    row = client.get("/assessments/devices/").content.decode().split(f'data-device="{device.pk}"')[1].split("</tr>")[0]
    assert f"v{adj.version}" not in row and "none" in row
    # Reachable from the menu, and the validation page leads back.
    assert 'href="/assessments/devices/">Devices</a>' in body
    validation_page = client.get(f"/assessments/devices/{device.pk}/validation/").content.decode()
    assert 'href="/assessments/devices/"' in validation_page


def test_device_list_roles(login, device, clinician, admin_user, coordinator, lab_scientist, stranger, clinician_b):
    for user, status in ((clinician, 200), (admin_user, 200), (coordinator, 403), (lab_scientist, 403),
                         (stranger, 403), (clinician_b, 200)):
        r = login(user).get("/assessments/devices/")
        assert r.status_code == status, user
    # A clinician of another clinic gets the page, without this clinic's device.
    assert device.name not in r.content.decode()
    assert "Devices</a>" not in login(coordinator).get("/login/", follow=True).content.decode()

"""API routes for clinics, staff and the caller's own identity."""

from __future__ import annotations

from ninja import Router, Schema

from anagen.core.permissions import check_role

from .models import Clinic, Role, User

router = Router(tags=["clinics and staff"])


class RoomOut(Schema):
    id: int
    name: str
    is_procedure_room: bool


class ClinicOut(Schema):
    id: int
    name: str
    slug: str
    address: str
    timezone: str
    rooms: list[RoomOut]


class StaffOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    roles: list[str]
    clinic_ids: list[int]


def _staff_out(u: User) -> StaffOut:
    return StaffOut(id=u.id, email=u.email, first_name=u.first_name, last_name=u.last_name,
                    roles=sorted(u.roles), clinic_ids=sorted(u.clinic_ids))


@router.get("/me", response=StaffOut, summary="The authenticated staff member, with roles and clinics")
def me(request):
    return _staff_out(request.auth)


@router.get("/clinics", response=list[ClinicOut], summary="Clinics the caller works at")
def clinic_list(request):
    qs = Clinic.objects.filter(id__in=request.auth.clinic_ids, is_active=True).prefetch_related("rooms")
    return [ClinicOut(id=c.id, name=c.name, slug=c.slug, address=c.address, timezone=c.timezone,
                      rooms=[RoomOut(id=r.id, name=r.name, is_procedure_room=r.is_procedure_room)
                             for r in c.rooms.all() if r.is_active]) for c in qs]


@router.get("/staff", response=list[StaffOut], summary="Staff of the caller's clinics")
def staff_list(request, role: str | None = None):
    check_role(request.auth, Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN, Role.STATISTICIAN)
    qs = (User.objects.filter(is_active=True, clinics__in=request.auth.clinic_ids).distinct()
          .prefetch_related("role_grants", "clinics"))
    if role:
        qs = qs.filter(role_grants__role=role)
    out = []
    for u in qs:
        u._roles_cache = frozenset(g.role for g in u.role_grants.all())
        u._clinic_ids_cache = frozenset(c.id for c in u.clinics.all())
        out.append(_staff_out(u))
    return out

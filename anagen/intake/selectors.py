"""Reads for the inquiry inbox: coordinators and admins see the inquiries for their clinics
and those with no clinic (video, or no preference)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from anagen.core.permissions import FRONT_DESK_ROLES, check_role

from .models import Inquiry, InquiryStatus


def inbox(*, user, status: str | None = None) -> QuerySet[Inquiry]:
    check_role(user, *FRONT_DESK_ROLES)
    mine = list(user.clinic_ids)
    # A converted inquiry belongs to the clinic of the patient it became: a video inquiry (no
    # clinic) converted at Solihull must not show that patient in Birmingham's inbox.
    open_to_me = Q(converted_patient__isnull=True) & (Q(preferred_clinic__in=mine) | Q(preferred_clinic__isnull=True))
    converted_here = Q(converted_patient__isnull=False, converted_patient__clinic__in=mine)
    qs = (Inquiry.objects.filter(open_to_me | converted_here)
          .select_related("preferred_clinic", "answered_by", "converted_patient"))
    if status == "open":
        qs = qs.filter(status__in=[InquiryStatus.NEW, InquiryStatus.ANSWERED])
    elif status in InquiryStatus.values:
        qs = qs.filter(status=status)
    return qs


def inquiry_get(*, user, pk) -> Inquiry:
    try:
        return inbox(user=user).get(pk=int(pk))
    except (Inquiry.DoesNotExist, ValueError, TypeError):
        raise Http404("No such inquiry in your inbox.") from None


def status_counts(*, user) -> dict[str, int]:
    counts = dict.fromkeys(InquiryStatus.values, 0)
    for row in inbox(user=user).order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["open"] = counts[InquiryStatus.NEW] + counts[InquiryStatus.ANSWERED]
    counts["all"] = sum(counts[s] for s in InquiryStatus.values)
    return counts

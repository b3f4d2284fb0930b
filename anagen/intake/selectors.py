"""Reads for the inquiry inbox: coordinators and admins see the inquiries for their clinics
and those with no clinic (video, or no preference)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from anagen.core.permissions import FRONT_DESK_ROLES, check_role

from .models import Inquiry, InquiryStatus


def inbox(*, user, status: str | None = None) -> QuerySet[Inquiry]:
    check_role(user, *FRONT_DESK_ROLES)
    qs = (Inquiry.objects.filter(Q(preferred_clinic__in=list(user.clinic_ids)) | Q(preferred_clinic__isnull=True))
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

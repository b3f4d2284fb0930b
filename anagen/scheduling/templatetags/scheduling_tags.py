from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.filter
def patient_url(patient_id) -> str:
    """The patient's page, or "" while the patients app has no detail page."""
    try:
        return reverse("patients:detail", kwargs={"pk": patient_id})
    except NoReverseMatch:
        return ""

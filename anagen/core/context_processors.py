from anagen import __version__
from anagen.accounts.models import Role


def staff(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"ANAGEN_VERSION": __version__}
    r = user.roles
    return {
        "nav": {
            "inbox": bool(r & {Role.ADMIN, Role.COORDINATOR}),
            "patients": bool(r & {Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN}),
            "calendar": bool(r & {Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN}),
            "screening_rules": bool(r & {Role.ADMIN, Role.CLINICIAN}),
            "treatments": bool(r & {Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN}),
            "lots": bool(r & {Role.ADMIN, Role.CLINICIAN}),
            "samples": bool(r & {Role.ADMIN, Role.CLINICIAN, Role.LAB_SCIENTIST}),
            # The same roles as anagen.assessments.validation.REPORT_ROLES.
            "devices": bool(r & {Role.ADMIN, Role.CLINICIAN}),
            "outcomes": bool(r & {Role.ADMIN, Role.CLINICIAN, Role.STATISTICIAN}),
            "studies": bool(r & {Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN, Role.EVALUATOR, Role.STATISTICIAN}),
            "admin": Role.ADMIN in r,
        },
        "user_roles": sorted(user.roles),
        "ANAGEN_VERSION": __version__,
    }

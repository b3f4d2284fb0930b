from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "anagen.studies"
    label = "studies"
    verbose_name = "Clinical studies"

    def ready(self) -> None:
        from anagen.audit import track

        from .models import (Allocation, AllocationCorrection, Arm, CodeBreak, ProtocolVersion, Signature, Study,
                             StudyMember, Subject)

        track(Study)
        track(Arm)
        track(ProtocolVersion)
        track(Signature)
        track(StudyMember)
        track(Subject)
        # Who randomized whom and when is audited; the arm is not copied into the log, where anyone
        # with history access could read it (the allocation row itself is immutable).
        track(Allocation, include_fields=["study", "subject", "sequence_number", "randomized_at", "randomized_by"])
        track(AllocationCorrection)
        track(CodeBreak)
        # RandomizationSecret is deliberately not tracked: an audit entry would copy the seed.
        from .models_quality import DataQuery, LockEvent, SideMeasurement, SourceVerification

        for model in (DataQuery, SourceVerification, SideMeasurement, LockEvent):
            track(model)
        from .sections import register_patient_section

        register_patient_section()

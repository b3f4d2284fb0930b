from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "anagen.studies"
    label = "studies"
    verbose_name = "Clinical studies"

    def ready(self) -> None:
        from anagen.audit import track

        from .models import (Allocation, AllocationCorrection, Arm, CodeBreak, Deviation, ProtocolVersion, Signature,
                             Study, StudyMember, Subject)

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
        track(Deviation)
        # RandomizationSecret is deliberately not tracked: an audit entry would copy the seed.
        from .models_reading import Adjudication, CodedImage, Reading, ReadingPlan

        # A coded image's entry names the study and the code, never the original image it copies.
        track(CodedImage, include_fields=["study", "code"])
        track(Reading)
        track(Adjudication)
        track(ReadingPlan)
        # A study subject's analysed target-area image enters the reading queue by itself.
        from django.db.models.signals import post_save

        from anagen.assessments.models import TrichogramAnalysis

        from .reading_services import _analysis_saved

        post_save.connect(_analysis_saved, sender=TrichogramAnalysis, dispatch_uid="studies_reading_code")
        from .models_quality import DataQuery, LockEvent, SideMeasurement, SourceVerification

        for model in (DataQuery, SourceVerification, SideMeasurement, LockEvent):
            track(model)
        # Treatment delivery: who prepared and who injected, when, and the label; the arm and the
        # lot of a syringe, and the arm of a study lot, stay out of the log (as for Allocation).
        from anagen.treatments import blinded

        from . import blinding
        from .models_delivery import Preparation, StudyLot, Syringe

        track(StudyLot, include_fields=["study", "added_by", "added_at"])
        track(Preparation)
        # A discard is logged with who and when; its reason, written by the unblinded preparer and
        # free to name the product, stays on the syringe, shown to the unblinded only.
        track(Syringe, include_fields=["preparation", "side", "label", "quantity", "procedure", "injected_by",
                                       "injected_at", "filled_at", "filled_by", "discarded_at", "discarded_by"])
        blinded.register(hidden_lot_ids=blinding.hidden_lot_ids, procedure_notes=blinding.procedure_notes)
        from .sections import register_patient_section

        register_patient_section()
        try:
            from . import fhir
        except ImportError:  # the FHIR export is not installed
            return
        fhir.register()

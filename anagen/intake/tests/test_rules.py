"""Pure submission rules: no database."""

from anagen.intake import rules


def _clean(**over):
    data = dict(kind="consultation", name="Jane Doe", email="", phone="07700 900123", concern="Thinning crown",
                preferred_times="", consent_to_contact=True, has_clinic=False, prefers_video=True)
    data.update(over)
    return rules.clean_submission(**data)


def test_a_good_submission_is_cleaned():
    clean, problems = _clean(phone="+44 7700 900 123", name="  Jane   Doe ")
    assert problems == {} and clean["phone"] == "+447700900123" and clean["name"] == "Jane Doe"


def test_empty_fields_each_get_a_message():
    _, problems = _clean(name="", phone="", email="", concern="", consent_to_contact=False, prefers_video=False)
    assert set(problems) == {"name", "email", "concern", "consent_to_contact", "preferred_clinic"}


def test_a_5000_character_concern_is_refused_naming_the_limit():
    _, problems = _clean(concern="x" * 5000)
    assert "5,000 characters" in problems["concern"] and "limit is 2,000" in problems["concern"]
    _, problems = _clean(concern="x" * rules.CONCERN_MAX)
    assert problems == {}


def test_names_split_into_first_and_last():
    assert rules.split_name("Mary Anne Smith") == ("Mary Anne", "Smith")
    assert rules.split_name("Jan van der Berg") == ("Jan", "van der Berg")
    assert rules.split_name("Cher") == ("Cher", "")

"""Forms for the core team's set-up screens."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WaveForm(FlaskForm):  # type: ignore[misc]
    """A new wave and its instruments."""

    name = StringField(
        "Wave name", validators=[DataRequired("Enter a name for the wave"), Length(max=120)]
    )
    instruments = MultiCheckboxField(
        "Questionnaires", validators=[DataRequired("Choose at least one questionnaire")]
    )
    previous = SelectField("Previous wave (for trends)", choices=[], validate_choice=False)


class SiteForm(FlaskForm):  # type: ignore[misc]
    """A school or area added by hand."""

    code = StringField(
        "Site ID", validators=[DataRequired("Enter a short site ID, like S04"), Length(max=40)]
    )
    name = StringField("Name", validators=[DataRequired("Enter the name"), Length(max=200)])
    kind = SelectField(
        "Kind",
        choices=choices([("school", "School"), ("area", "Neighbourhood area")]),
        default="school",
    )
    postcodes = StringField(
        "Postcode prefixes (areas only)", validators=[Optional(), Length(max=2000)]
    )
    population = IntegerField(
        "Pupils on roll or households",
        validators=[Optional(), NumberRange(min=0, message="Enter 0 or more")],
    )


class SitesUploadForm(FlaskForm):  # type: ignore[misc]
    """A CSV of sites."""

    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload")])


class EditClassForm(FlaskForm):  # type: ignore[misc]
    """A class's name, year group and size."""

    name = StringField(
        "Class name", validators=[DataRequired("Enter the class name, like 6A"), Length(max=80)]
    )
    year_group = IntegerField(
        "Year group",
        validators=[
            DataRequired("Enter the year group, like 6"),
            NumberRange(min=1, max=13, message="Enter a year group from 1 to 13"),
        ],
    )
    size = IntegerField(
        "Pupils in the class",
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message="Enter a number from 1 to 100"),
        ],
    )


class ClassForm(EditClassForm):
    """A class in a school, with its teacher PIN."""

    pin = StringField(
        "Teacher PIN (4 to 8 digits)",
        validators=[Optional(), Regexp(r"^\d{4,8}$", message="The PIN must be 4 to 8 digits")],
    )


class PinForm(FlaskForm):  # type: ignore[misc]
    """A new teacher PIN for a class."""

    pin = StringField(
        "New teacher PIN (4 to 8 digits)",
        validators=[
            DataRequired("Enter a PIN"),
            Regexp(r"^\d{4,8}$", message="The PIN must be 4 to 8 digits"),
        ],
    )


class CodesForm(FlaskForm):  # type: ignore[misc]
    """Issue codes for a site in a wave."""

    site = SelectField("School or area", choices=[], validate_choice=False)
    instrument = SelectField("Questionnaire", choices=[], validate_choice=False)
    kind = SelectField(
        "What to issue",
        choices=choices(
            [
                ("class", "A class code for every class that has none yet"),
                ("area", "An area link"),
                ("token", "One-time codes for letters"),
            ]
        ),
    )
    count = IntegerField(
        "How many one-time codes",
        default=50,
        validators=[Optional(), NumberRange(min=1, max=2000, message="Enter 1 to 2000")],
    )


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """A button that only needs CSRF protection."""


class EditSiteForm(FlaskForm):  # type: ignore[misc]
    """A school's or area's name, population and postcodes."""

    name = StringField("Name", validators=[DataRequired("Enter the name"), Length(max=200)])
    population = IntegerField(
        "Pupils on roll or households",
        validators=[Optional(), NumberRange(min=0, message="Enter 0 or more")],
    )
    postcodes = StringField(
        "Postcode prefixes (areas only)", validators=[Optional(), Length(max=2000)]
    )


class RenameWaveForm(FlaskForm):  # type: ignore[misc]
    """A wave's new name."""

    name = StringField(
        "Wave name", validators=[DataRequired("Enter a name for the wave"), Length(max=120)]
    )


class FindResponseForm(FlaskForm):  # type: ignore[misc]
    """A response id to look up (from an export, or a teacher's report)."""

    class Meta:
        csrf = False  # a GET search that changes nothing

    id = StringField(
        "Response id", validators=[DataRequired("Enter the response id"), Length(max=40)]
    )


class DeleteResponseForm(FlaskForm):  # type: ignore[misc]
    """Why a response is deleted (kept in the audit log)."""

    reason = StringField(
        "Why is it being deleted?",
        validators=[DataRequired("Say why, for the audit log"), Length(max=200)],
    )


class MoveResponseForm(FlaskForm):  # type: ignore[misc]
    """The class a response moves to."""

    to = SelectField("Move it to", choices=[], validate_choice=False)

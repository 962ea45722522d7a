"""Forms of field mode and of the core team's review."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired
from wtforms import EmailField, FileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class WithdrawForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    """A respondent's receipt code."""

    code = StringField(
        "Receipt code",
        validators=[DataRequired("Enter the receipt code you were given"), Length(max=40)],
    )


class ReviewForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    """Approve, reject (with a reason) or flag an interview."""

    action = SelectField(
        "Decision",
        choices=[
            SelectChoice("approve", "Approve: counts in analysis"),
            SelectChoice("reject", "Reject: does not count (give a reason)"),
            SelectChoice("flag", "Flag for a second look"),
            SelectChoice("unflag", "Remove the flag"),
        ],
    )
    note = TextAreaField("Reason or note", validators=[Optional(), Length(max=2000)])


class AssignmentForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    """Assign a researcher to a wave, an area and a questionnaire."""

    user_id = SelectField("Researcher", coerce=int)
    wave_id = SelectField("Wave", coerce=int)
    site_id = SelectField("Area", coerce=int)
    instrument_id = SelectField("Questionnaire")


class InviteForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    """Create a researcher account."""

    email = EmailField(
        "Email address", validators=[DataRequired("Enter an email address"), Length(max=254)]
    )
    display_name = StringField(
        "Name shown to the team",
        validators=[DataRequired("Enter a name"), Length(max=120)],
    )


class UploadForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    """A file of unsent interviews exported from a researcher's device."""

    file = FileField("File of unsent interviews", validators=[FileRequired("Choose a file")])

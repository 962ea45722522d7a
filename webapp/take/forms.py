"""Forms for entering a code, resuming, and the teacher's sign-in (Flask-WTF, with CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class StartForm(FlaskForm):  # type: ignore[misc]
    """A class code or a code from a letter."""

    code = StringField(
        _l("Your code"), validators=[DataRequired(_l("Enter your code")), Length(max=40)]
    )


class ResumeForm(FlaskForm):  # type: ignore[misc]
    """The code used to start, and the resume word shown on every page."""

    code = StringField(
        _l("Your class code or letter code"),
        validators=[DataRequired(_l("Enter the code you started with")), Length(max=40)],
    )
    word = StringField(
        _l("Your resume word"),
        validators=[DataRequired(_l("Enter your resume word")), Length(max=60)],
    )


class TeacherForm(FlaskForm):  # type: ignore[misc]
    """A class code and the class's teacher PIN."""

    code = StringField(
        _l("Class code"), validators=[DataRequired(_l("Enter the class code")), Length(max=40)]
    )
    pin = PasswordField(
        _l("Teacher PIN"), validators=[DataRequired(_l("Enter the teacher PIN")), Length(max=40)]
    )

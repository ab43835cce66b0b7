"""Sign-in, sign-out and staff accounts."""
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from referrals.auth import passwords
from referrals.forms import KindlyForm


class LoginForm(KindlyForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            # Longer than any account's address, and than the attempts table allows.
            Length(max=254, message="Email addresses are at most 254 characters"),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])
    remember = BooleanField("Keep me signed in on this device for 7 days", default=False)


class ChangePasswordForm(KindlyForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password")])
    # InputRequired, not DataRequired: a new password of spaces gets the length rule's
    # message, which says what is wrong with it.
    new_password = PasswordField("New password",
                                 validators=[InputRequired("Enter a new password")])
    confirm_password = PasswordField(
        "Type your new password again",
        validators=[InputRequired("Enter your new password again"),
                    EqualTo("new_password", "The new passwords do not match")],
    )

    def validate_new_password(self, field):
        if (message := passwords.problem(field.data)) is not None:
            raise ValidationError(message)

    def add_error(self, field_name: str, message: str) -> None:
        field = self._fields.get(field_name)
        if field is None:
            self.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]

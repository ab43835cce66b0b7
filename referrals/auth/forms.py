from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

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

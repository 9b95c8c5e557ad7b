from tests.intake.conftest import _twilio_settings, ticket_in_rating, web  # noqa: F401

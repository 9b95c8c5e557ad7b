"""Twilio webhook routes (mounted under /webhooks/)."""

from django.urls import path

from tickets.intake.webhooks import sms, voice

urlpatterns = [
    path("twilio/voice/", voice.voice_incoming, name="twilio-voice"),
    path("twilio/voice/gather/", voice.voice_gather, name="twilio-voice-gather"),
    path("twilio/voice/recording/", voice.voice_recording, name="twilio-voice-recording"),
    path("twilio/voice/status/", voice.voice_status, name="twilio-voice-status"),
    path("twilio/sms/", sms.sms_incoming, name="twilio-sms"),
    path("twilio/sms/status/", sms.sms_status, name="twilio-sms-status"),
]

"""Akkoord: e-mail marketing and consent under the GDPR."""

"""Background work of the sign-up forms."""

from django_tasks import task


@task()
def expire_unconfirmed_signups() -> dict:
    from akkoord.signup.expiry import expire_unconfirmed

    report = expire_unconfirmed()
    return {"signups_removed": report.signups_removed, "contacts_removed": report.contacts_removed}

from django.db import migrations


def install(apps, schema_editor):
    from akkoord.consent.guards import install_guards

    install_guards(schema_editor.connection)


def drop(apps, schema_editor):
    from akkoord.consent.guards import drop_guards

    drop_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(install, drop)]

"""DRF's authtoken app is gone (accounts.ApiToken replaced it). Its table held every key in
clear and would stay behind in the database, so it is dropped, with the app's migration
records (were the app ever installed again, its migrations would then build the table
afresh). A database that never had it (every new one) is left as it is."""

from typing import Any

from django.db import migrations

TABLE = "authtoken_token"


def drop_cleartext_tokens(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    schema_editor.execute(f"DROP TABLE {connection.ops.quote_name(TABLE)}")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_token")]

    operations = [
        migrations.RunPython(drop_cleartext_tokens, migrations.RunPython.noop, elidable=True),
    ]

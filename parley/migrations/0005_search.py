"""Full-text search over live messages (SPEC 10): a GIN index on PostgreSQL, an FTS5
table and its triggers on SQLite (parley.searchindex describes both). Each operation
does nothing on the other vendor."""

from django.db import migrations

from parley import searchindex


def _run(schema_editor, *, postgresql: list[str], sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    for statement in postgresql if vendor == "postgresql" else sqlite if vendor == "sqlite" else []:
        schema_editor.execute(statement)


def forward(apps, schema_editor) -> None:
    _run(schema_editor, postgresql=[searchindex.PG_CREATE], sqlite=searchindex.sqlite_forward())


def backward(apps, schema_editor) -> None:
    _run(schema_editor, postgresql=[searchindex.PG_DROP], sqlite=searchindex.sqlite_backward())


class Migration(migrations.Migration):
    dependencies = [
        ("parley", "0004_chat_features"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Separate from 0005: PostgreSQL refuses to alter a table with the pending
    foreign-key checks that 0005's data step leaves in its transaction."""

    dependencies = [
        ("contacts", "0005_product_categories"),
    ]

    operations = [
        migrations.AlterField(
            model_name='purchase',
            name='category',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='purchases', to='contacts.productcategory', verbose_name='product category'),
        ),
        migrations.AddIndex(
            model_name='purchase',
            index=models.Index(fields=['contact', 'category', 'purchased_on'], name='purchase_contact_category'),
        ),
    ]

# Team storage quotas, version deletion with retention, and upload idempotency keys.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0008_alias_traffic_split'),
    ]

    operations = [
        migrations.AddField(
            model_name='team',
            name='storage_quota_bytes',
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='modelversion',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('validating', 'Validating'), ('ready', 'Ready'), ('failed', 'Failed'), ('archived', 'Archived'), ('deleted', 'Deleted')], default='pending', max_length=20),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='idempotency_key',
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='deleted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='purged_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.UniqueConstraint(condition=models.Q(('idempotency_key__isnull', False)), fields=('model', 'idempotency_key'), name='uniq_model_idempotency_key'),
        ),
    ]

"""Promotion requests (four-eyes approval of alias moves); new models protect production by default.

Existing models keep the protected list they have (usually empty): the new default applies to models
created from now on, so an upgrade changes no alias rule under anyone's feet. Owners protect an existing
model with PATCH /api/v1/models/{name} {"protected_aliases": ["production"]}.
"""

import django.core.validators
import django.db.models.deletion
import registry.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0006_validation_lease'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='registeredmodel',
            name='protected_aliases',
            field=models.JSONField(blank=True, default=registry.models.default_protected_aliases),
        ),
        migrations.CreateModel(
            name='PromotionRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('alias', models.CharField(max_length=50, validators=[django.core.validators.RegexValidator('^[a-z][a-z0-9_-]{0,49}$', "Use 1-50 lowercase letters, digits, '_' or '-', starting with a letter.")])),
                ('purpose', models.CharField(choices=[('move', 'Move'), ('rollout', 'Rollout')], default='move', max_length=20)),
                ('base_moved_at', models.DateTimeField(blank=True, null=True)),
                ('status', models.CharField(choices=[('open', 'Open'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('cancelled', 'Cancelled'), ('stale', 'Stale')], default='open', max_length=20)),
                ('reason', models.TextField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_reason', models.TextField(blank=True, default='')),
                ('consumed_at', models.DateTimeField(blank=True, null=True)),
                ('consumed_by', models.CharField(blank=True, default='', max_length=100)),
                ('base_version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.modelversion')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('model', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotion_requests', to='registry.registeredmodel')),
                ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotion_requests', to='registry.modelversion')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['model', 'alias', 'status'], name='promotion_alias_status')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('model', 'alias'), name='uniq_open_promotion_per_alias')],
            },
        ),
    ]

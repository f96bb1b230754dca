# Refunds recorded as requested before the gateway is asked; webhook events flagged unprocessable.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0006_cashfree_routing'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='refund',
            name='refund_status_valid',
        ),
        migrations.AddField(
            model_name='refund',
            name='receipt',
            field=models.CharField(blank=True, help_text='Our id for a refund we asked for, sent to the gateway', max_length=40, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='unprocessable',
            field=models.BooleanField(default=False, help_text='Refused: see result'),
        ),
        migrations.AlterField(
            model_name='refund',
            name='gateway_refund_id',
            field=models.CharField(blank=True, help_text='Empty until the gateway accepted the refund', max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='refund',
            name='status',
            field=models.CharField(choices=[('requested', 'Requested (asking the gateway)'), ('pending', 'Pending'), ('processed', 'Processed'), ('failed', 'Failed'), ('cancelled', 'Cancelled (the gateway never took it)')], default='pending', max_length=20),
        ),
        migrations.AddConstraint(
            model_name='refund',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['requested', 'pending', 'processed', 'failed', 'cancelled'])), name='refund_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='refund',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('credits_reversed', 0), ('credits_shortfall', 0), ('plan_reverted', False), ('receipt__isnull', False), ('status__in', ['requested', 'cancelled'])), models.Q(('gateway_refund_id__isnull', False), ('status__in', ['pending', 'processed', 'failed'])), _connector='OR'), name='refund_gateway_id_once_accepted'),
        ),
    ]

# Renewal orders (issue 12): the period an order pays for, one renewal order per subscription and period, and no gateway order until `pay`.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0008_subscription_change_orders'),
        ('plans', '0004_field_rules'),
        ('subscriptions', '0005_renewal'),
        ('tenants', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='paymentorder',
            name='period_end',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='paymentorder',
            name='period_start',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='paymentorder',
            name='gateway_order_id',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AddConstraint(
            model_name='paymentorder',
            constraint=models.UniqueConstraint(condition=models.Q(('purpose', 'renewal')), fields=('subscription', 'period_start'), name='payorder_one_renewal_per_period'),
        ),
        migrations.AddConstraint(
            model_name='paymentorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('purpose', 'renewal'), _negated=True), models.Q(('period_end__gt', models.F('period_start')), ('period_end__isnull', False), ('period_start__isnull', False)), _connector='OR'), name='payorder_renewal_has_period'),
        ),
        migrations.AddConstraint(
            model_name='paymentorder',
            constraint=models.CheckConstraint(condition=models.Q(('gateway_order_id__isnull', False), models.Q(('purpose', 'renewal'), ('status__in', ['created', 'failed'])), _connector='OR'), name='payorder_gateway_order_unless_unopened_renewal'),
        ),
    ]

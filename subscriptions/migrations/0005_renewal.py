# The period close (issue 12): unpaid_since (dunning), renewal notices, event kinds of the close (after change-plan's 0004).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('plans', '0004_field_rules'),
        ('subscriptions', '0004_plan_change'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RenewalNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_end', models.DateTimeField(help_text='The end of the period the notice announces')),
                ('status', models.CharField(choices=[('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed (retried next run)'), ('no_address', 'No email address')], default='sending', max_length=20)),
                ('amount_paise', models.BigIntegerField(default=0, help_text='Estimated renewal amount, GST included')),
                ('email', models.CharField(blank=True, default='', max_length=254)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('last_error', models.CharField(blank=True, default='', max_length=500)),
                ('claimed_at', models.DateTimeField()),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-period_end', '-id'],
            },
        ),
        migrations.AddField(
            model_name='subscription',
            name='unpaid_since',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='subscriptionevent',
            name='kind',
            field=models.CharField(choices=[('provisioned', 'Provisioned'), ('plan_changed', 'Plan changed'), ('usage_reset', 'Usage reset'), ('expired', 'Ended (period over, unpaid, or fell back)'), ('checkout_opened', 'Checkout opened (pending payment)'), ('superseded', 'Superseded by a newer checkout'), ('created', 'Created without online payment'), ('activated', 'Activated'), ('payment_not_applied', 'Payment received, nothing delivered'), ('suspended', 'Suspended'), ('cancel_scheduled', 'Cancellation at period end'), ('cancelled', 'Cancelled'), ('updated', 'Settings changed'), ('renewed', 'Renewed (offline)'), ('merged', 'Closed by an account merge'), ('period_renewed', 'Period closed, next period started'), ('past_due', 'Renewal unpaid: past due'), ('renewal_paid', 'Renewal paid'), ('renewal_notice', 'Upcoming renewal notice sent'), ('change_requested', 'Upgrade ordered, awaiting payment'), ('change_scheduled', 'Plan change scheduled for the period end'), ('change_cleared', 'Scheduled plan change cleared')], max_length=30),
        ),
        migrations.AddIndex(
            model_name='subscription',
            index=models.Index(condition=models.Q(('unpaid_since__isnull', False)), fields=['unpaid_since'], name='subscription_unpaid_idx'),
        ),
        migrations.AddConstraint(
            model_name='subscription',
            constraint=models.CheckConstraint(condition=models.Q(('unpaid_since__isnull', True), ('current_period_start__isnull', False), _connector='OR'), name='subscription_unpaid_only_when_started'),
        ),
        migrations.AddField(
            model_name='renewalnotice',
            name='subscription',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='renewal_notices', to='subscriptions.subscription'),
        ),
        migrations.AddConstraint(
            model_name='renewalnotice',
            constraint=models.UniqueConstraint(fields=('subscription', 'period_end'), name='renewalnotice_one_per_period'),
        ),
        migrations.AddConstraint(
            model_name='renewalnotice',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['sending', 'sent', 'failed', 'no_address'])), name='renewalnotice_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='renewalnotice',
            constraint=models.CheckConstraint(condition=models.Q(('amount_paise__gte', 0)), name='renewalnotice_amount_non_negative'),
        ),
        migrations.AddConstraint(
            model_name='renewalnotice',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='renewalnotice_sent_has_time'),
        ),
    ]
